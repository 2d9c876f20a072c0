//! The command line: global connection and output flags, and one subcommand per family
//! (each family's arguments live beside its code in `commands/`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{acl, cluster, config, group, partition, records, topic};
use crate::output::Format;

/// The default bootstrap server when neither `-b`, `$KLAMM_BOOTSTRAP_SERVER` nor the
/// `--command-config` file names one.
pub const DEFAULT_BOOTSTRAP: &str = "localhost:9092";

/// Administer Apache Kafka clusters: topics, configs, ACLs, consumer groups, offsets and
/// partitions.
#[derive(Debug, Parser)]
#[command(name = "klamm", version, propagate_version = true)]
#[command(after_help = "\
Examples:
  klamm -b kafka-1:9092 cluster info
  klamm topic create orders --partitions 6 --replication-factor 3 --config retention.ms=86400000
  klamm topic list -o json
  klamm group offsets billing
  klamm --command-config client.properties acl list --topic orders

Exit status: 0 success, 1 failure, 2 bad usage, 3 some items of a batch failed.")]
pub struct Cli {
    /// Connection and output settings shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Broker(s) to bootstrap from, `host:port[,host:port…]` [default: localhost:9092].
    #[arg(
        short = 'b',
        long = "bootstrap-server",
        env = "KLAMM_BOOTSTRAP_SERVER",
        global = true
    )]
    pub bootstrap_server: Option<String>,
    /// Java-client `.properties` file (security.protocol, sasl.*, ssl.*, timeouts …).
    #[arg(long, value_name = "FILE", global = true)]
    pub command_config: Option<PathBuf>,
    /// Output format: aligned tables for people, one JSON document for scripts.
    #[arg(short = 'o', long, value_enum, default_value = "table", global = true)]
    pub output: Format,
    /// Deadline of each operation in milliseconds [default: default.api.timeout.ms, 60000].
    #[arg(long, value_name = "MS", global = true)]
    pub timeout: Option<u64>,
}

/// The command families.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, describe and delete topics; add partitions.
    #[command(subcommand)]
    Topic(topic::TopicCommand),
    /// Describe and change configs of topics, brokers, broker loggers and groups.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Create, list and delete ACLs.
    #[command(subcommand)]
    Acl(acl::AclCommand),
    /// List, describe, inspect offsets of, seek and delete consumer groups.
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Describe the cluster and check its health.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Delete records below an offset.
    #[command(subcommand)]
    Records(records::RecordsCommand),
    /// Reassign partitions, list reassignments, elect leaders.
    #[command(subcommand)]
    Partition(partition::PartitionCommand),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  klamm completions bash > /etc/bash_completion.d/klamm")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Parses `KEY=VALUE`.
pub fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn key_value_keeps_equals_signs_in_the_value() {
        assert_eq!(
            key_value("sasl.jaas.config=a=b"),
            Ok(("sasl.jaas.config".into(), "a=b".into()))
        );
        assert!(key_value("=x").is_err());
        assert!(key_value("novalue").is_err());
    }
}
