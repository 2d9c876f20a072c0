//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! Each subcommand lives in its own module; this file only parses the command line and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod api_versions;
mod artifacts;
mod codegen;
mod conformance;
mod kafka;
mod quickstart;
mod specs;
mod test;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Klamm project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch, start, stop and inspect local Apache Kafka brokers.
    Kafka {
        #[command(subcommand)]
        command: kafka::Command,
    },
    /// Generate klamm-protocol's message code from Kafka's JSON specs.
    Codegen {
        /// Fail if the committed code differs from what would be generated.
        #[arg(long)]
        check: bool,
    },
    /// Generate klamm-net's table of the request versions of each Kafka release (2.0 to 4.4)
    /// from each release's kafka-clients jar.
    ApiVersions {
        /// Fail if the committed table differs from what would be generated.
        #[arg(long)]
        check: bool,
    },
    /// Run the whole test suite as CI does, installing what it needs first.
    Test {
        /// Skip the short fuzz runs.
        #[arg(long)]
        skip_fuzz: bool,
        /// Random messages per API version in the conformance run.
        #[arg(long, default_value_t = 100)]
        conformance_cases: u32,
    },
    /// Check klamm-protocol against Kafka's own Java codec, message by message.
    Conformance {
        /// Random messages per message version.
        #[arg(long, default_value_t = 100)]
        cases: u32,
        /// Seed of the random messages (a run prints the seed it used).
        #[arg(long)]
        seed: Option<u64>,
        /// How to build the checker: `dev` reuses `cargo test --workspace --all-features`.
        #[arg(long, value_enum, default_value_t = conformance::Profile::Release)]
        profile: conformance::Profile,
    },
    /// Start a local broker and drive the klamm CLI against it.
    Quickstart,
    /// Fetch the pinned kafka-clients jar and export its message specs into the cache.
    FetchSpecs {
        /// The kafka-clients version.
        #[arg(long, default_value = specs::KAFKA_CLIENTS_VERSION)]
        version: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Kafka { command } => kafka::run(command),
        Command::Codegen { check } => codegen::run(check),
        Command::ApiVersions { check } => api_versions::run(check),
        Command::FetchSpecs { version } => specs::run(&version),
        Command::Quickstart => quickstart::run(),
        Command::Conformance {
            cases,
            seed,
            profile,
        } => conformance::run(cases, seed, profile),
        Command::Test {
            skip_fuzz,
            conformance_cases,
        } => test::run_all(test::Options {
            skip_fuzz,
            conformance_cases,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}
