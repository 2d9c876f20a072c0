//! `cargo xtask kafka status`: what a profile's state directory says, checked against what
//! actually runs and answers.

use std::fmt;

use crate::cluster::check_node;
use crate::env::ClusterEnv;
use crate::layout::Layout;
use crate::process::{is_running, peak_rss_kib, read_pid};
use crate::profile::Profile;

/// What `profile`'s state directory says and what actually answers.
pub fn status(profile: Profile) -> Status {
    let layout = Layout::new(profile);
    let env = ClusterEnv::load(&layout.env_file()).ok();
    let nodes = profile
        .node_ids()
        .iter()
        .map(|&node_id| {
            let pid = read_pid(&layout.pid_file(node_id))
                .filter(|pid| is_running(*pid, &layout.node_marker(node_id)));
            let probe = match (&env, pid) {
                (_, None) => Err("not running".to_owned()),
                (None, Some(_)) => Err("no cluster.env".to_owned()),
                (Some(env), Some(_)) => check_node(env, node_id, &env.broker_ids),
            };
            NodeStatus {
                node_id,
                pid,
                probe,
            }
        })
        .collect();
    let watchdog =
        read_pid(&layout.watchdog_pid()).filter(|pid| is_running(*pid, &layout.watchdog_marker()));
    Status {
        profile,
        env,
        nodes,
        watchdog,
    }
}

/// Result of [`status`].
#[derive(Debug, Clone)]
pub struct Status {
    /// The profile inspected.
    pub profile: Profile,
    /// The parsed `cluster.env`, if present.
    pub env: Option<ClusterEnv>,
    /// One entry per node of the profile.
    pub nodes: Vec<NodeStatus>,
    /// Pid of the watchdog that stops test-owned brokers, if any.
    pub watchdog: Option<u32>,
}

/// One node in a [`Status`].
#[derive(Debug, Clone)]
pub struct NodeStatus {
    /// `node.id`.
    pub node_id: u32,
    /// The JVM's pid while it runs.
    pub pid: Option<u32>,
    /// `Ok` when it answered a Metadata request with our cluster id and every broker.
    pub probe: Result<(), String>,
}

impl Status {
    /// Every node runs and answers.
    pub fn is_healthy(&self) -> bool {
        self.env.is_some() && self.nodes.iter().all(|node| node.probe.is_ok())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let running = self.nodes.iter().filter(|n| n.pid.is_some()).count();
        match (&self.env, running) {
            (None, 0) => return write!(f, "{}: not running", self.profile),
            (Some(env), _) => writeln!(
                f,
                "{}: Kafka {} ({}), bootstrap {}",
                self.profile,
                env.version,
                if self.is_healthy() {
                    "healthy"
                } else {
                    "degraded"
                },
                env.bootstrap_plaintext
            )?,
            (None, _) => writeln!(
                f,
                "{}: brokers run but cluster.env is missing",
                self.profile
            )?,
        }
        for node in &self.nodes {
            let pid = node.pid.map_or_else(|| "-".to_owned(), |p| p.to_string());
            let state = match &node.probe {
                Ok(()) => "answering".to_owned(),
                Err(why) => why.clone(),
            };
            let memory = node
                .pid
                .and_then(peak_rss_kib)
                .map(|kib| format!(", peak RSS {} MiB", kib / 1024))
                .unwrap_or_default();
            writeln!(f, "  node {} pid {pid}: {state}{memory}", node.node_id)?;
        }
        match self.watchdog {
            Some(pid) => write!(
                f,
                "  watchdog pid {pid}: stops the brokers once no test process uses them"
            ),
            None => write!(
                f,
                "  no watchdog: runs until `cargo xtask kafka down --profile {}`",
                self.profile
            ),
        }
    }
}
