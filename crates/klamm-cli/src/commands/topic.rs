//! `klamm topic …`: create, list, describe, delete topics and add partitions.

use clap::Subcommand;
use klamm_admin::{
    CreatePartitionsOptions, CreateTopicsOptions, DeleteTopicsOptions, NewPartitions, NewTopic,
    TopicRef,
};

use super::{quoted, Context};
use crate::cli::key_value;
use crate::output::{self, ids, label, opt, print_json, report_batch, Failure, Status, Table};

/// Topic commands.
#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Create a topic (and wait until every broker knows it).
    #[command(after_help = "\
Examples:
  klamm topic create orders --partitions 6 --replication-factor 3
  klamm topic create audit --partitions 1 --replication-factor 1 --config cleanup.policy=compact
  klamm topic create orders --partitions 6 --replication-factor 3 --dry-run")]
    Create {
        /// Topic name.
        name: String,
        /// Number of partitions.
        #[arg(long)]
        partitions: i32,
        /// Replicas of each partition.
        #[arg(long)]
        replication_factor: i16,
        /// Topic config, repeatable.
        #[arg(long = "config", value_name = "KEY=VALUE", value_parser = key_value)]
        configs: Vec<(String, String)>,
        /// Only validate the request on the controller; create nothing.
        #[arg(long)]
        dry_run: bool,
        /// Return as soon as the controller answers, without waiting for broker metadata.
        #[arg(long)]
        no_wait: bool,
    },
    /// List topics.
    #[command(after_help = "Examples:\n  klamm topic list\n  klamm topic list --internal -o json")]
    List {
        /// Include internal topics (__consumer_offsets …).
        #[arg(long)]
        internal: bool,
    },
    /// Describe topics: partitions, leaders, replicas, ISR.
    #[command(after_help = "Example:\n  klamm topic describe orders payments")]
    Describe {
        /// Topic names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Delete topics (and wait until no broker lists them).
    #[command(after_help = "Example:\n  klamm topic delete orders payments")]
    Delete {
        /// Topic names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Raise a topic's partition count.
    #[command(after_help = "Example:\n  klamm topic add-partitions orders --total 12")]
    AddPartitions {
        /// Topic name.
        name: String,
        /// The new total number of partitions.
        #[arg(long)]
        total: i32,
        /// Only validate the request.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs a topic command.
pub async fn run(context: &Context, command: TopicCommand) -> Result<Status, Failure> {
    match command {
        TopicCommand::Create {
            name,
            partitions,
            replication_factor,
            configs,
            dry_run,
            no_wait,
        } => {
            let topic = configs.into_iter().fold(
                NewTopic::new(name, partitions, replication_factor),
                |topic, (key, value)| topic.config(key, value),
            );
            create(context, topic, dry_run, !no_wait).await
        }
        TopicCommand::List { internal } => list(context, internal).await,
        TopicCommand::Describe { names } => describe(context, names).await,
        TopicCommand::Delete { names } => delete(context, names).await,
        TopicCommand::AddPartitions {
            name,
            total,
            dry_run,
        } => add_partitions(context, name, total, dry_run).await,
    }
}

async fn create(
    context: &Context,
    topic: NewTopic,
    dry_run: bool,
    wait: bool,
) -> Result<Status, Failure> {
    let options = CreateTopicsOptions::default()
        .timeout(context.timeout)
        .validate_only(dry_run)
        .wait_for_metadata(wait && !dry_run);
    let results = context
        .admin
        .create_topics(std::slice::from_ref(&topic), options)
        .await
        .map_err(|e| Failure::admin(quoted("topic", &topic.name), &e))?;
    if context.json() {
        print_json(&results)?;
    } else {
        let mut table = Table::new(&["TOPIC", "PARTITIONS", "REPLICATION", "OUTCOME", "ID"]);
        for created in output::successes(&results) {
            table.row(vec![
                created.name.clone(),
                opt(created.num_partitions),
                opt(created.replication_factor),
                label(&created.outcome),
                opt(created.topic_id),
            ]);
        }
        if !table.is_empty() {
            table.print();
        }
    }
    Ok(report_batch(&results, topic_ref_name))
}

async fn list(context: &Context, internal: bool) -> Result<Status, Failure> {
    let mut topics = context
        .admin
        .list_topics(
            klamm_admin::ListTopicsOptions::default()
                .include_internal(internal)
                .timeout(context.timeout),
        )
        .await
        .map_err(|e| Failure::admin("listing topics", &e))?;
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    if context.json() {
        print_json(&topics)?;
        return Ok(Status::Success);
    }
    let mut table = Table::new(&["TOPIC", "ID", "INTERNAL"]);
    for topic in &topics {
        table.row(vec![
            topic.name.clone(),
            opt(topic.topic_id),
            topic.is_internal.to_string(),
        ]);
    }
    table.print();
    Ok(Status::Success)
}

async fn describe(context: &Context, names: Vec<String>) -> Result<Status, Failure> {
    let refs: Vec<TopicRef> = names.into_iter().map(TopicRef::Name).collect();
    let results = context
        .admin
        .describe_topics(
            &refs,
            klamm_admin::DescribeTopicsOptions::default().timeout(context.timeout),
        )
        .await
        .map_err(|e| Failure::admin("describing topics", &e))?;
    if context.json() {
        print_json(&output::successes(&results))?;
    } else {
        let mut table = Table::new(&["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "OFFLINE"]);
        for topic in output::successes(&results) {
            for partition in &topic.partitions {
                table.row(vec![
                    topic.name.clone(),
                    partition.partition.to_string(),
                    opt(partition.leader),
                    ids(&partition.replicas),
                    ids(&partition.isr),
                    ids(&partition.offline_replicas),
                ]);
            }
        }
        if !table.is_empty() {
            table.print();
        }
    }
    Ok(report_batch(&results, topic_ref_name))
}

async fn delete(context: &Context, names: Vec<String>) -> Result<Status, Failure> {
    let refs: Vec<TopicRef> = names.into_iter().map(TopicRef::Name).collect();
    let options = DeleteTopicsOptions::default()
        .timeout(context.timeout)
        .wait_until_gone(true);
    let results = context
        .admin
        .delete_topics(&refs, options)
        .await
        .map_err(|e| Failure::admin("deleting topics", &e))?;
    if context.json() {
        print_json(&results)?;
    } else {
        let mut table = Table::new(&["TOPIC", "OUTCOME"]);
        for (topic, result) in results.iter() {
            if let Ok(outcome) = result {
                let name = match topic {
                    TopicRef::Name(name) => name.clone(),
                    other => other.to_string(),
                };
                table.row(vec![name, label(outcome)]);
            }
        }
        if !table.is_empty() {
            table.print();
        }
    }
    Ok(report_batch(&results, topic_ref_name))
}

async fn add_partitions(
    context: &Context,
    name: String,
    total: i32,
    dry_run: bool,
) -> Result<Status, Failure> {
    let request = [(name.clone(), NewPartitions::increase_to(total))];
    let options = CreatePartitionsOptions::default()
        .timeout(context.timeout)
        .validate_only(dry_run);
    let results = context
        .admin
        .create_partitions(request, options)
        .await
        .map_err(|e| Failure::admin(quoted("topic", &name), &e))?;
    if context.json() {
        print_json(&results)?;
    } else if results.all_ok() {
        let verb = if dry_run { "would have" } else { "now has" };
        println!("topic \"{name}\" {verb} {total} partitions");
    }
    Ok(report_batch(&results, topic_ref_name))
}

fn topic_ref_name(topic: &TopicRef) -> String {
    match topic {
        TopicRef::Name(name) => quoted("topic", name),
        TopicRef::Id(id) => quoted("topic id", &id.to_string()),
        other => other.to_string(),
    }
}
