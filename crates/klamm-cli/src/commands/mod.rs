//! One module per command family; this one connects the admin client and dispatches.

use std::time::Duration;

use clap::CommandFactory;
use klamm_admin::Admin;

use crate::cli::{Cli, Command, Global};
use crate::client_config::admin_config;
use crate::output::{Failure, Format, Status};

pub mod acl;
pub mod cluster;
pub mod config;
pub mod group;
pub mod partition;
pub mod records;
pub mod topic;

/// What every command runs with.
pub struct Context {
    /// The connected client.
    pub admin: Admin,
    /// The `--output` format.
    pub format: Format,
    /// The `--timeout`, if given.
    pub timeout: Option<Duration>,
}

impl Context {
    /// Whether JSON was asked for.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<Status, Failure> {
    if let Command::Completions { shell } = cli.command {
        let mut command = Cli::command();
        clap_complete::generate(shell, &mut command, "klamm", &mut std::io::stdout());
        return Ok(Status::Success);
    }
    let context = connect(&cli.global).await?;
    let status = match cli.command {
        Command::Topic(command) => topic::run(&context, command).await,
        Command::Config(command) => config::run(&context, command).await,
        Command::Acl(command) => acl::run(&context, command).await,
        Command::Group(command) => group::run(&context, command).await,
        Command::Cluster(command) => cluster::run(&context, command).await,
        Command::Records(command) => records::run(&context, command).await,
        Command::Partition(command) => partition::run(&context, command).await,
        Command::Completions { .. } => unreachable!("handled above"),
    };
    context.admin.close();
    status
}

async fn connect(global: &Global) -> Result<Context, Failure> {
    let config = admin_config(global)?;
    let servers = config.cluster.bootstrap_servers.to_string();
    let admin = Admin::connect(config)
        .await
        .map_err(|error| Failure::admin(format!("connecting to {servers}"), &error))?;
    Ok(Context {
        admin,
        format: global.output,
        timeout: global.timeout.map(Duration::from_millis),
    })
}

/// `"name"` as the CLI names a resource in messages.
pub fn quoted(kind: &str, name: &str) -> String {
    format!("{kind} \"{name}\"")
}
