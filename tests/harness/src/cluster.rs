//! Starting, inspecting and stopping a profile's brokers, and the fault-test helpers.
//!
//! A start formats fresh KRaft storage for every node (SCRAM users included) while, for the
//! `single` profile, a throw-away Kerberos KDC comes up beside it, launches one
//! `java … kafka.Kafka server.properties` per node and waits until each node answers a Metadata
//! request that carries our cluster id and lists every broker. Only then is `cluster.env` written,
//! so its presence means "was up"; [`running_env`] re-probes to tell whether it still is.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::command::{run_checked, JAVA};
use crate::config::{self, BrokerKerberos, NodePorts, NodeSpec, Quorum, SecurePorts, Security};
use crate::env::{ClusterEnv, ControllerEnv, OAuthEnv, SaslUsers};
use crate::error::{HarnessError, IoContext, Result};
use crate::fetch::ensure_libs;
use crate::kerberos::{self, KdcFiles};
use crate::layout::{allocate_ports, random_cluster_id, Layout};
use crate::lock::FileLock;
use crate::node::{check_node, stop_processes, stop_watchdog, wait_until_ready, Launcher};
use crate::process::{is_running, read_pid};
use crate::profile::{KafkaVersion, Profile};
use crate::tls;

/// Environment variable overriding the start-up timeout in seconds (default 90).
pub const START_TIMEOUT_ENV_VAR: &str = "KLAMM_KAFKA_START_TIMEOUT_SECS";
/// Covers a first-time Maven fetch done by whoever holds the lock.
pub(crate) const START_LOCK_TIMEOUT: Duration = Duration::from_secs(900);
/// Covers a watchdog's stop of its brokers.
pub(crate) const USERS_LOCK_TIMEOUT: Duration = Duration::from_secs(120);

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
        && layout.profile.node_ids().iter().all(|&node_id| {
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

/// `delegation.token.secret.key` of the `single` profile (a throw-away cluster on loopback).
const DELEGATION_TOKEN_SECRET: &str = "klamm-delegation-token-secret";

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

    let per_node = if profile.has_security() { 6 } else { 2 };
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
    let node_ports: BTreeMap<u32, NodePorts> = ids
        .iter()
        .copied()
        .zip(ports[..ids.len() * per_node].chunks(per_node))
        .map(|(id, p)| {
            let ports = NodePorts {
                plaintext: p[0],
                controller: p[1],
                secure: profile.has_security().then(|| SecurePorts {
                    sasl_plaintext: p[2],
                    ssl: p[3],
                    sasl_ssl: p[4],
                    sasl_oauthbearer: p[5],
                }),
            };
            (id, ports)
        })
        .collect();
    let controller_ids = profile.controller_ids();
    let broker_ids = profile.broker_ids();
    let controller_address = |id: &u32| format!("127.0.0.1:{}", node_ports[id].controller);
    let voters: Vec<String> = controller_ids
        .iter()
        .map(|id| format!("{id}@{}", controller_address(id)))
        .collect();
    let voters = voters.join(",");
    let bootstrap_controller: Vec<String> = controller_ids.iter().map(controller_address).collect();
    let bootstrap_controller = bootstrap_controller.join(",");
    let quorum = if profile.has_dynamic_quorum() {
        Quorum::Dynamic(&bootstrap_controller)
    } else {
        Quorum::Static(&voters)
    };
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
    let mut log_dirs = BTreeMap::new();
    for &node_id in ids {
        let role = profile.role(node_id);
        let dirs = layout.log_dirs(
            node_id,
            if role.is_broker() {
                profile.log_dirs_per_broker()
            } else {
                1
            },
        );
        for dir in &dirs {
            fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        }
        let spec = NodeSpec {
            profile,
            version,
            node_id,
            role,
            ports: node_ports[&node_id],
            quorum,
            log_dirs: &dirs,
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
                    delegation_token_secret: DELEGATION_TOKEN_SECRET,
                }),
                _ => None,
            },
        };
        log_dirs.insert(node_id, dirs.clone());
        let config_file = layout.config_file(node_id);
        fs::write(&config_file, config::server_properties(&spec))
            .context(|| format!("writing {}", config_file.display()))?;
        let mut format = launcher.format_command(&cluster_id, &config_file);
        if profile.has_dynamic_quorum() && role.is_controller() {
            // KIP-853: the first controller starts a quorum of one; the others join it as
            // observers and become voters only when a test adds them (AddRaftVoter).
            format.arg(if controller_ids.first() == Some(&node_id) {
                "--standalone"
            } else {
                "--no-initial-controllers"
            });
        }
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
    let controllers = controller_ids
        .iter()
        .map(|id| {
            Ok(ControllerEnv {
                node_id: *id,
                address: controller_address(id),
                directory_id: directory_id(&log_dirs[id][0])?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let broker_addresses = |pick: &dyn Fn(&NodePorts) -> Option<u16>| {
        let addresses: Vec<String> = broker_ids
            .iter()
            .filter_map(|id| pick(&node_ports[id]))
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        addresses.join(",")
    };
    let secure = |pick: fn(&SecurePorts) -> u16| {
        profile
            .has_security()
            .then(|| broker_addresses(&|p: &NodePorts| p.secure.as_ref().map(pick)))
    };
    let env = ClusterEnv {
        profile,
        version: version.clone(),
        cluster_id,
        state_dir: layout.root().to_owned(),
        broker_ids: broker_ids.clone(),
        broker_plaintext: broker_ids
            .iter()
            .map(|id| (*id, format!("127.0.0.1:{}", node_ports[id].plaintext)))
            .collect(),
        bootstrap_plaintext: broker_addresses(&|p: &NodePorts| Some(p.plaintext)),
        bootstrap_sasl_plaintext: secure(|s| s.sasl_plaintext),
        bootstrap_ssl: secure(|s| s.ssl),
        bootstrap_sasl_ssl: secure(|s| s.sasl_ssl),
        bootstrap_sasl_oauthbearer: secure(|s| s.sasl_oauthbearer),
        broker_log_dirs: broker_ids
            .iter()
            .map(|id| (*id, log_dirs[id].clone()))
            .collect(),
        controllers,
        bootstrap_controller,
        dynamic_quorum: profile.has_dynamic_quorum(),
        delegation_token_mechanisms: users
            .as_ref()
            .map(|users| {
                let scram = users.mechanisms.iter().filter(|m| m.starts_with("SCRAM-"));
                scram.cloned().collect()
            })
            .unwrap_or_default(),
        oauth: users.as_ref().map(|users| OAuthEnv {
            client_id: users.admin_user.clone(),
            client_secret: users.admin_password.clone(),
            user_client_id: users.user.clone(),
            user_client_secret: users.password.clone(),
            scope: crate::oauth::DEFAULT_SCOPE.to_owned(),
        }),
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
    if let Err(error) = wait_until_ready(&launcher, &env, &mut children, &env.broker_ids) {
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

/// The `directory.id` that `kafka-storage format` wrote into `dir/meta.properties`.
pub(crate) fn directory_id(dir: &Path) -> Result<String> {
    let file = dir.join("meta.properties");
    let text = fs::read_to_string(&file).context(|| format!("reading {}", file.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("directory.id="))
        .map(|id| id.trim().to_owned())
        .ok_or_else(|| HarnessError::Io {
            action: format!("reading the directory.id of {}", file.display()),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "no directory.id"),
        })
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
