//! The harness's one error type: each variant says what failed and where to look next.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while fetching, starting, probing or stopping brokers.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A file-system or process operation failed.
    #[error("{action}: {source}")]
    Io {
        /// What the harness was doing, with the path or program involved.
        action: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A program the harness shells out to is not on `PATH`.
    #[error("`{program}` is not installed or not on PATH; it is needed to {purpose} (install it with `{install}`)")]
    MissingTool {
        /// The program name, e.g. `mvn`.
        program: &'static str,
        /// Why the harness needs it.
        purpose: &'static str,
        /// The Debian command that installs it.
        install: &'static str,
    },

    /// An external command ran but exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{output}")]
    CommandFailed {
        /// The command line, for copy-pasting.
        command: String,
        /// How it exited.
        status: String,
        /// The last lines of its stdout and stderr.
        output: String,
    },

    /// A profile name that is not `single`, `cluster` or `quorum`.
    #[error("unknown profile `{0}` (expected `single`, `cluster` or `quorum`)")]
    UnknownProfile(String),

    /// A Kafka version the harness does not know how to run.
    #[error("unsupported Kafka version `{0}` (expected 3.x or 4.x, e.g. 4.4.0 or 3.9.2)")]
    UnsupportedVersion(String),

    /// Brokers of another version already run under this profile.
    #[error(
        "profile `{profile}` already runs Kafka {running}, not {requested}; \
         run `cargo xtask kafka down --profile {profile}` first"
    )]
    VersionMismatch {
        /// The profile name.
        profile: &'static str,
        /// The version that runs.
        running: String,
        /// The version that was asked for.
        requested: String,
    },

    /// A broker JVM exited while the harness waited for it to come up.
    #[error("Kafka node {node_id} of profile `{profile}` exited during start-up ({status}); last lines of {log}:\n{tail}")]
    BrokerExited {
        /// The profile name.
        profile: &'static str,
        /// The node that died.
        node_id: u32,
        /// How it exited.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of that log.
        tail: String,
    },

    /// A broker did not answer a Metadata request listing every broker in time.
    #[error(
        "Kafka node {node_id} of profile `{profile}` was not ready within {timeout:?} \
         (last probe: {probe}); last lines of {log}:\n{tail}"
    )]
    StartTimeout {
        /// The profile name.
        profile: &'static str,
        /// The node that was not ready.
        node_id: u32,
        /// The bound that was exceeded.
        timeout: Duration,
        /// What the last probe saw.
        probe: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of that log.
        tail: String,
    },

    /// A `cluster.env` file that does not parse.
    #[error("malformed cluster env {path}: {reason}")]
    MalformedEnv {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A lock file stayed held by another process for too long.
    #[error("timed out after {timeout:?} waiting for lock {path} (another test run or `cargo xtask kafka` holds it)")]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long the harness waited.
        timeout: Duration,
    },

    /// A broker id that the profile does not have.
    #[error("profile `{profile}` has no broker {node_id} (brokers: {known})")]
    UnknownBroker {
        /// The profile name.
        profile: &'static str,
        /// The id asked for.
        node_id: u32,
        /// The ids that exist.
        known: String,
    },

    /// An operation that needs a dynamic KRaft quorum (the `quorum` profile).
    #[error("profile `{0}` has a static quorum; adding nodes needs the `quorum` profile")]
    StaticQuorum(&'static str),

    /// No brokers run under this profile.
    #[error("no Kafka brokers run under profile `{0}`; start them with `cargo xtask kafka up --profile {0}`")]
    NotRunning(&'static str),

    /// A Java test program or Kafka tool ended, or said nothing, before what the harness waited for.
    #[error("{program} {problem} while waiting for {waiting_for}; its output:\n{output}")]
    Program {
        /// The program, e.g. `ShareConsumer.java`.
        program: String,
        /// What went wrong: `exited (exit status: 1)`, `said nothing for 60s`.
        problem: String,
        /// What the harness waited for, e.g. a line starting with `READY`.
        waiting_for: String,
        /// The last lines of its stdout and stderr.
        output: String,
    },

    /// The lazily started shared brokers could not be started earlier in this process.
    #[error("shared Kafka profile `{profile}` is unavailable: {reason}")]
    SharedUnavailable {
        /// The profile name.
        profile: &'static str,
        /// Why the first attempt failed.
        reason: String,
    },
}

/// The harness's result type.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

/// Attaches "what was being done" to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn context(self, action: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, action: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| HarnessError::Io {
            action: action(),
            source,
        })
    }
}
