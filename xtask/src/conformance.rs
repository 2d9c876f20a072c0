//! `cargo xtask conformance`: checks klamm-protocol against Kafka's own Java codec.
//!
//! Finds the kafka-clients class path in the spec cache (fetching it if needed) and runs the
//! `klamm-conformance` checker in release mode, which drives `xtask/java/Conformance.java` in a
//! JVM. The checker is a separate crate so that xtask itself never links klamm-protocol and still
//! builds, to regenerate it, when the generated code does not compile.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::specs;

/// `cargo xtask conformance`: `cases` random values per message version, from `seed` if given.
pub fn run(cases: u32, seed: Option<u64>) -> Result<()> {
    let specs = specs::ensure(specs::KAFKA_CLIENTS_VERSION)?;
    let root = specs::workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["run", "--release", "-p", "klamm-conformance", "--"])
        .arg("--class-path")
        .arg(specs.class_path())
        .arg("--java-source")
        .arg(root.join("xtask/java/Conformance.java"))
        .arg("--cases")
        .arg(cases.to_string());
    if let Some(seed) = seed {
        command.arg("--seed").arg(seed.to_string());
    }
    let status = command
        .status()
        .context("running cargo run -p klamm-conformance")?;
    if !status.success() {
        bail!("conformance check failed ({status})");
    }
    Ok(())
}
