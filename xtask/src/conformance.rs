//! `cargo xtask conformance`: checks klamm-protocol against Kafka's own Java codec.
//!
//! Finds the kafka-clients class path in the spec cache (fetching it if needed), builds the
//! `klamm-conformance` checker and runs it; the checker drives `xtask/java/Conformance.java` in
//! a JVM. The checker is a separate crate so that xtask itself never links klamm-protocol and
//! still builds, to regenerate it, when the generated code does not compile.

use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;

use crate::{artifacts, specs};

/// The cargo profile the checker is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// Optimised: minutes to build the generated code, then a run of seconds.
    Release,
    /// Unoptimised, with the features of `cargo test --workspace --all-features`, so that it
    /// reuses that build: seconds to build after the tests, a run about five times slower.
    Dev,
}

/// `cargo xtask conformance`: `cases` random values per message version, from `seed` if given,
/// with the checker built in `profile`.
pub fn run(cases: u32, seed: Option<u64>, profile: Profile) -> Result<()> {
    let specs = specs::ensure(specs::KAFKA_CLIENTS_VERSION)?;
    let root = specs::workspace_root();
    let build = match profile {
        Profile::Release => ["--bin", "klamm-conformance", "--release"],
        Profile::Dev => ["--bin", "klamm-conformance", artifacts::REUSE_TEST_BUILD],
    };
    let checker = artifacts::build_one(&build, "klamm-conformance")?;
    let mut command = Command::new(&checker);
    command
        .current_dir(&root)
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
        .with_context(|| format!("running {}", checker.display()))?;
    if !status.success() {
        bail!("conformance check failed ({status})");
    }
    Ok(())
}
