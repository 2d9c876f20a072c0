//! `klamm partition …`: reassign replicas, list ongoing reassignments, elect leaders.

use std::collections::BTreeMap;

use clap::{Subcommand, ValueEnum};
use klamm_admin::{ElectionType, TopicPartition};
use serde::Serialize;

use super::records::partition_name;
use super::Context;
use crate::output::{ids, label, print_json, report_batch, Failure, Status, Table};

/// Partition commands.
#[derive(Debug, Subcommand)]
pub enum PartitionCommand {
    /// Move a partition's replicas to other brokers (or cancel a move in progress).
    #[command(after_help = "\
Examples:
  klamm partition reassign --topic orders --partition 0 --replicas 2,3,4
  klamm partition reassign --topic orders --partition 0 --cancel")]
    Reassign {
        /// Topic.
        #[arg(long)]
        topic: String,
        /// Partition.
        #[arg(long)]
        partition: i32,
        /// The new replica list, preferred leader first.
        #[arg(
            long,
            value_delimiter = ',',
            required_unless_present = "cancel",
            conflicts_with = "cancel"
        )]
        replicas: Vec<i32>,
        /// Cancel the ongoing reassignment instead.
        #[arg(long)]
        cancel: bool,
    },
    /// List ongoing reassignments.
    #[command(after_help = "Example:\n  klamm partition reassignments -o json")]
    Reassignments,
    /// Elect leaders: the preferred replica (default) or, unclean, any live replica.
    #[command(after_help = "\
Examples:
  klamm partition elect-leaders                       # every partition, preferred
  klamm partition elect-leaders --topic orders --partition 0 --partition 3")]
    ElectLeaders {
        /// Election type.
        #[arg(long = "type", value_enum, default_value = "preferred")]
        election: Election,
        /// Only this topic's partitions.
        #[arg(long)]
        topic: Option<String>,
        /// Only these partitions of the topic, repeatable.
        #[arg(long = "partition", requires = "topic")]
        partitions: Vec<i32>,
    },
}

/// A leader election type.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Election {
    /// The first replica in the assignment.
    Preferred,
    /// Any live replica, even out of sync (may lose data).
    Unclean,
}

/// Runs a partition command.
pub async fn run(context: &Context, command: PartitionCommand) -> Result<Status, Failure> {
    match command {
        PartitionCommand::Reassign {
            topic,
            partition,
            replicas,
            cancel,
        } => {
            let target = (!cancel).then_some(replicas);
            let request = BTreeMap::from([(TopicPartition::new(topic, partition), target)]);
            let results = context
                .admin
                .alter_partition_reassignments(
                    request.clone(),
                    klamm_admin::AlterReassignmentsOptions::default().timeout(context.timeout),
                )
                .await
                .map_err(|e| Failure::admin("reassigning partitions", &e))?;
            if context.json() {
                print_json(&results)?;
            } else if results.all_ok() {
                let verb = if cancel { "cancelled" } else { "started" };
                for tp in results.keys() {
                    println!("{verb} reassignment of {}", partition_name(tp));
                }
            }
            Ok(report_batch(&results, partition_name))
        }
        PartitionCommand::Reassignments => reassignments(context).await,
        PartitionCommand::ElectLeaders {
            election,
            topic,
            partitions,
        } => {
            let election = match election {
                Election::Preferred => ElectionType::Preferred,
                Election::Unclean => ElectionType::Unclean,
            };
            let chosen: Option<Vec<TopicPartition>> = match topic {
                None => None,
                Some(topic) => {
                    let partitions = if partitions.is_empty() {
                        super::group::topic_partitions(context, &topic).await?
                    } else {
                        partitions
                    };
                    Some(
                        partitions
                            .into_iter()
                            .map(|p| TopicPartition::new(topic.clone(), p))
                            .collect(),
                    )
                }
            };
            let results = context
                .admin
                .elect_leaders(
                    election,
                    chosen.as_deref(),
                    klamm_admin::ElectLeadersOptions::default().timeout(context.timeout),
                )
                .await
                .map_err(|e| Failure::admin("electing leaders", &e))?;
            if context.json() {
                print_json(&results)?;
            } else {
                let mut table = Table::new(&["TOPIC", "PARTITION", "OUTCOME"]);
                for (tp, result) in results.iter() {
                    if let Ok(outcome) = result {
                        table.row(vec![
                            tp.topic.clone(),
                            tp.partition.to_string(),
                            label(outcome),
                        ]);
                    }
                }
                table.print();
            }
            Ok(report_batch(&results, partition_name))
        }
    }
}

async fn reassignments(context: &Context) -> Result<Status, Failure> {
    let ongoing = context
        .admin
        .list_partition_reassignments(
            klamm_admin::Selection::All,
            klamm_admin::ListReassignmentsOptions::default().timeout(context.timeout),
        )
        .await
        .map_err(|e| Failure::admin("listing reassignments", &e))?;
    #[derive(Serialize)]
    struct Row<'a> {
        topic: &'a str,
        partition: i32,
        replicas: &'a [i32],
        adding_replicas: &'a [i32],
        removing_replicas: &'a [i32],
    }
    let rows: Vec<Row> = ongoing
        .iter()
        .map(|(tp, r)| Row {
            topic: &tp.topic,
            partition: tp.partition,
            replicas: &r.replicas,
            adding_replicas: &r.adding_replicas,
            removing_replicas: &r.removing_replicas,
        })
        .collect();
    if context.json() {
        print_json(&rows)?;
        return Ok(Status::Success);
    }
    let mut table = Table::new(&["TOPIC", "PARTITION", "REPLICAS", "ADDING", "REMOVING"]);
    for row in &rows {
        table.row(vec![
            row.topic.to_owned(),
            row.partition.to_string(),
            ids(row.replicas),
            ids(row.adding_replicas),
            ids(row.removing_replicas),
        ]);
    }
    table.print();
    Ok(Status::Success)
}
