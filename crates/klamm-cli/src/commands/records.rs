//! `klamm records delete`: move a partition's log start offset forward (DeleteRecords).

use clap::Subcommand;
use klamm_admin::TopicPartition;

use super::Context;
use crate::output::{print_json, report_batch, Failure, Status, Table};

/// Record commands.
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// Delete every record of a partition below an offset.
    #[command(
        after_help = "Example:\n  klamm records delete --topic orders --partition 0 --before 1200"
    )]
    Delete {
        /// Topic.
        #[arg(long)]
        topic: String,
        /// Partition.
        #[arg(long)]
        partition: i32,
        /// Records below this offset are deleted (-1: up to the high watermark).
        #[arg(long, allow_negative_numbers = true)]
        before: i64,
    },
}

/// Runs a records command.
pub async fn run(context: &Context, command: RecordsCommand) -> Result<Status, Failure> {
    let RecordsCommand::Delete {
        topic,
        partition,
        before,
    } = command;
    let request = [(TopicPartition::new(topic, partition), before)];
    let results = context
        .admin
        .delete_records(
            request,
            klamm_admin::DeleteRecordsOptions::default().timeout(context.timeout),
        )
        .await
        .map_err(|e| Failure::admin("deleting records", &e))?;
    if context.json() {
        print_json(&results)?;
    } else {
        let mut table = Table::new(&["TOPIC", "PARTITION", "LOW_WATERMARK"]);
        for (tp, result) in results.iter() {
            if let Ok(low_watermark) = result {
                table.row(vec![
                    tp.topic.clone(),
                    tp.partition.to_string(),
                    low_watermark.to_string(),
                ]);
            }
        }
        if !table.is_empty() {
            table.print();
        }
    }
    Ok(report_batch(&results, partition_name))
}

/// `partition "orders-0"`.
pub fn partition_name(tp: &TopicPartition) -> String {
    super::quoted("partition", &format!("{}-{}", tp.topic, tp.partition))
}
