//! `cargo xtask kafka status`: what each instance's state directory says — the profile's own
//! and every side-by-side one ([`crate::shared_version`]) — checked against what actually runs
//! and answers. A pid file whose process is gone is stale state, reported as not running.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{
    listeners_in_server_properties, role_in_server_properties, version_in_server_properties,
};
use crate::env::ClusterEnv;
use crate::kerberos;
use crate::layout::{side_versions_in, state_root, Layout};
use crate::node::check_node;
use crate::process::{is_running, peak_rss_kib, read_pid};
use crate::profile::{KafkaVersion, NodeRole, Profile};

/// What `profile`'s own state directory says and what actually answers.
pub fn status(profile: Profile) -> Status {
    instance_status(&Layout::new(profile), None)
}

/// [`status`] of the profile's own instance, then of each side-by-side instance that has a
/// state directory (`target/kafka/<profile>-<version>/`), by version.
pub fn status_all(profile: Profile) -> Vec<Status> {
    let sides = side_versions_in(&state_root(), profile)
        .into_iter()
        .map(|version| instance_status(&Layout::side(profile, &version), Some(version)));
    std::iter::once(status(profile)).chain(sides).collect()
}

fn instance_status(layout: &Layout, side_version: Option<KafkaVersion>) -> Status {
    let env = ClusterEnv::load(&layout.env_file()).ok();
    let node_ids = layout.all_node_ids();
    let configs: Vec<String> = node_ids
        .iter()
        .map(|&node_id| fs::read_to_string(layout.config_file(node_id)).unwrap_or_default())
        .collect();
    let nodes: Vec<NodeStatus> = node_ids
        .iter()
        .zip(&configs)
        .map(|(&node_id, config)| {
            let process = PidState::read(&layout.pid_file(node_id), &layout.node_marker(node_id));
            let probe = match (&env, process) {
                (_, PidState::Absent | PidState::Dead(_)) => Err("not running".to_owned()),
                (None, PidState::Running(_)) => Err("no cluster.env".to_owned()),
                (Some(env), PidState::Running(_)) => check_node(env, node_id, &env.broker_ids),
            };
            NodeStatus {
                node_id,
                role: role_in_server_properties(config)
                    .unwrap_or_else(|| layout.profile.role(node_id)),
                added: !layout.profile.node_ids().contains(&node_id),
                process,
                listeners: listeners_in_server_properties(config),
                probe,
            }
        })
        .collect();
    let version = env
        .as_ref()
        .map(|env| env.version.clone())
        .or_else(|| side_version.clone())
        .or_else(|| {
            configs
                .iter()
                .find_map(|config| version_in_server_properties(config))
        });
    let kerberos_dir = layout.kerberos_dir();
    let kdc = kerberos_dir.is_dir().then(|| {
        let pid_file = kerberos::pid_file(&kerberos_dir);
        KdcStatus {
            process: PidState::read(&pid_file, &pid_file.display().to_string()),
            address: kerberos::listen_address(&kerberos_dir),
        }
    });
    Status {
        profile: layout.profile,
        side_version,
        state_dir: layout.root().to_owned(),
        version,
        env,
        nodes,
        kdc,
        watchdog: PidState::read(&layout.watchdog_pid(), &layout.watchdog_marker()),
    }
}

/// What a pid file says, checked against the running processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidState {
    /// No pid file (or an unreadable one): never started, or stopped cleanly.
    Absent,
    /// The pid runs and its command line carries our marker.
    Running(u32),
    /// Stale: the process is gone, or the pid now belongs to some other program.
    Dead(u32),
}

impl PidState {
    fn read(pid_file: &Path, marker: &str) -> Self {
        match read_pid(pid_file) {
            None => PidState::Absent,
            Some(pid) if is_running(pid, marker) => PidState::Running(pid),
            Some(pid) => PidState::Dead(pid),
        }
    }

    /// The pid while it runs.
    pub fn running(self) -> Option<u32> {
        match self {
            PidState::Running(pid) => Some(pid),
            PidState::Absent | PidState::Dead(_) => None,
        }
    }

    /// `pid 123` or `pid -`, as the report prints it.
    fn label(self) -> String {
        match self {
            PidState::Running(pid) | PidState::Dead(pid) => format!("pid {pid}"),
            PidState::Absent => "pid -".to_owned(),
        }
    }
}

/// Result of [`status`]: one instance of a profile.
#[derive(Debug, Clone)]
pub struct Status {
    /// The profile inspected.
    pub profile: Profile,
    /// The version of a side-by-side instance (from its directory name); `None` for the
    /// profile's own.
    pub side_version: Option<KafkaVersion>,
    /// The instance's state directory.
    pub state_dir: PathBuf,
    /// The Kafka version: from `cluster.env`, else the directory name, else `server.properties`.
    pub version: Option<KafkaVersion>,
    /// The parsed `cluster.env`, if present.
    pub env: Option<ClusterEnv>,
    /// One entry per node of the profile.
    pub nodes: Vec<NodeStatus>,
    /// The Kerberos KDC, for instances that have a `kerberos/` directory.
    pub kdc: Option<KdcStatus>,
    /// The watchdog that stops test-owned brokers.
    pub watchdog: PidState,
}

/// One node in a [`Status`].
#[derive(Debug, Clone)]
pub struct NodeStatus {
    /// `node.id`.
    pub node_id: u32,
    /// What it runs, per its `server.properties`.
    pub role: NodeRole,
    /// Whether a test added it (`ClusterEnv::start_extra_node`) rather than the profile.
    pub added: bool,
    /// The JVM, per its `broker.pid`.
    pub process: PidState,
    /// `(name, host:port)` of each listener in its `server.properties`, controller included.
    pub listeners: Vec<(String, String)>,
    /// `Ok` when it answered a Metadata request with our cluster id and every broker.
    pub probe: Result<(), String>,
}

/// The KDC of a [`Status`].
#[derive(Debug, Clone)]
pub struct KdcStatus {
    /// `krb5kdc`, per its `kdc.pid`.
    pub process: PidState,
    /// Where it listens, from its `kdc.conf`.
    pub address: Option<String>,
}

impl Status {
    /// Every node runs and answers (nodes a test added: unless stopped), and so does the KDC
    /// where there is one.
    pub fn is_healthy(&self) -> bool {
        let kdc_ok = self.env.as_ref().is_some_and(|env| {
            env.kerberos.is_none()
                || self
                    .kdc
                    .as_ref()
                    .is_some_and(|kdc| kdc.process.running().is_some())
        });
        // A node a test added and stopped again is gone on purpose.
        let node_ok = |node: &NodeStatus| {
            node.probe.is_ok() || (node.added && node.process.running().is_none())
        };
        kdc_ok && self.nodes.iter().all(node_ok)
    }

    /// At least one node's JVM runs.
    pub fn is_running(&self) -> bool {
        self.nodes
            .iter()
            .any(|node| node.process.running().is_some())
    }

    /// Whether a pid file names a process that is gone.
    pub fn has_stale_pid_files(&self) -> bool {
        let dead = |state: PidState| matches!(state, PidState::Dead(_));
        self.nodes.iter().any(|node| dead(node.process))
            || self.kdc.as_ref().is_some_and(|kdc| dead(kdc.process))
            || dead(self.watchdog)
    }

    /// `single`, or `single-3.9.2 (side by side)`.
    fn name(&self) -> String {
        match &self.side_version {
            None => self.profile.name().to_owned(),
            Some(version) => format!("{}-{version} (side by side)", self.profile),
        }
    }

    fn header(&self) -> String {
        let name = self.name();
        let version = self
            .version
            .as_ref()
            .map(|version| format!("Kafka {version}, "))
            .unwrap_or_default();
        match (&self.env, self.is_running()) {
            (Some(env), true) => format!(
                "{name}: Kafka {} ({}), bootstrap {}",
                env.version,
                if self.is_healthy() {
                    "healthy"
                } else {
                    "degraded"
                },
                env.bootstrap_plaintext
            ),
            (Some(env), false) => format!(
                "{name}: Kafka {}, not running (stale cluster.env)",
                env.version
            ),
            (None, true) => format!("{name}: {version}brokers run but cluster.env is missing"),
            (None, false) => format!("{name}: {version}not running"),
        }
    }

    fn node_lines(node: &NodeStatus) -> Vec<String> {
        let state = match (&node.probe, node.process) {
            (Ok(()), _) => "answering".to_owned(),
            (Err(_), PidState::Dead(_)) => "not running (stale broker.pid)".to_owned(),
            (Err(why), _) => why.clone(),
        };
        let memory = node
            .process
            .running()
            .and_then(peak_rss_kib)
            .map(|kib| format!(", peak RSS {} MiB", kib / 1024))
            .unwrap_or_default();
        let role = match (node.role, node.added) {
            (NodeRole::Combined, false) => String::new(),
            (role, added) => format!(
                " ({}{})",
                match role {
                    NodeRole::Combined => "broker+controller",
                    NodeRole::Broker => "broker",
                    NodeRole::Controller => "controller",
                },
                if added { ", added by a test" } else { "" }
            ),
        };
        let mut lines = vec![format!(
            "  node {}{role} {}: {state}{memory}",
            node.node_id,
            node.process.label()
        )];
        if node.process.running().is_some() && !node.listeners.is_empty() {
            let listeners: Vec<String> = node
                .listeners
                .iter()
                .map(|(name, address)| format!("{name} {address}"))
                .collect();
            lines.push(format!("    listeners {}", listeners.join(", ")));
        }
        lines
    }

    fn kdc_line(kdc: &KdcStatus) -> String {
        let at = kdc
            .address
            .as_ref()
            .map(|address| format!(" at {address}"))
            .unwrap_or_default();
        let state = match kdc.process {
            PidState::Running(_) => "running",
            PidState::Dead(_) => "not running (stale kdc.pid)",
            PidState::Absent => "not running",
        };
        format!("  KDC {}{at}: {state}", kdc.process.label())
    }

    fn watchdog_line(&self) -> Option<String> {
        match self.watchdog {
            PidState::Running(pid) => Some(format!(
                "  watchdog pid {pid}: stops the brokers once no test process uses them"
            )),
            PidState::Dead(pid) => Some(format!(
                "  watchdog pid {pid}: not running (stale watchdog.pid)"
            )),
            PidState::Absent if self.is_running() => Some(format!(
                "  no watchdog: runs until `cargo xtask kafka down --profile {}`",
                self.profile
            )),
            PidState::Absent => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let running = self.is_running();
        let mut lines = vec![self.header()];
        // A stopped instance shows only what is stale; a running one shows everything.
        for node in &self.nodes {
            if running || matches!(node.process, PidState::Dead(_)) {
                lines.extend(Self::node_lines(node));
            }
        }
        if let Some(kdc) = &self.kdc {
            if running || kdc.process != PidState::Absent {
                lines.push(Self::kdc_line(kdc));
            }
        }
        lines.extend(self.watchdog_line());
        f.write_str(&lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::process::{spawn_detached, terminate};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("klamm-status-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The pid of a process that has exited (and been reaped).
    fn dead_pid() -> u32 {
        let mut child = Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        child.id()
    }

    #[test]
    fn pid_state_tells_running_from_dead_and_absent() {
        let dir = temp_dir("pid");
        let pid_file = dir.join("x.pid");
        assert_eq!(PidState::read(&pid_file, "m"), PidState::Absent);
        fs::write(&pid_file, "not a pid\n").unwrap();
        assert_eq!(PidState::read(&pid_file, "m"), PidState::Absent);

        let gone = dead_pid();
        fs::write(&pid_file, format!("{gone}\n")).unwrap();
        assert_eq!(PidState::read(&pid_file, "m"), PidState::Dead(gone));

        // Our own pid runs, but without the marker it is someone else's: stale, never ours.
        let own = std::process::id();
        fs::write(&pid_file, format!("{own}\n")).unwrap();
        assert_eq!(
            PidState::read(&pid_file, "klamm-no-such-marker"),
            PidState::Dead(own)
        );

        let marker = format!("klamm-status-marker-{own}");
        // The trailing `:` keeps dash from exec-ing `sleep`, which would drop the marker.
        let pid = spawn_detached(
            Command::new("sh").args(["-c", "sleep 30; :", &marker]),
            &dir.join("log"),
        )
        .unwrap()
        .id();
        fs::write(&pid_file, format!("{pid}\n")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while PidState::read(&pid_file, &marker) != PidState::Running(pid)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(PidState::read(&pid_file, &marker), PidState::Running(pid));
        terminate(&[(pid, marker.clone())], Duration::from_secs(5));
        assert_eq!(PidState::read(&pid_file, &marker), PidState::Dead(pid));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A state directory as a crashed `single` instance leaves it: every file in place, every
    /// process gone.
    fn crashed_instance(root: &Path, version: &str) -> (Layout, u32) {
        let layout = Layout::at(Profile::Single, root.to_owned());
        let pid = dead_pid();
        fs::create_dir_all(layout.node_dir(1)).unwrap();
        fs::write(layout.pid_file(1), format!("{pid}\n")).unwrap();
        fs::write(
            layout.config_file(1),
            format!(
                "# Generated by klamm-test-harness for Kafka {version}; regenerated on every start.\n\
                 listeners=PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2\n"
            ),
        )
        .unwrap();
        fs::create_dir_all(layout.kerberos_dir()).unwrap();
        fs::write(
            kerberos::pid_file(&layout.kerberos_dir()),
            format!("{pid}\n"),
        )
        .unwrap();
        fs::write(
            layout.kerberos_dir().join("kdc.conf"),
            "[kdcdefaults]\n    kdc_tcp_listen = 127.0.0.1:3\n",
        )
        .unwrap();
        fs::write(layout.watchdog_pid(), format!("{pid}\n")).unwrap();
        (layout, pid)
    }

    #[test]
    fn crashed_instance_with_dead_pids_is_reported_as_not_running() {
        let root = temp_dir("crashed");
        let (layout, pid) = crashed_instance(&root, "3.9.2");
        let env = format!(
            "KAFKA_PROFILE=single\nKAFKA_VERSION=3.9.2\nCLUSTER_ID=abc\nSTATE_DIR={}\n\
             BROKER_IDS=1\nBROKER_1_PLAINTEXT=127.0.0.1:1\nBOOTSTRAP_PLAINTEXT=127.0.0.1:1\n\
             CONTROLLER_IDS=1\nCONTROLLER_1=127.0.0.1:2\nCONTROLLER_1_DIRECTORY_ID=x\n\
             BOOTSTRAP_CONTROLLER=127.0.0.1:2\nKRAFT_QUORUM=static\n",
            root.display()
        );
        fs::write(layout.env_file(), env).unwrap();
        let version: KafkaVersion = "3.9.2".parse().unwrap();
        let status = instance_status(&layout, Some(version.clone()));

        assert_eq!(status.version, Some(version));
        assert_eq!(status.nodes[0].process, PidState::Dead(pid));
        assert_eq!(status.kdc.as_ref().unwrap().process, PidState::Dead(pid));
        assert_eq!(status.watchdog, PidState::Dead(pid));
        assert!(!status.is_running());
        assert!(!status.is_healthy());
        assert!(status.has_stale_pid_files());
        let text = status.to_string();
        assert!(
            text.starts_with(
                "single-3.9.2 (side by side): Kafka 3.9.2, not running (stale cluster.env)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "  node 1 pid {pid}: not running (stale broker.pid)\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "  KDC pid {pid} at 127.0.0.1:3: not running (stale kdc.pid)"
            )),
            "{text}"
        );
        assert!(text.contains("(stale watchdog.pid)"), "{text}");
        for wrong in ["answering", "healthy", "degraded", "listeners"] {
            assert!(!text.contains(wrong), "{wrong} in {text}");
        }
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn version_comes_from_server_properties_without_cluster_env() {
        let root = temp_dir("no-env");
        let (layout, _) = crashed_instance(&root, "4.4.0");
        let status = instance_status(&layout, None);
        assert_eq!(
            status.version.as_ref().map(KafkaVersion::as_str),
            Some("4.4.0")
        );
        assert!(status.env.is_none());
        assert_eq!(
            status.nodes[0].listeners,
            [
                ("PLAINTEXT".to_owned(), "127.0.0.1:1".to_owned()),
                ("CONTROLLER".to_owned(), "127.0.0.1:2".to_owned())
            ]
        );
        let text = status.to_string();
        assert!(
            text.starts_with("single: Kafka 4.4.0, not running\n"),
            "{text}"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn instance_without_state_is_one_line() {
        let root = temp_dir("empty").join("never-started");
        let status = instance_status(&Layout::at(Profile::Cluster, root), None);
        assert!(!status.is_running() && !status.has_stale_pid_files());
        assert!(status.kdc.is_none());
        assert_eq!(status.to_string(), "cluster: not running");
    }
}
