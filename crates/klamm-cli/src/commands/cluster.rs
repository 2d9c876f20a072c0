//! `klamm cluster …`: who the brokers are, and whether every partition is healthy.

use clap::Subcommand;
use klamm_admin::HealthReport;
use serde::Serialize;

use super::Context;
use crate::output::{ids, opt, print_json, Failure, Status, Table};

/// Cluster commands.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Show the cluster id, the controller and the brokers.
    #[command(after_help = "Example:\n  klamm cluster info -o json")]
    Info,
    /// Check partitions for under-replication, offline or leaderless partitions and replicas on
    /// missing brokers; exits 1 when any is found.
    #[command(after_help = "Example:\n  klamm cluster health || page-the-on-call")]
    Health,
}

/// Runs a cluster command.
pub async fn run(context: &Context, command: ClusterCommand) -> Result<Status, Failure> {
    match command {
        ClusterCommand::Info => info(context).await,
        ClusterCommand::Health => health(context).await,
    }
}

async fn info(context: &Context) -> Result<Status, Failure> {
    let cluster = context
        .admin
        .describe_cluster(klamm_admin::DescribeClusterOptions::default().timeout(context.timeout))
        .await
        .map_err(|e| Failure::admin("describing the cluster", &e))?;
    if context.json() {
        print_json(&cluster)?;
        return Ok(Status::Success);
    }
    println!("cluster id: {}", opt(cluster.cluster_id.as_deref()));
    println!("controller: {}", opt(cluster.controller_id));
    let mut table = Table::new(&["BROKER", "HOST", "PORT", "RACK", "FENCED"]);
    for broker in &cluster.brokers {
        table.row(vec![
            broker.id.to_string(),
            broker.host.clone(),
            broker.port.to_string(),
            opt(broker.rack.as_deref()),
            broker.is_fenced.to_string(),
        ]);
    }
    table.print();
    Ok(Status::Success)
}

/// The health report with its verdict, for JSON.
#[derive(Serialize)]
struct Verdict<'a> {
    healthy: bool,
    summary: String,
    #[serde(flatten)]
    report: &'a HealthReport,
}

async fn health(context: &Context) -> Result<Status, Failure> {
    let report = context
        .admin
        .cluster_health(klamm_admin::ClusterHealthOptions::default().timeout(context.timeout))
        .await
        .map_err(|e| Failure::admin("checking cluster health", &e))?;
    let healthy = report.is_healthy();
    if context.json() {
        print_json(&Verdict {
            healthy,
            summary: report.summary(),
            report: &report,
        })?;
    } else {
        println!(
            "{}: {}",
            if healthy { "healthy" } else { "UNHEALTHY" },
            report.summary()
        );
        let problems = [
            ("under-replicated", &report.under_replicated),
            ("offline", &report.offline),
            ("leaderless", &report.leaderless),
            (
                "replicas on missing brokers",
                &report.replicas_on_missing_brokers,
            ),
            ("not on preferred leader", &report.not_on_preferred_leader),
        ];
        let mut table = Table::new(&["PROBLEM", "TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"]);
        for (problem, partitions) in problems {
            for partition in partitions.iter() {
                table.row(vec![
                    problem.to_owned(),
                    partition.topic.clone(),
                    partition.partition.to_string(),
                    opt(partition.leader),
                    ids(&partition.replicas),
                    ids(&partition.isr),
                ]);
            }
        }
        if !table.is_empty() {
            table.print();
        }
    }
    if healthy {
        Ok(Status::Success)
    } else {
        Err(Failure::new("cluster health", report.summary()))
    }
}
