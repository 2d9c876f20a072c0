//! Brokers for integration tests: [`shared`] hands every test of a process the same running
//! profile, starting it at most once and making sure it stops after the test run, even one that
//! panicked or was killed.
//!
//! Brokers that `cargo xtask kafka up` started (no watchdog) are simply reused and left running.
//! Otherwise the first test process to need them starts them under `start.lock` and spawns a small
//! `sh` watchdog. Every test process using the profile holds a shared `flock` on `users.lock`
//! until it exits; the kernel drops it however the process ends. When the watchdog has been able
//! to take that lock exclusively for `KLAMM_KAFKA_LINGER_SECS` seconds (default 10, so that the
//! next test binary of the same `cargo test` reuses the brokers) it stops them. This works across
//! processes, which `PR_SET_PDEATHSIG` would not: it fires when the spawning *thread* exits, and
//! would kill brokers still used by another test binary.

use std::fs;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::cluster::{
    ensure_version, running_env, start_locked, START_LOCK_TIMEOUT, USERS_LOCK_TIMEOUT,
};
use crate::command::FLOCK;
use crate::env::ClusterEnv;
use crate::error::{HarnessError, IoContext, Result};
use crate::layout::Layout;
use crate::lock::FileLock;
use crate::node::stop_processes;
use crate::process::{is_running, read_pid, spawn_detached};
use crate::profile::{KafkaVersion, Profile};

/// Environment variable: seconds without any test process before test-owned brokers stop.
pub const LINGER_ENV_VAR: &str = "KLAMM_KAFKA_LINGER_SECS";
const DEFAULT_LINGER_SECS: u64 = 10;

static SINGLE: OnceLock<Result<ClusterEnv, String>> = OnceLock::new();
static CLUSTER: OnceLock<Result<ClusterEnv, String>> = OnceLock::new();
static QUORUM: OnceLock<Result<ClusterEnv, String>> = OnceLock::new();

/// The running brokers of `profile` for this test process, started on first use with the version
/// in `$KLAMM_KAFKA_VERSION` (default 4.4.0). Brokers that already run are reused if they have
/// that version, or any version when the variable is unset.
///
/// # Panics
///
/// When the brokers cannot be started; the message carries the broker's last log lines. Use
/// [`try_shared`] to handle that yourself.
pub fn shared(profile: Profile) -> &'static ClusterEnv {
    match try_shared(profile) {
        Ok(env) => env,
        Err(error) => panic!("{error}"),
    }
}

/// Like [`shared`], but returns the error. A failed start is not retried within one process.
pub fn try_shared(profile: Profile) -> Result<&'static ClusterEnv> {
    let cell = match profile {
        Profile::Single => &SINGLE,
        Profile::Cluster => &CLUSTER,
        Profile::Quorum => &QUORUM,
    };
    cell.get_or_init(|| {
        let requested = KafkaVersion::requested_in_env().map_err(|error| error.to_string())?;
        acquire(&Layout::new(profile), requested).map_err(|error| error.to_string())
    })
    .as_ref()
    .map_err(|reason| HarnessError::SharedUnavailable {
        profile: profile.name(),
        reason: reason.clone(),
    })
}

/// Brokers of `profile` running exactly `version`, for tests that compare Kafka versions side by
/// side in one run: the profile's own brokers when they run (or, per [`shared`], would be
/// started with) that version, otherwise a second instance of the profile beside them, in
/// `target/kafka/<profile>-<version>/` with its own ports (and, for `single`, its own KDC),
/// started on first use and stopped after the test run like [`shared`]'s.
///
/// ```no_run
/// use klamm_test_harness::{shared_version, KafkaVersion, Profile};
///
/// let new = shared_version(Profile::Single, &KafkaVersion::DEFAULT.parse().unwrap());
/// let old = shared_version(Profile::Single, &KafkaVersion::LEGACY.parse().unwrap());
/// assert_ne!(new.bootstrap_plaintext, old.bootstrap_plaintext);
/// ```
///
/// # Panics
///
/// When the brokers cannot be started, like [`shared`]; [`try_shared_version`] returns the
/// error instead.
pub fn shared_version(profile: Profile, version: &KafkaVersion) -> &'static ClusterEnv {
    match try_shared_version(profile, version) {
        Ok(env) => env,
        Err(error) => panic!("{error}"),
    }
}

/// Like [`shared_version`], but returns the error.
pub fn try_shared_version(profile: Profile, version: &KafkaVersion) -> Result<&'static ClusterEnv> {
    let main_version = match KafkaVersion::requested_in_env()? {
        Some(requested) => requested,
        None => running_env(&Layout::new(profile))
            .map(|env| env.version)
            .unwrap_or_else(KafkaVersion::default_version),
    };
    if &main_version == version {
        let env = try_shared(profile)?;
        if &env.version == version {
            return Ok(env);
        }
    }
    // Leaked once per (profile, version) and process: a handful of small structs at most.
    type Outcome = Result<&'static ClusterEnv, String>;
    static SIDES: Mutex<Vec<(Profile, KafkaVersion, Outcome)>> = Mutex::new(Vec::new());
    let mut sides = SIDES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let known = sides.iter().find(|(p, v, _)| *p == profile && v == version);
    let outcome = match known {
        Some((.., outcome)) => outcome.clone(),
        None => {
            let outcome = acquire(&Layout::side(profile, version), Some(version.clone()))
                .map(|env| &*Box::leak(Box::new(env)))
                .map_err(|error| error.to_string());
            sides.push((profile, version.clone(), outcome.clone()));
            outcome
        }
    };
    outcome.map_err(|reason| HarnessError::SharedUnavailable {
        profile: profile.name(),
        reason: format!("Kafka {version} side by side: {reason}"),
    })
}

/// Reuses or starts the brokers of `layout`; `requested` is an explicit version (which running
/// brokers must have), `None` takes whatever runs or else the default version.
fn acquire(layout: &Layout, requested: Option<KafkaVersion>) -> Result<ClusterEnv> {
    let version = requested
        .clone()
        .unwrap_or_else(KafkaVersion::default_version);
    layout.create()?;
    let start = FileLock::exclusive(&layout.start_lock(), START_LOCK_TIMEOUT)?;
    let mut users = FileLock::shared(&layout.users_lock(), USERS_LOCK_TIMEOUT)?;
    if let Some(env) = running_env(layout) {
        // Without an explicit $KLAMM_KAFKA_VERSION, whatever version runs will do.
        if requested.is_none() || env.version == version {
            users.hold_until_exit();
            return Ok(env);
        }
        // Another version runs: replace it only if a finished test run left it to its watchdog.
        let test_owned = read_pid(&layout.watchdog_pid())
            .is_some_and(|pid| is_running(pid, &layout.watchdog_marker()));
        drop(users);
        match FileLock::try_exclusive(&layout.users_lock())? {
            Some(exclusive) if test_owned => {
                stop_processes(layout);
                users = exclusive.downgrade()?;
            }
            _ => return Err(ensure_version(&env, &version).unwrap_err()),
        }
    }
    let env = start_locked(layout, &version)?;
    if let Err(error) = spawn_watchdog(layout) {
        stop_processes(layout);
        return Err(error);
    }
    users.hold_until_exit();
    drop(start);
    Ok(env)
}

fn spawn_watchdog(layout: &Layout) -> Result<()> {
    let flock = FLOCK.locate()?;
    let linger = std::env::var(LINGER_ENV_VAR)
        .ok()
        .and_then(|secs| secs.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_LINGER_SECS);
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("klamm-kafka-watchdog")
        .arg(layout.root())
        .arg(linger.to_string())
        .arg(flock)
        .arg(STOP_SCRIPT);
    let child = spawn_detached(&mut command, &layout.watchdog_log())?;
    let pid_file = layout.watchdog_pid();
    fs::write(&pid_file, format!("{}\n", child.id()))
        .context(|| format!("writing {}", pid_file.display()))
}

/// `$0` names the watchdog (and, with `$1`, is its marker); it runs while `watchdog.pid` holds its
/// own pid, so `cargo xtask kafka up` or `down` can retire it by removing that file.
const WATCHDOG_SCRIPT: &str = r#"
state=$1 linger=$2 flock=$3 stop=$4
i=0
while [ ! -s "$state/watchdog.pid" ] && [ "$i" -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
idle=0
while [ "$(cat "$state/watchdog.pid" 2>/dev/null)" = "$$" ]; do
  if "$flock" -n -x "$state/users.lock" true; then idle=$((idle + 1)); else idle=0; fi
  if [ "$idle" -ge "$linger" ]; then
    echo "no test process has used the brokers for ${linger}s: stopping them"
    "$flock" -n -x "$state/users.lock" /bin/sh -c "$stop" klamm-kafka-stop "$state" && exit 0
    idle=0
  fi
  sleep 1
done
"#;

/// Runs under the exclusive users lock: nobody can start using the brokers meanwhile. The pid
/// files go too, however it exits, so that `status` finds no stale ones.
const STOP_SCRIPT: &str = r#"
state=$1
rm -f "$state/cluster.env" "$state/watchdog.pid"
trap 'rm -f "$state"/node-*/broker.pid "$state/kerberos/kdc.pid"' EXIT
pids=
for f in "$state"/node-*/broker.pid; do
  [ -f "$f" ] || continue
  p=$(cat "$f")
  cfg="${f%/broker.pid}/server.properties"
  if [ -r "/proc/$p/cmdline" ] && tr '\0' '\n' < "/proc/$p/cmdline" | grep -qxF "$cfg"; then
    pids="$pids $p"
  fi
done
kdc="$state/kerberos/kdc.pid"
if [ -f "$kdc" ]; then
  p=$(cat "$kdc")
  if [ -r "/proc/$p/cmdline" ] && tr '\0' '\n' < "/proc/$p/cmdline" | grep -qxF "$kdc"; then
    pids="$pids $p"
  fi
fi
[ -n "$pids" ] || exit 0
kill -TERM $pids 2>/dev/null
i=0
while [ "$i" -lt 100 ]; do
  alive=
  for p in $pids; do
    if [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then alive=1; fi
  done
  [ -z "$alive" ] && exit 0
  sleep 0.2
  i=$((i + 1))
done
kill -KILL $pids 2>/dev/null
exit 0
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_script_leaves_no_stale_pid_files() {
        let state = std::env::temp_dir().join(format!("klamm-stop-script-{}", std::process::id()));
        let _ = fs::remove_dir_all(&state);
        fs::create_dir_all(state.join("node-1")).unwrap();
        fs::create_dir_all(state.join("kerberos")).unwrap();
        let mut gone = Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        let stale = format!("{}\n", gone.id());
        for file in ["node-1/broker.pid", "kerberos/kdc.pid", "watchdog.pid"] {
            fs::write(state.join(file), &stale).unwrap();
        }
        fs::write(state.join("cluster.env"), "KAFKA_PROFILE=single\n").unwrap();
        let status = Command::new("/bin/sh")
            .arg("-c")
            .arg(STOP_SCRIPT)
            .arg("klamm-kafka-stop")
            .arg(&state)
            .status()
            .unwrap();
        assert!(status.success(), "{status}");
        for file in [
            "node-1/broker.pid",
            "kerberos/kdc.pid",
            "watchdog.pid",
            "cluster.env",
        ] {
            assert!(!state.join(file).exists(), "{file} is left behind");
        }
        fs::remove_dir_all(&state).unwrap();
    }
}
