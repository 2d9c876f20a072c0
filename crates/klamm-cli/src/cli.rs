//! The command line: global connection and output flags, and one subcommand per family
//! (each family's arguments live beside its code in `commands/`).

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use klamm_admin::SecurityProtocol;

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
  KLAMM_SASL_PASSWORD=… klamm -b kafka-1:9094 --security-protocol SASL_SSL \\
        --sasl-mechanism SCRAM-SHA-512 --sasl-username ops --ssl-cafile ca.pem cluster info
  klamm --command-config kerberos.properties --sasl-kerberos-keytab ops.keytab \\
        --sasl-kerberos-principal ops@EXAMPLE.COM cluster info

Security flags override the --command-config file's keys. Passwords are never flag values:
$KLAMM_SASL_PASSWORD or --sasl-password-file for --sasl-username, $KLAMM_SSL_PASSWORD or
--ssl-password-file for an encrypted --ssl-keyfile.

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
    /// Hold every request to the versions this Kafka release supports, e.g. 2.8 (kafka-python's
    /// api_version) [default: negotiate the newest both sides speak].
    #[arg(long, value_name = "RELEASE", global = true, value_parser = release_parser)]
    pub api_version: Option<klamm_admin::KafkaRelease>,
    /// Log what klamm does to stderr: -v for debug, -vv for trace (warnings show without it).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Security protocol, SASL and TLS settings, on top of the `--command-config` file's.
    #[command(
        flatten,
        next_help_heading = "Security (each flag overrides --command-config)"
    )]
    pub security: Security,
    /// Kerberos settings, on top of the `--command-config` file's.
    #[cfg_attr(
        feature = "gssapi",
        command(
            flatten,
            next_help_heading = "Kerberos (with --sasl-mechanism GSSAPI, or sasl.mechanism=GSSAPI \
                                 in --command-config)"
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

/// The values `--security-protocol` takes (kafka-python's `security_protocol`), parsed into
/// klamm-net's [`SecurityProtocol`] and listed in `--help`.
fn security_protocol_parser() -> impl TypedValueParser<Value = SecurityProtocol> {
    use SecurityProtocol::{Plaintext, SaslPlaintext, SaslSsl, Ssl};
    PossibleValuesParser::new([Plaintext, Ssl, SaslPlaintext, SaslSsl].map(SecurityProtocol::name))
        .try_map(|name| name.parse::<SecurityProtocol>())
}

fn release_parser(text: &str) -> Result<klamm_admin::KafkaRelease, String> {
    text.parse::<klamm_admin::KafkaRelease>()
        .map_err(|error| error.to_string())
}

/// `--sasl-mechanism` (kafka-python's `sasl_mechanism`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    /// Username and password in clear (use it with SASL_SSL).
    #[value(name = "PLAIN")]
    Plain,
    /// Salted challenge-response with SHA-256.
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    /// Salted challenge-response with SHA-512.
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
    /// OAuth 2 bearer tokens (the token endpoint comes from --command-config).
    #[value(name = "OAUTHBEARER")]
    OAuthBearer,
    /// Kerberos (needs the `gssapi` feature; see the --sasl-kerberos-* flags).
    #[value(name = "GSSAPI")]
    Gssapi,
}

/// The security flags, named after kafka-python's `KafkaAdminClient` settings. Each overrides
/// the `--command-config` key it stands for; passwords are never flag values but come from
/// the environment or a file, so that they stay out of shell history and `ps`.
#[derive(Debug, Default, Args)]
pub struct Security {
    /// How to reach the brokers [default: the file's security.protocol, or PLAINTEXT].
    #[arg(
        long,
        value_parser = security_protocol_parser(),
        ignore_case = true,
        value_name = "PROTOCOL",
        global = true
    )]
    pub security_protocol: Option<SecurityProtocol>,
    /// SASL mechanism, with SASL_PLAINTEXT or SASL_SSL [default: the file's sasl.mechanism].
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_name = "MECHANISM",
        global = true
    )]
    pub sasl_mechanism: Option<SaslMechanism>,
    /// User for PLAIN and SCRAM; the password comes from $KLAMM_SASL_PASSWORD, or from
    /// --sasl-password-file.
    #[arg(long, value_name = "NAME", global = true)]
    pub sasl_username: Option<String>,
    /// Read the --sasl-username password from the first line of this file (it wins over
    /// $KLAMM_SASL_PASSWORD).
    #[arg(long, value_name = "FILE", global = true)]
    pub sasl_password_file: Option<PathBuf>,
    /// PEM file of the CA certificates to trust, with SSL or SASL_SSL [default: the system's].
    #[arg(long, value_name = "FILE", global = true)]
    pub ssl_cafile: Option<PathBuf>,
    /// PEM client certificate chain for mutual TLS (it may hold the private key too).
    #[arg(long, value_name = "FILE", global = true)]
    pub ssl_certfile: Option<PathBuf>,
    /// PEM private key of --ssl-certfile; an encrypted (PKCS#8) key is decrypted with
    /// $KLAMM_SSL_PASSWORD or --ssl-password-file.
    #[arg(long, value_name = "FILE", global = true)]
    pub ssl_keyfile: Option<PathBuf>,
    /// Read the password of an encrypted client key from the first line of this file (it wins
    /// over $KLAMM_SSL_PASSWORD).
    #[arg(long, value_name = "FILE", global = true)]
    pub ssl_password_file: Option<PathBuf>,
    /// PEM certificate revocation lists checked against the brokers' certificate chains.
    #[arg(long, value_name = "FILE", global = true)]
    pub ssl_crlfile: Option<PathBuf>,
    /// Verify the brokers' certificate chain but not that it names the host connected to.
    #[arg(long, global = true)]
    pub ssl_no_check_hostname: bool,
}

/// The Kerberos (SASL/GSSAPI) flags. The mechanism comes from `--sasl-mechanism GSSAPI` or the
/// `--command-config` file (`sasl.mechanism=GSSAPI`); the flags override the file's
/// `sasl.kerberos.*` keys and `Krb5LoginModule` options, and need a `klamm` built with the
/// `gssapi` feature.
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
    fn security_flags_parse_kafka_names_in_any_case() {
        let cli = Cli::try_parse_from([
            "klamm",
            "cluster",
            "info",
            "--security-protocol",
            "sasl_ssl",
            "--sasl-mechanism",
            "SCRAM-SHA-512",
            "--sasl-username",
            "ops",
            "--ssl-no-check-hostname",
        ])
        .unwrap();
        let security = &cli.global.security;
        assert_eq!(security.security_protocol, Some(SecurityProtocol::SaslSsl));
        assert_eq!(security.sasl_mechanism, Some(SaslMechanism::ScramSha512));
        assert_eq!(security.sasl_username.as_deref(), Some("ops"));
        assert!(security.ssl_no_check_hostname);
        assert!("TLS".parse::<SecurityProtocol>().is_err());
    }

    #[test]
    fn unknown_security_values_and_password_flags_are_bad_usage() {
        for args in [
            &["klamm", "--security-protocol", "TLS", "cluster", "info"][..],
            &[
                "klamm",
                "--sasl-mechanism",
                "SCRAM-SHA-1",
                "cluster",
                "info",
            ],
            // Passwords are never flag values.
            &["klamm", "--sasl-password", "hunter2", "cluster", "info"],
        ] {
            let error = Cli::try_parse_from(args).expect_err("bad usage");
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
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
