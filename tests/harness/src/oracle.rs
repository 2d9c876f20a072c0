//! The independent oracles: kafka-python 3.x, a client that shares no code with Klamm, driven by
//! the small scripts in `tests/harness/oracle/`; and the Java reference client and tools of the
//! brokers' own release ([`java_program`], [`java_tool`], more in [`crate::java`]).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::command::{run_checked, PYTHON};
use crate::error::Result;
use crate::fetch::cache_root;
use crate::java::{Java, JavaCommand};
use crate::lock::FileLock;
use crate::profile::KafkaVersion;

/// The pinned oracle release.
pub const KAFKA_PYTHON_REQUIREMENT: &str = "kafka-python==3.0.12";

/// Serialises the check within a process; the file lock serialises pip across processes.
static INSTALL: Mutex<bool> = Mutex::new(false);

/// Installs kafka-python 3.0.12 with `python3 -m pip` unless a 3.x release is already importable.
pub fn ensure_kafka_python() -> Result<()> {
    let mut done = INSTALL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if *done {
        return Ok(());
    }
    if !kafka_python_importable()? {
        std::fs::create_dir_all(cache_root()).ok();
        let _lock = FileLock::exclusive(&cache_root().join("pip.lock"), Duration::from_secs(600))?;
        if !kafka_python_importable()? {
            eprintln!("klamm-test-harness: installing {KAFKA_PYTHON_REQUIREMENT} with pip");
            let mut pip = python()?;
            pip.args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                KAFKA_PYTHON_REQUIREMENT,
            ])
            .env("PIP_ROOT_USER_ACTION", "ignore");
            run_checked(&mut pip)?;
        }
    }
    *done = true;
    Ok(())
}

fn kafka_python_importable() -> Result<bool> {
    let output = python()?
        .args([
            "-c",
            "import kafka, sys; sys.exit(0 if kafka.__version__.startswith('3.') else 1)",
        ])
        .output()
        .map_err(|source| crate::error::HarnessError::Io {
            action: "running python3".to_owned(),
            source,
        })?;
    Ok(output.status.success())
}

/// `python3` with bytecode caching off, so the oracle leaves no `__pycache__` in the tree.
pub fn python() -> Result<Command> {
    let mut command = PYTHON.command()?;
    command.env("PYTHONDONTWRITEBYTECODE", "1");
    Ok(command)
}

/// Path of an oracle script, e.g. `oracle_script("kafka_oracle.py")`.
pub fn oracle_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("oracle")
        .join(name)
}

/// `java … <Name>` for the single-file program `tests/harness/java/<Name>.java` on `version`'s
/// tools classpath (compiled on first use), e.g.
/// `java_program(&env.version, "ShareConsumer.java")?.args([...]).spawn()?`.
pub fn java_program(version: &KafkaVersion, source_name: &str) -> Result<JavaCommand> {
    Java::new(version).program(source_name)
}

/// `java … <main_class>` for one of Kafka's own tools on `version`'s tools classpath, e.g.
/// `java_tool(&env.version, "org.apache.kafka.tools.MetadataQuorumCommand")?.args([...]).run()?`.
pub fn java_tool(version: &KafkaVersion, main_class: &str) -> Result<JavaCommand> {
    Java::new(version).tool(main_class)
}
