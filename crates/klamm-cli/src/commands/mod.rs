//! One module per command family; this one connects the admin client and dispatches.

use std::time::Duration;

use clap::CommandFactory;
use klamm_admin::{Admin, AdminConfig};

use crate::cli::{Cli, Command, Global, DEFAULT_BOOTSTRAP};
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

/// The client settings: the `--command-config` file if any, with `-b` and `--timeout` on top.
fn admin_config(global: &Global) -> Result<AdminConfig, Failure> {
    let mut text = match &global.command_config {
        Some(path) => std::fs::read_to_string(path).map_err(|error| {
            Failure::new(format!("reading {}", path.display()), error.to_string())
        })?,
        None => String::new(),
    };
    let bootstrap = match &global.bootstrap_server {
        Some(servers) => Some(servers.as_str()),
        None if names_bootstrap(&text) => None,
        None => Some(DEFAULT_BOOTSTRAP),
    };
    // Later keys win in a properties file, so flags are appended as overrides.
    if let Some(servers) = bootstrap {
        text.push_str(&format!("\nbootstrap.servers={servers}\n"));
    }
    if let Some(ms) = global.timeout {
        text.push_str(&format!("\ndefault.api.timeout.ms={ms}\n"));
    }
    let what = match &global.command_config {
        Some(path) => format!("client config {}", path.display()),
        None => "client config".to_owned(),
    };
    AdminConfig::from_properties(&text).map_err(|error| Failure::admin(what, &error))
}

fn names_bootstrap(properties: &str) -> bool {
    properties.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix("bootstrap.servers")
            .is_some_and(|rest| rest.trim_start().starts_with(['=', ':']))
    })
}

/// `"name"` as the CLI names a resource in messages.
pub fn quoted(kind: &str, name: &str) -> String {
    format!("{kind} \"{name}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(bootstrap: Option<&str>, timeout: Option<u64>) -> Global {
        Global {
            bootstrap_server: bootstrap.map(str::to_owned),
            command_config: None,
            output: Format::Table,
            timeout,
        }
    }

    #[test]
    fn flags_override_defaults_in_client_config() {
        let config = admin_config(&global(Some("k1:9093,k2:9093"), Some(1500))).unwrap();
        assert_eq!(config.default_api_timeout(), Duration::from_millis(1500));
        assert_eq!(
            config.cluster.bootstrap_servers.to_string(),
            "k1:9093,k2:9093"
        );
    }

    #[test]
    fn bootstrap_in_properties_is_detected() {
        assert!(names_bootstrap("# x\nbootstrap.servers = a:1\n"));
        assert!(!names_bootstrap("bootstrap.servers.extra=1"));
    }
}
