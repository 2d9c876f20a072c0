//! One node's JVM: how it is launched, probed until it is ready, stopped, and the fault-test
//! helpers on [`ClusterEnv`] that act on it.

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::command::{render, tail_file, JAVA};
use crate::config::{self, listeners_in_server_properties};
use crate::env::ClusterEnv;
use crate::error::{HarnessError, IoContext, Result};
use crate::fetch::ensure_libs;
use crate::kerberos;
use crate::layout::Layout;
use crate::probe;
use crate::process::{is_running, read_pid, signal, spawn_detached, terminate};
use crate::profile::KafkaVersion;

use crate::cluster::{StopReport, START_TIMEOUT_ENV_VAR};

const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a SIGTERM'd broker gets for its controlled shutdown before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const LOG_TAIL_LINES: usize = 40;

/// Probes node `node_id`: a broker must answer a Metadata request that carries our cluster id
/// and lists every `expected` broker; a controller-only node must answer ApiVersions on its
/// CONTROLLER listener. The node's role and addresses come from its `server.properties`, so
/// nodes a test added are probed the same way.
pub(crate) fn check_node(env: &ClusterEnv, node_id: u32, expected: &[u32]) -> Result<(), String> {
    let layout = env.layout();
    let config = fs::read_to_string(layout.config_file(node_id)).unwrap_or_default();
    let role =
        config::role_in_server_properties(&config).unwrap_or_else(|| env.profile.role(node_id));
    let listener = |name: &str| {
        listeners_in_server_properties(&config)
            .into_iter()
            .find(|(listener, _)| listener == name)
            .map(|(_, address)| address)
    };
    if !role.is_broker() {
        let addr = listener("CONTROLLER")
            .ok_or_else(|| format!("node {node_id} has no CONTROLLER listener"))?;
        let addr: SocketAddr = addr.parse().map_err(|_| format!("bad address `{addr}`"))?;
        return probe::api_versions(addr, PROBE_TIMEOUT)
            .map(|_| ())
            .map_err(|e| format!("ApiVersions request to controller {addr}: {e}"));
    }
    let addr = env
        .broker_plaintext
        .get(&node_id)
        .cloned()
        .or_else(|| listener("PLAINTEXT"))
        .ok_or_else(|| format!("no address for node {node_id}"))?;
    let addr: SocketAddr = addr.parse().map_err(|_| format!("bad address `{addr}`"))?;
    let snapshot = probe::metadata(addr, PROBE_TIMEOUT)
        .map_err(|e| format!("Metadata request to {addr}: {e}"))?;
    if snapshot.cluster_id.as_deref() != Some(env.cluster_id.as_str()) {
        return Err(format!(
            "{addr} belongs to cluster {:?}, not ours",
            snapshot.cluster_id
        ));
    }
    let listed: Vec<i32> = snapshot.brokers.iter().map(|b| b.node_id).collect();
    let missing: Vec<u32> = expected
        .iter()
        .copied()
        .filter(|id| !listed.contains(&(*id as i32)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "metadata lists brokers {listed:?}, still missing {missing:?}"
        ))
    }
}

pub(crate) fn start_timeout() -> Duration {
    std::env::var(START_TIMEOUT_ENV_VAR)
        .ok()
        .and_then(|secs| secs.trim().parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_START_TIMEOUT)
}

/// Polls every starting node until it answers or the start-up timeout passes.
pub(crate) fn wait_until_ready(
    launcher: &Launcher,
    env: &ClusterEnv,
    children: &mut [(u32, Child)],
    expected: &[u32],
) -> Result<()> {
    let timeout = start_timeout();
    let deadline = Instant::now() + timeout;
    let layout = &launcher.layout;
    let mut last_probe: BTreeMap<u32, String> = BTreeMap::new();
    loop {
        for (node_id, child) in children.iter_mut() {
            if let Some(status) = child
                .try_wait()
                .context(|| format!("checking node {node_id}"))?
            {
                return Err(HarnessError::BrokerExited {
                    profile: layout.profile.name(),
                    node_id: *node_id,
                    status: status.to_string(),
                    log: layout.log_file(*node_id),
                    tail: tail_file(&layout.log_file(*node_id), LOG_TAIL_LINES),
                });
            }
        }
        for (node_id, _) in children.iter() {
            match check_node(env, *node_id, expected) {
                Ok(()) => last_probe.remove(node_id),
                Err(why) => last_probe.insert(*node_id, why),
            };
        }
        let Some((&node_id, probe)) = last_probe.iter().next() else {
            return Ok(());
        };
        if Instant::now() >= deadline {
            return Err(HarnessError::StartTimeout {
                profile: layout.profile.name(),
                node_id,
                timeout,
                probe: probe.clone(),
                log: layout.log_file(node_id),
                tail: tail_file(&layout.log_file(node_id), LOG_TAIL_LINES),
            });
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Builds and spawns the JVMs of one profile.
pub(crate) struct Launcher {
    pub(crate) layout: Layout,
    pub(crate) version: KafkaVersion,
    pub(crate) java: PathBuf,
    pub(crate) libs: PathBuf,
    pub(crate) log_config: PathBuf,
    /// `krb5.conf` of the profile's KDC, for the JVM's Kerberos (GSSAPI listeners).
    pub(crate) krb5_conf: Option<PathBuf>,
}

impl Launcher {
    /// Rebuilds the launcher of running brokers (for restarts) from their env.
    pub(crate) fn for_env(env: &ClusterEnv) -> Result<Self> {
        let layout = Layout::at(env.profile, env.state_dir.clone());
        let (log_name, _) = config::logging_config(&env.version);
        Ok(Launcher {
            log_config: layout.root().join(log_name),
            layout,
            version: env.version.clone(),
            java: JAVA.locate()?,
            libs: ensure_libs(&env.version)?,
            krb5_conf: env.kerberos.as_ref().map(|k| k.krb5_conf.clone()),
        })
    }

    /// `java` with a small heap, a quick-starting JIT and GC for a 2-core machine, and logging.
    fn java_command(&self, max_heap: &str) -> Command {
        let mut command = Command::new(&self.java);
        command
            .args([
                "-Xms64m",
                max_heap,
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
            ])
            .args(["-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"])
            .arg(config::logging_system_property(
                &self.version,
                &self.log_config,
            ));
        if let Some(krb5_conf) = &self.krb5_conf {
            command.arg(format!("-Djava.security.krb5.conf={}", krb5_conf.display()));
        }
        command.arg("-cp").arg(format!("{}/*", self.libs.display()));
        command
    }

    /// `kafka-storage format` of one node's storage (add `--standalone`, `--add-scram`, …).
    pub(crate) fn format_command(&self, cluster_id: &str, config_file: &Path) -> Command {
        let mut format = self.java_command("-Xmx256m");
        format.args([
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            cluster_id,
            "--config",
        ]);
        format.arg(config_file);
        format
    }

    pub(crate) fn spawn(&self, node_id: u32) -> Result<Child> {
        let mut command = self.java_command(self.layout.profile.max_heap());
        command
            .arg("kafka.Kafka")
            .arg(self.layout.config_file(node_id));
        let log = self.layout.log_file(node_id);
        let child = spawn_detached(&mut command, &log)?;
        let pid_file = self.layout.pid_file(node_id);
        fs::write(&pid_file, format!("{}\n", child.id()))
            .context(|| format!("writing {}", pid_file.display()))?;
        eprintln!(
            "klamm-test-harness: node {node_id}: `{}` (log {})",
            render(&command),
            log.display()
        );
        Ok(child)
    }
}

/// Stops the watchdog and every node JVM of the layout, and removes `cluster.env` first so that
/// nobody picks up brokers that are going away.
pub(crate) fn stop_processes(layout: &Layout) -> StopReport {
    stop_watchdog(layout);
    let _ = fs::remove_file(layout.env_file());
    let mut stopped = Vec::new();
    let mut processes = Vec::new();
    let node_ids = layout.all_node_ids();
    for &node_id in &node_ids {
        let marker = layout.node_marker(node_id);
        if let Some(pid) =
            read_pid(&layout.pid_file(node_id)).filter(|pid| is_running(*pid, &marker))
        {
            stopped.push((node_id, pid));
            processes.push((pid, marker));
        }
    }
    let killed = terminate(&processes, STOP_GRACE);
    for &node_id in &node_ids {
        let _ = fs::remove_file(layout.pid_file(node_id));
    }
    // After the brokers, which would log failed re-logins without it.
    let kdcs = kerberos::stop(&layout.kerberos_dir()).into_iter().collect();
    StopReport {
        stopped,
        killed,
        kdcs,
    }
}

/// Retires the watchdog: removing its pid file makes it exit on its next tick; SIGTERM is quicker.
pub(crate) fn stop_watchdog(layout: &Layout) {
    let pid = read_pid(&layout.watchdog_pid());
    let _ = fs::remove_file(layout.watchdog_pid());
    if let Some(pid) = pid {
        signal(pid, &layout.watchdog_marker(), libc::SIGTERM);
    }
}

/// Fault-test helpers. They act on the nodes of this env (brokers, controllers, and nodes a test
/// added), which other tests sharing the same profile also see: use them in tests that own
/// their expectations about the cluster.
impl ClusterEnv {
    pub(crate) fn layout(&self) -> Layout {
        Layout::at(self.profile, self.state_dir.clone())
    }

    /// The pid of node `node_id` (a broker, a controller, or a node a test added) if it runs.
    pub(crate) fn node_pid(&self, node_id: u32) -> Result<Option<u32>> {
        let layout = self.layout();
        if !layout.config_file(node_id).is_file() {
            let known: Vec<String> = layout.all_node_ids().iter().map(u32::to_string).collect();
            return Err(HarnessError::UnknownBroker {
                profile: self.profile.name(),
                node_id,
                known: known.join(","),
            });
        }
        Ok(read_pid(&layout.pid_file(node_id))
            .filter(|pid| is_running(*pid, &layout.node_marker(node_id))))
    }

    /// Whether node `node_id`'s JVM runs.
    pub fn is_broker_running(&self, node_id: u32) -> Result<bool> {
        Ok(self.node_pid(node_id)?.is_some())
    }

    /// SIGKILLs node `node_id` (a crash: no controlled shutdown) and waits until it is gone.
    pub fn kill_broker(&self, node_id: u32) -> Result<()> {
        if let Some(pid) = self.node_pid(node_id)? {
            signal(pid, &self.layout().node_marker(node_id), libc::SIGKILL);
            terminate(
                &[(pid, self.layout().node_marker(node_id))],
                Duration::from_secs(5),
            );
        }
        Ok(())
    }

    /// SIGTERMs node `node_id` (controlled shutdown), SIGKILL after 20 s, and waits until it is gone.
    pub fn stop_broker(&self, node_id: u32) -> Result<()> {
        if let Some(pid) = self.node_pid(node_id)? {
            terminate(&[(pid, self.layout().node_marker(node_id))], STOP_GRACE);
        }
        Ok(())
    }

    /// Starts node `node_id` again with its old config and data (a no-op if it runs) and waits
    /// until it answers with every broker that currently runs.
    pub fn restart_broker(&self, node_id: u32) -> Result<()> {
        if self.node_pid(node_id)?.is_some() {
            return Ok(());
        }
        let launcher = Launcher::for_env(self)?;
        let child = launcher.spawn(node_id)?;
        let mut expected = Vec::new();
        for &id in &self.broker_ids {
            if id == node_id || self.node_pid(id)?.is_some() {
                expected.push(id);
            }
        }
        let mut children = [(node_id, child)];
        let result = wait_until_ready(&launcher, self, &mut children, &expected);
        if result.is_err() {
            let _ = children[0].1.kill();
            let _ = children[0].1.wait();
        }
        result
    }

    /// Path of node `node_id`'s log file.
    pub fn broker_log(&self, node_id: u32) -> PathBuf {
        self.layout().log_file(node_id)
    }
}
