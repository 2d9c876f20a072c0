//! `cargo xtask kafka`: fetch, start, stop and inspect local Apache Kafka brokers.
//!
//! Thin wrappers over `klamm-test-harness`, which holds the logic and documents the profiles.

use anyhow::{Context, Result};
use clap::Subcommand;
use klamm_test_harness::{self as harness, KafkaVersion, Profile};

#[derive(Subcommand)]
pub enum Command {
    /// Install everything the brokers and smoke tests need: broker jars, and Kafka's tools and
    /// Streams jars, from Maven Central into the cache, the kafka-python oracle with pip, and MIT Kerberos (the single profile's KDC)
    /// with apt-get when run as root.
    Fetch {
        /// Only this Kafka version (default: every pinned version, 4.4.0 and 3.9.2).
        #[arg(long)]
        version: Option<KafkaVersion>,
    },
    /// Start a profile's brokers (or report the running ones) and print their cluster.env.
    Up {
        /// `single` (one node, all security listeners), `cluster` (three nodes, PLAINTEXT) or
        /// `quorum` (a broker and two controllers in a dynamic KRaft quorum).
        #[arg(long, default_value = "single")]
        profile: Profile,
        /// Kafka version (default: $KLAMM_KAFKA_VERSION, else 4.4.0).
        #[arg(long)]
        version: Option<KafkaVersion>,
    },
    /// Stop a profile's brokers (default: every profile).
    Down {
        /// `single`, `cluster` or `quorum`.
        #[arg(long)]
        profile: Option<Profile>,
    },
    /// Show what runs, side-by-side instances of other versions included (default: every
    /// profile).
    Status {
        /// `single`, `cluster` or `quorum`.
        #[arg(long)]
        profile: Option<Profile>,
    },
}

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Fetch { version } => fetch(version),
        Command::Up { profile, version } => up(profile, version),
        Command::Down { profile } => down(profile),
        Command::Status { profile } => {
            for profile in profiles(profile) {
                for instance in harness::status_all(profile) {
                    println!("{instance}");
                }
            }
            Ok(())
        }
    }
}

fn fetch(version: Option<KafkaVersion>) -> Result<()> {
    harness::check_tools()?;
    let versions = match version {
        Some(version) => vec![version],
        None => KafkaVersion::PINNED
            .iter()
            .map(|v| v.parse())
            .collect::<Result<_, _>>()?,
    };
    for version in versions {
        let libs = harness::fetch::ensure_libs(&version)
            .with_context(|| format!("fetching Kafka {version}"))?;
        println!("Kafka {version}: {}", libs.display());
        let tools = harness::fetch::ensure_tools_libs(&version)
            .with_context(|| format!("fetching Kafka {version}'s tools and Streams"))?;
        println!("Kafka {version} tools and Streams: {}", tools.display());
    }
    harness::oracle::ensure_kafka_python().context("installing the kafka-python oracle")?;
    println!("oracle: {}", harness::oracle::KAFKA_PYTHON_REQUIREMENT);
    harness::kerberos::ensure_tools().with_context(|| {
        format!(
            "installing MIT Kerberos for the single profile's KDC ({})",
            harness::kerberos::PACKAGES.join(" ")
        )
    })?;
    println!("kerberos: {}", harness::kerberos::PACKAGES.join(" "));
    Ok(())
}

fn up(profile: Profile, version: Option<KafkaVersion>) -> Result<()> {
    let version = match version {
        Some(version) => version,
        None => KafkaVersion::from_env()?,
    };
    let env =
        harness::up(profile, &version).with_context(|| format!("starting profile `{profile}`"))?;
    let path = harness::env_file(profile);
    println!("# {}", path.display());
    print!("{}", env.to_env_file());
    Ok(())
}

fn down(profile: Option<Profile>) -> Result<()> {
    for profile in profiles(profile) {
        let report =
            harness::down(profile).with_context(|| format!("stopping profile `{profile}`"))?;
        if report.stopped.is_empty() {
            println!("{profile}: nothing was running");
            continue;
        }
        let nodes: Vec<String> = report
            .stopped
            .iter()
            .map(|(id, pid)| format!("node {id} (pid {pid})"))
            .collect();
        println!("{profile}: stopped {}", nodes.join(", "));
        if !report.kdcs.is_empty() {
            println!(
                "{profile}: stopped the Kerberos KDC (pids {:?})",
                report.kdcs
            );
        }
        if !report.killed.is_empty() {
            println!(
                "{profile}: pids {:?} ignored SIGTERM and were killed",
                report.killed
            );
        }
    }
    Ok(())
}

fn profiles(profile: Option<Profile>) -> Vec<Profile> {
    profile.map_or_else(|| Profile::ALL.to_vec(), |p| vec![p])
}
