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
  klamm --command-config kerberos.properties --sasl-kerberos-keytab ops.keytab \\
        --sasl-kerberos-principal ops@EXAMPLE.COM cluster info

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
    /// Java-client `.properties` file (security.protocol, sasl.* incl. GSSAPI, ssl.*, timeouts …).
    #[arg(long, value_name = "FILE", global = true)]
    pub command_config: Option<PathBuf>,
    /// Output format: aligned tables for people, one JSON document for scripts.
    #[arg(short = 'o', long, value_enum, default_value = "table", global = true)]
    pub output: Format,
    /// Deadline of each operation in milliseconds [default: default.api.timeout.ms, 60000].
    #[arg(long, value_name = "MS", global = true)]
    pub timeout: Option<u64>,
    /// Kerberos settings, on top of the `--command-config` file's.
    #[cfg_attr(
        feature = "gssapi",
        command(
            flatten,
            next_help_heading = "Kerberos (with sasl.mechanism=GSSAPI in --command-config)"
        )
    )]
    #[cfg_attr(
        not(feature = "gssapi"),
        command(
            flatten,
            next_help_heading = "Kerberos (not in this build: needs the `gssapi` feature)"
        )
    )]
    pub kerberos: Kerberos,
}

/// The Kerberos (SASL/GSSAPI) flags. The mechanism comes from the `--command-config` file
/// (`sasl.mechanism=GSSAPI`); the flags override its `sasl.kerberos.*` keys and
/// `Krb5LoginModule` options, and need a `klamm` built with the `gssapi` feature.
#[derive(Debug, Default, Args)]
pub struct Kerberos {
    /// Service part of the brokers' Kerberos principal, NAME/<host>@REALM [default: kafka, or
    /// the file's sasl.kerberos.service.name].
    #[arg(long, value_name = "NAME", global = true)]
    pub sasl_kerberos_service_name: Option<String>,
    /// Host part of the brokers' principal, instead of the host connected to (for brokers
    /// reached by IP address or an alias).
    #[arg(long, value_name = "HOST", global = true)]
    pub sasl_kerberos_domain_name: Option<String>,
    /// Client principal, e.g. ops@EXAMPLE.COM [default: the JAAS principal, or the credential
    /// cache's].
    #[arg(long, value_name = "PRINCIPAL", global = true)]
    pub sasl_kerberos_principal: Option<String>,
    /// Log in with this keytab (as --sasl-kerberos-principal) instead of the credential cache
    /// ($KRB5CCNAME, filled by kinit).
    #[arg(long, value_name = "FILE", global = true)]
    pub sasl_kerberos_keytab: Option<PathBuf>,
}

impl Kerberos {
    /// Each flag given, as `(flag, property key, value)`.
    pub fn given(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut given = Vec::new();
        let mut add = |flag, key, value: Option<String>| {
            if let Some(value) = value {
                given.push((flag, key, value));
            }
        };
        add(
            "--sasl-kerberos-service-name",
            "sasl.kerberos.service.name",
            self.sasl_kerberos_service_name.clone(),
        );
        add(
            "--sasl-kerberos-domain-name",
            "sasl.kerberos.domain.name",
            self.sasl_kerberos_domain_name.clone(),
        );
        add(
            "--sasl-kerberos-principal",
            "sasl.kerberos.principal",
            self.sasl_kerberos_principal.clone(),
        );
        add(
            "--sasl-kerberos-keytab",
            "sasl.kerberos.keytab",
            self.sasl_kerberos_keytab
                .as_ref()
                .map(|path| path.display().to_string()),
        );
        given
    }
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
