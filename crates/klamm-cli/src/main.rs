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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
