//! Broker processes by pid: is it still our JVM, signal it, wait for it to go.
//!
//! A pid is only trusted while `/proc/<pid>/cmdline` still contains a marker of ours (the node's
//! `server.properties` path), so a recycled pid is never signalled.

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{IoContext, Result};

/// Whether `pid` runs a process whose command line contains `marker` (zombies count as gone).
pub(crate) fn is_running(pid: u32, marker: &str) -> bool {
    reap(pid);
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    if is_zombie(pid) {
        return false;
    }
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    cmdline.contains(marker)
}

fn is_zombie(pid: u32) -> bool {
    // The state follows the parenthesised command name, which may itself contain spaces.
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// Collects the exit status if `pid` is our own child that has exited, so it does not linger as
/// a zombie in a long-running test process. A no-op for anyone else's process.
fn reap(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    let mut status = 0;
    // SAFETY: `waitpid` with WNOHANG only writes the status integer we pass; it never blocks and
    // fails harmlessly with ECHILD for processes that are not our children.
    unsafe {
        libc::waitpid(pid, &mut status, libc::WNOHANG);
    }
}

/// Sends `signal` to `pid` if it still runs with `marker`.
pub(crate) fn signal(pid: u32, marker: &str, signal: libc::c_int) {
    if !is_running(pid, marker) {
        return;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: `kill` takes two integers and has no memory effects; the pid was just checked to
    // belong to our process.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// SIGTERM to every process, SIGKILL to those still running after `grace`, then waits (bounded)
/// until all are gone. Returns the pids that needed SIGKILL.
pub(crate) fn terminate(processes: &[(u32, String)], grace: Duration) -> Vec<u32> {
    for (pid, marker) in processes {
        signal(*pid, marker, libc::SIGTERM);
    }
    let alive = |list: &[(u32, String)]| -> Vec<(u32, String)> {
        list.iter()
            .filter(|(pid, marker)| is_running(*pid, marker))
            .cloned()
            .collect()
    };
    let deadline = Instant::now() + grace;
    let mut remaining = alive(processes);
    while !remaining.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        remaining = alive(&remaining);
    }
    let killed: Vec<u32> = remaining.iter().map(|(pid, _)| *pid).collect();
    for (pid, marker) in &remaining {
        signal(*pid, marker, libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !remaining.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        remaining = alive(&remaining);
    }
    killed
}

/// Starts `command` detached from the caller's terminal (own process group, so Ctrl-C on
/// `cargo xtask` does not reach it), with stdout and stderr appended to `log`. Dropping the
/// returned `Child` neither kills nor waits for it.
pub(crate) fn spawn_detached(command: &mut Command, log: &Path) -> Result<Child> {
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .context(|| format!("opening {}", log.display()))?;
    let err = out
        .try_clone()
        .context(|| format!("duplicating {}", log.display()))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .context(|| format!("starting `{}`", crate::command::render(command)))?;
    Ok(child)
}

/// Reads a pid file; `None` if it is missing or garbled.
pub(crate) fn read_pid(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Peak resident set size (`VmHWM`) of `pid` in KiB, if it still runs.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminate_stops_a_child_and_pid_reuse_guard_holds() {
        let dir = std::env::temp_dir().join(format!("klamm-process-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let marker = format!("klamm-marker-{}", std::process::id());
        // The trailing `:` keeps dash from exec-ing `sleep`, which would drop the marker.
        let pid = spawn_detached(
            Command::new("sh").args(["-c", "sleep 30; :", &marker]),
            &dir.join("log"),
        )
        .unwrap()
        .id();
        // The command line appears a moment after spawn returns (the vfork parent resumes
        // during exec).
        let deadline = Instant::now() + Duration::from_secs(5);
        while !is_running(pid, &marker) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(is_running(pid, &marker));
        assert!(!is_running(pid, "some-other-marker"));
        assert!(peak_rss_kib(pid).is_some());
        let killed = terminate(&[(pid, marker.clone())], Duration::from_secs(5));
        assert!(killed.is_empty(), "sh exits on SIGTERM");
        assert!(!is_running(pid, &marker));
        fs::remove_dir_all(&dir).unwrap();
    }
}
