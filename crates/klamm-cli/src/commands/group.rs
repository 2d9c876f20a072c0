//! `klamm group …`: consumer groups: list, describe (members and lag), offsets, seek, delete.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use klamm_admin::{
    GroupDescription, GroupOffsets, GroupOffsetsSpec, ListConsumerGroupsOptions,
    ListGroupOffsetsOptions, ListOffsetsOptions, OffsetAndMetadata, OffsetSpec, Results,
    TopicPartition, TopicRef,
};
use serde::Serialize;

use super::{quoted, Context};
use crate::output::{
    self, assignment, opt, print_json, report, report_batch, Failure, Status, Table,
};

/// Consumer group commands.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// List groups on every broker.
    #[command(after_help = "Example:\n  klamm group list -o json")]
    List {
        /// Include groups that are not consumer groups (Connect, share groups …).
        #[arg(long)]
        all_types: bool,
    },
    /// Describe groups: state, members, their hosts and assignments, and lag.
    #[command(after_help = "Example:\n  klamm group describe billing audit")]
    Describe {
        /// Group ids.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Committed offset, log end offset and lag of each partition of a group.
    #[command(after_help = "Example:\n  klamm group offsets billing -o json")]
    Offsets {
        /// Group id.
        name: String,
    },
    /// Move a group's committed offsets on a topic (the group must have no active members).
    #[command(after_help = "\
Examples:
  klamm group seek billing --topic orders --to-earliest
  klamm group seek billing --topic orders --partition 0 --to-offset 1200
  klamm group seek billing --topic orders --to-timestamp 1767225600000 --dry-run")]
    Seek {
        /// Group id.
        name: String,
        /// Topic.
        #[arg(long)]
        topic: String,
        /// Only these partitions (default: all), repeatable.
        #[arg(long = "partition")]
        partitions: Vec<i32>,
        /// Where to.
        #[command(flatten)]
        target: SeekTarget,
        /// Print the new offsets without committing them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete groups (they must have no active members).
    #[command(after_help = "Example:\n  klamm group delete billing-old")]
    Delete {
        /// Group ids.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// Exactly one seek target.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SeekTarget {
    /// The log start offset.
    #[arg(long)]
    to_earliest: bool,
    /// The log end offset.
    #[arg(long)]
    to_latest: bool,
    /// This offset on every chosen partition.
    #[arg(long, value_name = "OFFSET")]
    to_offset: Option<i64>,
    /// The first offset at or after this time (ms since the epoch).
    #[arg(long, value_name = "MS")]
    to_timestamp: Option<i64>,
}

/// Runs a group command.
pub async fn run(context: &Context, command: GroupCommand) -> Result<Status, Failure> {
    match command {
        GroupCommand::List { all_types } => list(context, all_types).await,
        GroupCommand::Describe { names } => describe(context, names).await,
        GroupCommand::Offsets { name } => offsets(context, name).await,
        GroupCommand::Seek {
            name,
            topic,
            partitions,
            target,
            dry_run,
        } => seek(context, name, topic, partitions, target, dry_run).await,
        GroupCommand::Delete { names } => delete(context, names).await,
    }
}

fn group_name(name: &str) -> String {
    quoted("group", name)
}

async fn list(context: &Context, all_types: bool) -> Result<Status, Failure> {
    let options = ListConsumerGroupsOptions::default()
        .timeout(context.timeout)
        .include_non_consumer(all_types);
    let listing = context
        .admin
        .list_consumer_groups(options)
        .await
        .map_err(|e| Failure::admin("listing groups", &e))?;
    let mut groups = listing.groups;
    groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
    if context.json() {
        print_json(&groups)?;
    } else {
        let mut table = Table::new(&["GROUP", "TYPE", "STATE", "PROTOCOL", "COORDINATOR"]);
        for group in &groups {
            table.row(vec![
                group.group_id.clone(),
                opt(group.group_type.as_ref().map(|v| v.as_str())),
                opt(group.state.as_ref().map(|v| v.as_str())),
                group.protocol_type.clone(),
                group.coordinator.to_string(),
            ]);
        }
        table.print();
    }
    for (broker, error) in &listing.errors {
        report(&Failure::admin(
            quoted("broker", &broker.to_string()),
            error,
        ));
    }
    // Groups from the brokers that answered are still worth showing.
    Ok(match (listing.errors.is_empty(), groups.is_empty()) {
        (true, _) => Status::Success,
        (false, true) => Status::Failure,
        (false, false) => Status::Partial,
    })
}

/// A group's description with its offsets and lag, for JSON.
#[derive(Serialize)]
struct GroupDetail<'a> {
    #[serde(flatten)]
    description: &'a GroupDescription,
    offsets: Option<&'a GroupOffsets>,
}

async fn describe(context: &Context, names: Vec<String>) -> Result<Status, Failure> {
    let described = context
        .admin
        .describe_consumer_groups(
            &names,
            klamm_admin::DescribeConsumerGroupsOptions::default().timeout(context.timeout),
        )
        .await
        .map_err(|e| Failure::admin("describing groups", &e))?;
    let offsets = list_offsets(context, &names).await?;
    let status = report_batch(&described, |name| group_name(name));
    let details: Vec<GroupDetail> = output::successes(&described)
        .into_iter()
        .map(|description| GroupDetail {
            description,
            offsets: offsets
                .get(&description.group_id)
                .and_then(|r| r.as_ref().ok()),
        })
        .collect();
    if context.json() {
        print_json(&details)?;
        return Ok(status);
    }
    for (i, detail) in details.iter().enumerate() {
        let group = detail.description;
        if i > 0 {
            println!();
        }
        println!(
            "group \"{}\": {} ({} group, assignor {}, {} members, total lag {})",
            group.group_id,
            group.state,
            group.group_type,
            opt(group.assignor.as_deref().filter(|a| !a.is_empty())),
            group.members.len(),
            opt(detail.offsets.and_then(|o| o.total_lag)),
        );
        if !group.members.is_empty() {
            let mut members = Table::new(&["MEMBER", "CLIENT_ID", "HOST", "ASSIGNMENT"]);
            for member in &group.members {
                let assigned = assignment(
                    member
                        .assignment
                        .iter()
                        .map(|tp| (tp.topic.as_str(), tp.partitions.as_slice())),
                );
                let assigned = match &member.decode_error {
                    Some(error) => format!("{assigned} (undecodable: {error})"),
                    None => assigned,
                };
                members.row(vec![
                    member.member_id.clone(),
                    member.client_id.clone(),
                    member.client_host.clone(),
                    assigned,
                ]);
            }
            members.print();
        }
        if let Some(offsets) = detail.offsets {
            offsets_table(offsets).print();
        }
    }
    Ok(status)
}

async fn list_offsets(
    context: &Context,
    names: &[String],
) -> Result<Results<String, GroupOffsets>, Failure> {
    let specs: Vec<GroupOffsetsSpec> = names.iter().map(GroupOffsetsSpec::all).collect();
    let options = ListGroupOffsetsOptions::default().timeout(context.timeout);
    context
        .admin
        .list_consumer_group_offsets(&specs, options)
        .await
        .map_err(|e| Failure::admin("fetching group offsets", &e))
}

fn offsets_table(offsets: &GroupOffsets) -> Table {
    let mut table = Table::new(&["TOPIC", "PARTITION", "COMMITTED", "LOG_END", "LAG"]);
    for p in &offsets.partitions {
        table.row(vec![
            p.topic.clone(),
            p.partition.to_string(),
            opt(p.offset),
            opt(p.log_end_offset),
            opt(p.lag),
        ]);
    }
    table
}

async fn offsets(context: &Context, name: String) -> Result<Status, Failure> {
    let results = list_offsets(context, std::slice::from_ref(&name)).await?;
    let status = report_batch(&results, |name| group_name(name));
    if let Some(Ok(offsets)) = results.get(&name) {
        if context.json() {
            print_json(offsets)?;
        } else {
            offsets_table(offsets).print();
        }
    }
    Ok(status)
}

async fn seek(
    context: &Context,
    name: String,
    topic: String,
    partitions: Vec<i32>,
    target: SeekTarget,
    dry_run: bool,
) -> Result<Status, Failure> {
    let partitions = if partitions.is_empty() {
        topic_partitions(context, &topic).await?
    } else {
        partitions
    };
    let chosen = partitions
        .iter()
        .map(|p| TopicPartition::new(topic.clone(), *p));
    let new_offsets: BTreeMap<TopicPartition, i64> = match target.to_offset {
        Some(offset) => chosen.map(|tp| (tp, offset)).collect(),
        None => {
            let spec = match (target.to_earliest, target.to_latest, target.to_timestamp) {
                (true, _, _) => OffsetSpec::Earliest,
                (_, true, _) => OffsetSpec::Latest,
                (_, _, Some(ms)) => OffsetSpec::Timestamp(ms),
                _ => unreachable!("clap requires exactly one target"),
            };
            let request: Vec<(TopicPartition, OffsetSpec)> = chosen.map(|tp| (tp, spec)).collect();
            let options = ListOffsetsOptions::default().timeout(context.timeout);
            let listed = context
                .admin
                .list_offsets(request, options)
                .await
                .map_err(|e| Failure::admin(quoted("topic", &topic), &e))?;
            if report_batch(&listed, super::records::partition_name) != Status::Success {
                return Ok(Status::Failure);
            }
            let mut offsets = BTreeMap::new();
            for (tp, listed) in listed.into_iter() {
                // No record at or after the timestamp: the end of the log, as Kafka's tool does.
                let offset = match listed.ok().and_then(|l| l.offset) {
                    Some(offset) if offset >= 0 => offset,
                    _ => latest(context, &tp).await?,
                };
                offsets.insert(tp, offset);
            }
            offsets
        }
    };
    if !dry_run {
        let commit: BTreeMap<TopicPartition, OffsetAndMetadata> = new_offsets
            .iter()
            .map(|(tp, offset)| (tp.clone(), OffsetAndMetadata::new(*offset)))
            .collect();
        let results = context
            .admin
            .alter_consumer_group_offsets(
                &name,
                &commit,
                klamm_admin::AlterGroupOffsetsOptions::default().timeout(context.timeout),
            )
            .await
            .map_err(|e| Failure::admin(group_name(&name), &e))?;
        let status = report_batch(&results, super::records::partition_name);
        if status != Status::Success {
            return Ok(status);
        }
    }
    #[derive(Serialize)]
    struct NewOffset<'a> {
        topic: &'a str,
        partition: i32,
        offset: i64,
    }
    let rows: Vec<NewOffset> = new_offsets
        .iter()
        .map(|(tp, offset)| NewOffset {
            topic: &tp.topic,
            partition: tp.partition,
            offset: *offset,
        })
        .collect();
    if context.json() {
        print_json(&rows)?;
    } else {
        let mut table = Table::new(&["TOPIC", "PARTITION", "NEW_OFFSET"]);
        for row in &rows {
            table.row(vec![
                row.topic.to_owned(),
                row.partition.to_string(),
                row.offset.to_string(),
            ]);
        }
        table.print();
        if dry_run {
            println!("(dry run: nothing committed)");
        }
    }
    Ok(Status::Success)
}

async fn latest(context: &Context, tp: &TopicPartition) -> Result<i64, Failure> {
    let request = BTreeMap::from([(tp.clone(), OffsetSpec::Latest)]);
    let options = ListOffsetsOptions::default().timeout(context.timeout);
    let listed = context
        .admin
        .list_offsets(&request, options)
        .await
        .map_err(|e| Failure::admin(super::records::partition_name(tp), &e))?;
    match listed.get(tp) {
        Some(Ok(offset)) => offset
            .offset
            .ok_or_else(|| Failure::new(super::records::partition_name(tp), "no log end offset")),
        Some(Err(error)) => Err(Failure::admin(super::records::partition_name(tp), error)),
        None => Err(Failure::new(
            super::records::partition_name(tp),
            "no answer",
        )),
    }
}

/// Every partition index of a topic.
pub async fn topic_partitions(context: &Context, topic: &str) -> Result<Vec<i32>, Failure> {
    let described = context
        .admin
        .describe_topics(
            &[TopicRef::from(topic)],
            klamm_admin::DescribeTopicsOptions::default().timeout(context.timeout),
        )
        .await
        .map_err(|e| Failure::admin(quoted("topic", topic), &e))?;
    match described.into_inner().into_values().next() {
        Some(Ok(description)) => Ok(description.partitions.iter().map(|p| p.partition).collect()),
        Some(Err(error)) => Err(Failure::admin(quoted("topic", topic), &error)),
        None => Err(Failure::new(quoted("topic", topic), "not described")),
    }
}

async fn delete(context: &Context, names: Vec<String>) -> Result<Status, Failure> {
    let results = context
        .admin
        .delete_consumer_groups(
            &names,
            klamm_admin::DeleteConsumerGroupsOptions::default().timeout(context.timeout),
        )
        .await
        .map_err(|e| Failure::admin("deleting groups", &e))?;
    if context.json() {
        print_json(&results)?;
    } else {
        for (group, result) in results.iter() {
            if result.is_ok() {
                println!("deleted group \"{group}\"");
            }
        }
    }
    Ok(report_batch(&results, |name| group_name(name)))
}
