//! Advisory `flock(2)` locks between processes: who may start or stop a profile's brokers, and
//! which test processes still use them. The kernel drops a lock when its holder dies, however it
//! dies, which is what lets the watchdog notice the end of a test run even after a panic or SIGKILL.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, IoContext, Result};

/// A held lock; dropping it (or the process dying) releases it.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Waits up to `timeout` for an exclusive lock on `path` (created if missing).
    pub fn exclusive(path: &Path, timeout: Duration) -> Result<Self> {
        Self::acquire(path, libc::LOCK_EX, timeout)
    }

    /// Waits up to `timeout` for a shared lock on `path` (created if missing).
    pub fn shared(path: &Path, timeout: Duration) -> Result<Self> {
        Self::acquire(path, libc::LOCK_SH, timeout)
    }

    /// Takes an exclusive lock only if nobody holds any lock on `path` right now.
    pub fn try_exclusive(path: &Path) -> Result<Option<Self>> {
        let file = open(path)?;
        match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(Some(FileLock {
                file,
                path: path.to_owned(),
            })),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(source) => Err(HarnessError::Io {
                action: format!("locking {}", path.display()),
                source,
            }),
        }
    }

    /// Turns this lock into a shared one; the switch is not atomic (see `flock(2)`).
    pub fn downgrade(self) -> Result<Self> {
        flock(&self.file, libc::LOCK_SH)
            .context(|| format!("downgrading lock {}", self.path.display()))?;
        Ok(self)
    }

    /// Keeps the lock until the process exits.
    pub fn hold_until_exit(self) {
        std::mem::forget(self);
    }

    fn acquire(path: &Path, operation: libc::c_int, timeout: Duration) -> Result<Self> {
        let file = open(path)?;
        let deadline = Instant::now() + timeout;
        loop {
            match flock(&file, operation | libc::LOCK_NB) {
                Ok(()) => {
                    return Ok(FileLock {
                        file,
                        path: path.to_owned(),
                    })
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(HarnessError::LockTimeout {
                            path: path.to_owned(),
                            timeout,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(source) => {
                    return Err(HarnessError::Io {
                        action: format!("locking {}", path.display()),
                        source,
                    })
                }
            }
        }
    }
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .context(|| format!("opening lock file {}", path.display()))
}

fn flock(file: &File, operation: libc::c_int) -> io::Result<()> {
    // SAFETY: `flock` only reads its two integer arguments; the descriptor is owned by `file`,
    // which outlives the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_lock_blocks_exclusive_until_dropped() {
        let dir = std::env::temp_dir().join(format!("klamm-lock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users.lock");
        let reader = FileLock::shared(&path, Duration::from_secs(1)).unwrap();
        assert!(FileLock::try_exclusive(&path).unwrap().is_none());
        drop(reader);
        assert!(FileLock::try_exclusive(&path).unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
