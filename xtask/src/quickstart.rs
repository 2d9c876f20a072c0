//! `cargo xtask quickstart`: start the `single` broker profile (or reuse it), build the `klamm`
//! CLI and drive it through a short scripted session, so a newcomer sees the tool work end to
//! end in one command. The broker is left running for further experiments.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use klamm_test_harness::{self as harness, KafkaVersion, Profile};

use crate::specs::{cargo, workspace_root};

const TOPIC: &str = "quickstart-orders";

/// The scripted session, one `klamm` invocation per entry (after `-b <bootstrap>`).
const SESSION: &[&[&str]] = &[
    &["cluster", "info"],
    &[
        "topic",
        "create",
        TOPIC,
        "--partitions",
        "3",
        "--replication-factor",
        "1",
        "--config",
        "retention.ms=3600000",
    ],
    &["topic", "list"],
    &["topic", "describe", TOPIC],
    &["config", "describe", "--topic", TOPIC],
    &["cluster", "health"],
    &["topic", "delete", TOPIC],
];

pub fn run() -> Result<()> {
    let env = harness::up(Profile::Single, &KafkaVersion::default_version())
        .context("starting the `single` broker profile")?;
    let bootstrap = env.bootstrap_plaintext.clone();
    println!("broker: Kafka {} at {bootstrap}", env.version);

    let klamm = build_cli()?;
    // A run interrupted half-way leaves the topic behind; start from a clean slate.
    let _ = Command::new(&klamm)
        .args(["-b", &bootstrap, "topic", "delete", TOPIC])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    for args in SESSION {
        println!();
        println!("$ klamm -b {bootstrap} {}", args.join(" "));
        let status = Command::new(&klamm)
            .arg("-b")
            .arg(&bootstrap)
            .args(*args)
            .status()
            .with_context(|| format!("running {}", klamm.display()))?;
        if !status.success() {
            bail!("`klamm {}` failed ({status})", args.join(" "));
        }
    }

    println!();
    println!("The broker is still running. Try it yourself:");
    println!("  export KLAMM_BOOTSTRAP_SERVER={bootstrap}");
    println!("  {} topic list", klamm.display());
    println!("Stop it with: cargo xtask kafka down");
    Ok(())
}

/// Builds the CLI with the cargo running this xtask and returns the binary's path.
fn build_cli() -> Result<PathBuf> {
    let root = workspace_root();
    println!("$ cargo build -p klamm-cli");
    let status = cargo()
        .args(["build", "-p", "klamm-cli"])
        .status()
        .context("running cargo build -p klamm-cli")?;
    if !status.success() {
        bail!("cargo build -p klamm-cli failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let klamm = target
        .join("debug")
        .join(format!("klamm{}", std::env::consts::EXE_SUFFIX));
    if !klamm.is_file() {
        bail!("{} was not built", klamm.display());
    }
    Ok(klamm)
}
