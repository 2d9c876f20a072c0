//! Nodes a test adds to the `quorum` profile's dynamic KRaft quorum: a controller that joins as
//! an observer (formatted `--no-initial-controllers`) until the test adds it as a voter
//! (AddRaftVoter), or a broker, e.g. one to stop and unregister (UnregisterBroker).
//!
//! An added node lives in `target/kafka/quorum/node-<id>/` like the profile's own and is stopped
//! with them (`down`, the watchdog); a test stops it earlier with
//! [`ClusterEnv::stop_broker`] (which takes any node id). It is not written to `cluster.env`.

use std::fs;
use std::path::PathBuf;

use crate::cluster::directory_id;
use crate::command::run_checked;
use crate::config::{self, NodePorts, NodeSpec, Quorum};
use crate::env::ClusterEnv;
use crate::error::{HarnessError, IoContext, Result};
use crate::layout::allocate_ports;
use crate::lock::FileLock;
use crate::node::{wait_until_ready, Launcher};
use crate::profile::NodeRole;

/// A node a test started with [`ClusterEnv::start_extra_node`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraNode {
    /// Its `node.id`, one above every node id the profile has used.
    pub node_id: u32,
    /// [`NodeRole::Broker`] or [`NodeRole::Controller`].
    pub role: NodeRole,
    /// A broker's PLAINTEXT listener or a controller's CONTROLLER listener, `127.0.0.1:port`.
    pub address: String,
    /// The `directory.id` of its metadata log directory (for AddRaftVoter / RemoveRaftVoter).
    pub directory_id: String,
    /// Its `server.properties`, e.g. for `MetadataQuorumCommand --command-config … add-controller`.
    pub config_file: PathBuf,
}

impl ClusterEnv {
    /// Formats and starts one more node of the dynamic quorum and waits until it answers: a
    /// controller (`--no-initial-controllers`, so an observer until a test adds it as a voter)
    /// must answer ApiVersions, a broker must be registered and unfenced. `quorum` profile only.
    pub fn start_extra_node(&self, role: NodeRole) -> Result<ExtraNode> {
        if !self.dynamic_quorum {
            return Err(HarnessError::StaticQuorum(self.profile.name()));
        }
        let role = match role {
            NodeRole::Combined => NodeRole::Controller,
            other => other,
        };
        let layout = self.layout();
        // The id, ports and directory are chosen under the start lock, so that two tests adding
        // nodes at once pick different ids.
        let _lock = FileLock::exclusive(&layout.start_lock(), crate::cluster::START_LOCK_TIMEOUT)?;
        let node_id = layout.all_node_ids().into_iter().max().unwrap_or(0) + 1;
        let ports = allocate_ports(2)?;
        let ports = NodePorts {
            plaintext: ports[0],
            controller: ports[1],
            secure: None,
        };
        let log_dirs = layout.log_dirs(node_id, 1);
        for dir in &log_dirs {
            fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        }
        let spec = NodeSpec {
            profile: self.profile,
            version: &self.version,
            node_id,
            role,
            ports,
            quorum: Quorum::Dynamic(&self.bootstrap_controller),
            log_dirs: &log_dirs,
            security: None,
        };
        let config_file = layout.config_file(node_id);
        fs::write(&config_file, config::server_properties(&spec))
            .context(|| format!("writing {}", config_file.display()))?;
        let launcher = Launcher::for_env(self)?;
        let mut format = launcher.format_command(&self.cluster_id, &config_file);
        if role.is_controller() {
            format.arg("--no-initial-controllers");
        }
        run_checked(&mut format)?;
        let child = launcher.spawn(node_id)?;
        let expected: &[u32] = if role.is_broker() { &[node_id] } else { &[] };
        let mut children = [(node_id, child)];
        if let Err(error) = wait_until_ready(&launcher, self, &mut children, expected) {
            let _ = children[0].1.kill();
            let _ = children[0].1.wait();
            return Err(error);
        }
        Ok(ExtraNode {
            node_id,
            role,
            address: format!(
                "127.0.0.1:{}",
                if role.is_broker() {
                    ports.plaintext
                } else {
                    ports.controller
                }
            ),
            directory_id: directory_id(&log_dirs[0])?,
            config_file,
        })
    }
}
