//! `klamm config …`: describe and incrementally alter configs of topics, brokers, broker
//! loggers and groups.

use clap::{Args, Subcommand};
use klamm_admin::{
    AlterConfigOp, AlterConfigsOptions, ConfigEntry, ConfigResource, ConfigResourceType,
    DescribeConfigsOptions,
};

use super::Context;
use crate::cli::key_value;
use crate::output::{label, print_json, report_batch, Failure, Status, Table};

/// Config commands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show a resource's configs (only those set away from the default, unless `--all`).
    #[command(after_help = "\
Examples:
  klamm config describe --topic orders
  klamm config describe --broker 1 --all -o json")]
    Describe {
        /// The resource.
        #[command(flatten)]
        resource: ResourceArgs,
        /// Show every config, defaults included.
        #[arg(long)]
        all: bool,
    },
    /// Set or delete configs, leaving the others as they are (IncrementalAlterConfigs).
    #[command(after_help = "\
Examples:
  klamm config alter --topic orders --set retention.ms=86400000 --set cleanup.policy=compact
  klamm config alter --topic orders --delete retention.ms
  klamm config alter --broker 1 --set log.cleaner.threads=2")]
    Alter {
        /// The resource.
        #[command(flatten)]
        resource: ResourceArgs,
        /// Set a config, repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = key_value)]
        set: Vec<(String, String)>,
        /// Reset a config to its default, repeatable.
        #[arg(long = "delete", value_name = "KEY")]
        delete: Vec<String>,
        /// Only validate the change.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Exactly one resource whose configs to use.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ResourceArgs {
    /// A topic.
    #[arg(long, value_name = "NAME")]
    topic: Option<String>,
    /// A broker, by id.
    #[arg(long, value_name = "ID")]
    broker: Option<i32>,
    /// The log levels of a broker, by id.
    #[arg(long, value_name = "ID")]
    broker_logger: Option<i32>,
    /// A consumer group.
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
}

impl ResourceArgs {
    fn resource(&self) -> ConfigResource {
        match self {
            ResourceArgs {
                topic: Some(name), ..
            } => ConfigResource::topic(name),
            ResourceArgs {
                broker: Some(id), ..
            } => ConfigResource::broker(*id),
            ResourceArgs {
                broker_logger: Some(id),
                ..
            } => ConfigResource::broker_logger(*id),
            ResourceArgs {
                group: Some(name), ..
            } => ConfigResource::group(name),
            _ => unreachable!("clap requires exactly one resource"),
        }
    }
}

/// Runs a config command.
pub async fn run(context: &Context, command: ConfigCommand) -> Result<Status, Failure> {
    match command {
        ConfigCommand::Describe { resource, all } => {
            describe(context, resource.resource(), all).await
        }
        ConfigCommand::Alter {
            resource,
            set,
            delete,
            dry_run,
        } => {
            let mut ops: Vec<AlterConfigOp> = set
                .into_iter()
                .map(|(key, value)| AlterConfigOp::set(key, value))
                .collect();
            ops.extend(delete.into_iter().map(AlterConfigOp::delete));
            if ops.is_empty() {
                return Err(Failure::new(
                    "config alter",
                    "nothing to change: give --set KEY=VALUE or --delete KEY",
                ));
            }
            alter(context, resource.resource(), ops, dry_run).await
        }
    }
}

async fn describe(
    context: &Context,
    resource: ConfigResource,
    all: bool,
) -> Result<Status, Failure> {
    let options = DescribeConfigsOptions::default().timeout(context.timeout);
    let results = context
        .admin
        .describe_configs(std::slice::from_ref(&resource), options)
        .await
        .map_err(|e| Failure::admin(name(&resource), &e))?;
    let status = report_batch(&results, name);
    let Some(Ok(entries)) = results.get(&resource) else {
        return Ok(status);
    };
    let mut shown: Vec<&ConfigEntry> = entries.iter().filter(|e| all || !e.is_default).collect();
    shown.sort_by(|a, b| a.name.cmp(&b.name));
    if context.json() {
        print_json(&shown)?;
        return Ok(status);
    }
    let mut table = Table::new(&["NAME", "VALUE", "SOURCE", "READ_ONLY"]);
    for entry in shown {
        let value = match (&entry.value, entry.is_sensitive) {
            (_, true) => "***".to_owned(),
            (Some(value), false) => value.clone(),
            (None, false) => "-".to_owned(),
        };
        table.row(vec![
            entry.name.clone(),
            value,
            label(&entry.source),
            entry.is_read_only.to_string(),
        ]);
    }
    table.print();
    Ok(status)
}

async fn alter(
    context: &Context,
    resource: ConfigResource,
    ops: Vec<AlterConfigOp>,
    dry_run: bool,
) -> Result<Status, Failure> {
    let options = AlterConfigsOptions::default()
        .timeout(context.timeout)
        .validate_only(dry_run);
    let results = context
        .admin
        .incremental_alter_configs([(resource.clone(), ops)], options)
        .await
        .map_err(|e| Failure::admin(name(&resource), &e))?;
    if context.json() {
        print_json(&results)?;
    } else if results.all_ok() {
        let verb = if dry_run { "validated" } else { "altered" };
        println!("{verb} configs of {}", name(&resource));
    }
    Ok(report_batch(&results, name))
}

/// A config resource as messages name it: `topic "orders"`, `broker "1"`.
fn name(resource: &ConfigResource) -> String {
    let kind = match resource.resource_type {
        ConfigResourceType::Topic => "topic",
        ConfigResourceType::Broker => "broker",
        ConfigResourceType::BrokerLogger => "broker logger",
        ConfigResourceType::ClientMetrics => "client metrics",
        ConfigResourceType::Group => "group",
        _ => "config resource",
    };
    super::quoted(kind, &resource.name)
}
