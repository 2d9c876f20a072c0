//! Starting, inspecting and stopping a profile's brokers, and the fault-test helpers.
//!
//! A start formats fresh KRaft storage for every node (SCRAM users included) while, for the
//! `single` profile, a throw-away Kerberos KDC comes up beside it, launches one
//! `java … kafka.Kafka server.properties` per node and waits until each node answers a Metadata
//! request that carries our cluster id and lists every broker. Only then is `cluster.env` written,
//! so its presence means "was up"; [`running_env`] re-probes to tell whether it still is.

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::command::{render, run_checked, tail_file, JAVA};
use crate::config::{self, BrokerKerberos, NodePorts, NodeSpec, SecurePorts, Security};
use crate::env::{ClusterEnv, SaslUsers};
use crate::error::{HarnessError, IoContext, Result};
use crate::fetch::ensure_libs;
use crate::kerberos::{self, KdcFiles};
use crate::layout::{allocate_ports, random_cluster_id, Layout};
use crate::lock::FileLock;
use crate::probe;
use crate::process::{is_running, read_pid, signal, spawn_detached, terminate};
use crate::profile::{KafkaVersion, Profile};
use crate::tls;

/// Environment variable overriding the start-up timeout in seconds (default 90).
pub const START_TIMEOUT_ENV_VAR: &str = "KLAMM_KAFKA_START_TIMEOUT_SECS";
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a SIGTERM'd broker gets for its controlled shutdown before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// Covers a first-time Maven fetch done by whoever holds the lock.
pub(crate) const START_LOCK_TIMEOUT: Duration = Duration::from_secs(900);
/// Covers a watchdog's stop of its brokers.
pub(crate) const USERS_LOCK_TIMEOUT: Duration = Duration::from_secs(120);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const LOG_TAIL_LINES: usize = 40;

/// Starts `profile` with `version`, or returns the running brokers' env if they already run (then
/// with `version` checked, and a test run's watchdog retired so the brokers stay until `down`).
pub fn up(profile: Profile, version: &KafkaVersion) -> Result<ClusterEnv> {
    let layout = Layout::new(profile);
    layout.create()?;
    let _start = FileLock::exclusive(&layout.start_lock(), START_LOCK_TIMEOUT)?;
    let _users = FileLock::shared(&layout.users_lock(), USERS_LOCK_TIMEOUT)?;
    if let Some(env) = running_env(&layout) {
        ensure_version(&env, version)?;
        stop_watchdog(&layout);
        return Ok(env);
    }
    start_locked(&layout, version)
}

/// Stops `profile`'s brokers (SIGTERM, SIGKILL after 20 s), its KDC and any watchdog, and the
/// same for every side-by-side instance of the profile ([`crate::shared_version`]); a no-op
/// when nothing runs. Logs and data stay until the next start.
pub fn down(profile: Profile) -> Result<StopReport> {
    let mut report = StopReport::default();
    for layout in std::iter::once(Layout::new(profile)).chain(Layout::sides(profile)) {
        if !layout.root().exists() {
            continue;
        }
        let _start = FileLock::exclusive(&layout.start_lock(), START_LOCK_TIMEOUT)?;
        let stopped = stop_processes(&layout);
        report.stopped.extend(stopped.stopped);
        report.killed.extend(stopped.killed);
        report.kdcs.extend(stopped.kdcs);
    }
    Ok(report)
}

/// Result of [`down`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// `(node id, pid)` of every broker that was running.
    pub stopped: Vec<(u32, u32)>,
    /// Pids that ignored SIGTERM for 20 s and got SIGKILL.
    pub killed: Vec<u32>,
    /// Pids of the Kerberos KDCs that were running.
    pub kdcs: Vec<u32>,
}

/// The env of brokers that run and answer right now, if any.
pub(crate) fn running_env(layout: &Layout) -> Option<ClusterEnv> {
    let env = ClusterEnv::load(&layout.env_file()).ok()?;
    if env.profile != layout.profile {
        return None;
    }
    let kdc_healthy = env.kerberos.is_none() || kerberos::is_kdc_running(&layout.kerberos_dir());
    let healthy = kdc_healthy
        && env.broker_ids.iter().all(|&node_id| {
            read_pid(&layout.pid_file(node_id))
                .is_some_and(|pid| is_running(pid, &layout.node_marker(node_id)))
                && check_node(&env, node_id, &env.broker_ids).is_ok()
        });
    healthy.then_some(env)
}

pub(crate) fn ensure_version(env: &ClusterEnv, requested: &KafkaVersion) -> Result<()> {
    if &env.version == requested {
        return Ok(());
    }
    Err(HarnessError::VersionMismatch {
        profile: env.profile.name(),
        running: env.version.to_string(),
        requested: requested.to_string(),
    })
}

/// Asks `node_id` for metadata; `Ok` if it carries our cluster id and lists every `expected` broker.
pub(crate) fn check_node(env: &ClusterEnv, node_id: u32, expected: &[u32]) -> Result<(), String> {
    let addr = env
        .broker_plaintext
        .get(&node_id)
        .ok_or_else(|| format!("no address for node {node_id} in cluster.env"))?;
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

fn start_timeout() -> Duration {
    std::env::var(START_TIMEOUT_ENV_VAR)
        .ok()
        .and_then(|secs| secs.trim().parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_START_TIMEOUT)
}

/// The fixed test users (a throw-away cluster on loopback: fixed passwords keep envs stable).
fn default_users() -> SaslUsers {
    SaslUsers {
        mechanisms: vec![
            "PLAIN".into(),
            "SCRAM-SHA-256".into(),
            "SCRAM-SHA-512".into(),
        ],
        admin_user: "klamm-admin".into(),
        admin_password: "klamm-admin-secret".into(),
        user: "klamm-user".into(),
        password: "klamm-user-secret".into(),
    }
}

/// Starts from scratch; the caller holds the start lock. Leaves nothing running on failure.
pub(crate) fn start_locked(layout: &Layout, version: &KafkaVersion) -> Result<ClusterEnv> {
    stop_processes(layout);
    layout.clean()?;
    let result = start_clean(layout, version);
    if result.is_err() {
        // The KDC may run already when a later step fails.
        stop_processes(layout);
    }
    result
}

fn start_clean(layout: &Layout, version: &KafkaVersion) -> Result<ClusterEnv> {
    let libs = ensure_libs(version)?;
    let java = JAVA.locate()?;
    let profile = layout.profile;
    let ids = profile.node_ids();
    let started = Instant::now();

    let per_node = if profile.has_security() { 5 } else { 2 };
    let kdc_ports = usize::from(profile.has_security());
    let ports = allocate_ports(ids.len() * per_node + kdc_ports)?;
    let kdc = profile
        .has_security()
        .then(|| KdcFiles::new(layout.kerberos_dir(), ports[ids.len() * per_node]));
    if kdc.is_some() {
        // Before anything slow: a machine without the KDC programs fails (or installs them)
        // at once.
        kerberos::ensure_tools()?;
    }
    let node_ports: Vec<NodePorts> = ports[..ids.len() * per_node]
        .chunks(per_node)
        .map(|p| NodePorts {
            plaintext: p[0],
            controller: p[1],
            secure: profile.has_security().then(|| SecurePorts {
                sasl_plaintext: p[2],
                ssl: p[3],
                sasl_ssl: p[4],
            }),
        })
        .collect();
    let voters: Vec<String> = ids
        .iter()
        .zip(&node_ports)
        .map(|(id, p)| format!("{id}@127.0.0.1:{}", p.controller))
        .collect();
    let voters = voters.join(",");
    let cluster_id = random_cluster_id();
    let users = profile.has_security().then(default_users);
    let pki = if profile.has_security() {
        Some(tls::generate(&layout.tls_dir())?)
    } else {
        None
    };

    let (log_name, log_text) = config::logging_config(version);
    let log_config = layout.root().join(log_name);
    fs::write(&log_config, log_text).context(|| format!("writing {}", log_config.display()))?;
    let launcher = Launcher {
        layout: layout.clone(),
        version: version.clone(),
        java,
        libs,
        log_config,
        krb5_conf: kdc.as_ref().map(KdcFiles::krb5_conf),
    };
    let broker_principal = kdc.as_ref().map(KdcFiles::broker_principal);
    let broker_keytab = kdc.as_ref().map(KdcFiles::broker_keytab);

    let mut format_commands = Vec::new();
    for (&node_id, ports) in ids.iter().zip(&node_ports) {
        let data_dir = layout.data_dir(node_id);
        fs::create_dir_all(&data_dir).context(|| format!("creating {}", data_dir.display()))?;
        let spec = NodeSpec {
            profile,
            version,
            node_id,
            ports: *ports,
            quorum_voters: &voters,
            data_dir: &data_dir,
            security: match (&users, &pki) {
                (Some(users), Some(pki)) => Some(Security {
                    users,
                    keystore: &pki.broker_keystore,
                    truststore: &pki.files.ca_file,
                    kerberos: broker_principal
                        .as_deref()
                        .zip(broker_keytab.as_deref())
                        .map(|(principal, keytab)| BrokerKerberos {
                            service_name: kerberos::SERVICE_NAME,
                            principal,
                            keytab,
                        }),
                }),
                _ => None,
            },
        };
        let config_file = layout.config_file(node_id);
        fs::write(&config_file, config::server_properties(&spec))
            .context(|| format!("writing {}", config_file.display()))?;
        let mut format = launcher.java_command("-Xmx256m");
        format.args([
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            &cluster_id,
            "--config",
        ]);
        format.arg(&config_file);
        if let Some(users) = &users {
            format.args(config::scram_format_args(users));
        }
        format_commands.push(format);
    }
    // Each format is a JVM start of its own: run them side by side, and the KDC (well under a
    // second) beside them, so that it adds nothing to the start-up time.
    let kdc_ready_after = std::thread::scope(|scope| {
        let kdc = kdc.as_ref().map(|files| {
            scope.spawn(move || {
                let started = Instant::now();
                kerberos::start(files).map(|_child| started.elapsed())
            })
        });
        let handles: Vec<_> = format_commands
            .iter_mut()
            .map(|command| scope.spawn(move || run_checked(command).map(|_| ())))
            .collect();
        let formatted = handles
            .into_iter()
            .try_for_each(|handle| handle.join().expect("format thread panicked"));
        let kdc_ready_after = kdc
            .map(|handle| handle.join().expect("KDC thread panicked"))
            .transpose();
        formatted.and(kdc_ready_after)
    })?;

    let env = ClusterEnv {
        profile,
        version: version.clone(),
        cluster_id,
        state_dir: layout.root().to_owned(),
        broker_ids: ids.to_vec(),
        broker_plaintext: ids
            .iter()
            .zip(&node_ports)
            .map(|(id, p)| (*id, format!("127.0.0.1:{}", p.plaintext)))
            .collect(),
        bootstrap_plaintext: join_addresses(&node_ports, |p| Some(p.plaintext)),
        bootstrap_sasl_plaintext: profile
            .has_security()
            .then(|| join_addresses(&node_ports, |p| p.secure.map(|s| s.sasl_plaintext))),
        bootstrap_ssl: profile
            .has_security()
            .then(|| join_addresses(&node_ports, |p| p.secure.map(|s| s.ssl))),
        bootstrap_sasl_ssl: profile
            .has_security()
            .then(|| join_addresses(&node_ports, |p| p.secure.map(|s| s.sasl_ssl))),
        sasl: users,
        tls: pki.map(|pki| pki.files),
        kerberos: kdc.as_ref().map(KdcFiles::env),
    };

    let mut children = Vec::new();
    for &node_id in ids {
        match launcher.spawn(node_id) {
            Ok(child) => children.push((node_id, child)),
            Err(error) => {
                abort_start(layout, &mut children);
                return Err(error);
            }
        }
    }
    if let Err(error) = wait_until_ready(&launcher, &env, &mut children, ids) {
        abort_start(layout, &mut children);
        return Err(error);
    }
    env.write(&layout.env_file())?;
    let kdc_note = kdc_ready_after
        .map(|after| format!(" (KDC ready after {:.2}s)", after.as_secs_f64()))
        .unwrap_or_default();
    eprintln!(
        "klamm-test-harness: Kafka {version} profile `{profile}` up in {:.1}s at {}{kdc_note}",
        started.elapsed().as_secs_f64(),
        env.bootstrap_plaintext
    );
    Ok(env)
}

/// Kills what a failed start spawned. The `Child` handles are used rather than pids because a
/// JVM spawned a moment ago may not show its command line (our marker) in `/proc` yet.
fn abort_start(layout: &Layout, children: &mut [(u32, Child)]) {
    for (_, child) in children.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    stop_processes(layout);
}

fn join_addresses(ports: &[NodePorts], pick: impl Fn(&NodePorts) -> Option<u16>) -> String {
    let addresses: Vec<String> = ports
        .iter()
        .filter_map(&pick)
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    addresses.join(",")
}

/// Polls every starting node until it answers or the start-up timeout passes.
fn wait_until_ready(
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
struct Launcher {
    layout: Layout,
    version: KafkaVersion,
    java: PathBuf,
    libs: PathBuf,
    log_config: PathBuf,
    /// `krb5.conf` of the profile's KDC, for the JVM's Kerberos (GSSAPI listeners).
    krb5_conf: Option<PathBuf>,
}

impl Launcher {
    /// Rebuilds the launcher of running brokers (for restarts) from their env.
    fn for_env(env: &ClusterEnv) -> Result<Self> {
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

    fn spawn(&self, node_id: u32) -> Result<Child> {
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
    for &node_id in layout.profile.node_ids() {
        let marker = layout.node_marker(node_id);
        if let Some(pid) =
            read_pid(&layout.pid_file(node_id)).filter(|pid| is_running(*pid, &marker))
        {
            stopped.push((node_id, pid));
            processes.push((pid, marker));
        }
    }
    let killed = terminate(&processes, STOP_GRACE);
    for &node_id in layout.profile.node_ids() {
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

/// Fault-test helpers. They act on the brokers of this env, which other tests sharing the same
/// profile also see: use them in tests that own their expectations about the cluster.
impl ClusterEnv {
    fn layout(&self) -> Layout {
        Layout::at(self.profile, self.state_dir.clone())
    }

    fn node_pid(&self, node_id: u32) -> Result<Option<u32>> {
        if !self.broker_ids.contains(&node_id) {
            let known: Vec<String> = self.broker_ids.iter().map(u32::to_string).collect();
            return Err(HarnessError::UnknownBroker {
                profile: self.profile.name(),
                node_id,
                known: known.join(","),
            });
        }
        let layout = self.layout();
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
