//! `klamm`: a command-line admin tool for Apache Kafka over `klamm-admin`.
//!
//! This file only parses the command line, runs the command on a small tokio runtime and turns
//! its outcome into an exit status: 0 success, 1 failure, 2 bad usage (clap), 3 partial batch.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod client_config;
mod commands;
mod output;

/// Sends `tracing` events to stderr: warnings by default, the klamm crates' debug events with
/// `-v`, everything of theirs with `-vv`.
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;

    let klamm = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let filter = Targets::new().with_default(LevelFilter::WARN).with_targets(
        ["klamm_net", "klamm_cluster", "klamm_admin", "klamm"].map(|target| (target, klamm)),
    );
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(verbose > 0);
    tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .init();
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output::report(&output::Failure::new(
                "starting the runtime",
                error.to_string(),
            ));
            return ExitCode::FAILURE;
        }
    };
    let status = match runtime.block_on(commands::run(cli)) {
        Ok(status) => status,
        Err(failure) => {
            output::report(&failure);
            output::Status::Failure
        }
    };
    ExitCode::from(status.code())
}
