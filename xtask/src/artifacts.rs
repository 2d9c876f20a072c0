//! Builds workspace targets with the features `cargo test --workspace --all-features` uses, and
//! reports the executables cargo wrote.
//!
//! Cargo turns on a dependency's features according to the packages a command selects, and
//! counts dev-dependencies only when it builds targets that use them. So
//! `cargo run -p klamm-conformance` compiles klamm-protocol, and everything under it, once more
//! with another feature set than the test build had, which costs minutes for the generated
//! code. Selecting the whole workspace with every feature, together with its test targets
//! ([`REUSE_TEST_BUILD`]), gives the test build's feature set, so a later step can reuse what
//! the test build compiled.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::specs::cargo;

/// Arguments to `cargo build` that, besides the targets named, select the test targets: their
/// dev-dependencies then count, and the features match `cargo test --workspace --all-features`.
/// Those test targets are fresh after that test build, so they cost nothing more.
pub const REUSE_TEST_BUILD: &str = "--tests";

/// An executable cargo built.
#[derive(Debug, Clone)]
pub struct Executable {
    /// Where cargo wrote it.
    pub path: PathBuf,
    /// The target's name (a binary, example or test file name).
    pub target: String,
    /// The directory of the package it belongs to, where `cargo test` runs it.
    pub package_dir: PathBuf,
    /// Whether it is a test harness (`cargo test`'s build of a library, binary or test file).
    pub is_test: bool,
}

/// The parts of one line of `--message-format=json` output that matter here.
#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    profile: Option<ArtifactProfile>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
}

#[derive(Deserialize)]
struct ArtifactProfile {
    test: bool,
}

/// Runs `cargo <subcommand> --workspace --all-features <args>` and returns the executables it
/// built (or found fresh). Compiler diagnostics go to standard error as usual.
pub fn build(subcommand: &str, args: &[&str]) -> Result<Vec<Executable>> {
    let mut child = cargo()
        .arg(subcommand)
        .args(["--workspace", "--all-features"])
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting cargo {subcommand}"))?;
    let stdout = child.stdout.take().context("cargo's standard output")?;
    let mut executables = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(executable) = executable_in(&line) {
            executables.push(executable);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("cargo {subcommand} {} failed ({status})", args.join(" "));
    }
    Ok(executables)
}

/// Builds one target named by `args` (such as `["--bin", "klamm-conformance"]`) and returns
/// its executable.
pub fn build_one(args: &[&str], name: &str) -> Result<PathBuf> {
    build("build", args)?
        .into_iter()
        .find(|executable| executable.target == name && !executable.is_test)
        .map(|executable| executable.path)
        .with_context(|| {
            format!(
                "cargo build {} reported no executable `{name}`",
                args.join(" ")
            )
        })
}

/// The executable a line of cargo's JSON output announces, if it announces one.
fn executable_in(line: &str) -> Option<Executable> {
    // Lines that are not JSON (a build script's output, say) are not artifacts.
    let message: Message = serde_json::from_str(line).ok()?;
    if message.reason != "compiler-artifact" {
        return None;
    }
    let manifest_path = message.manifest_path?;
    Some(Executable {
        path: message.executable?,
        target: message.target?.name,
        package_dir: manifest_path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        is_test: message.profile.is_some_and(|profile| profile.test),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_executable_artifact() {
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/klamm-net#0.1.0","manifest_path":"/w/crates/klamm-net/Cargo.toml","target":{"kind":["test"],"name":"real_broker"},"profile":{"opt_level":"0","test":true},"filenames":["/w/target/debug/deps/real_broker-1"],"executable":"/w/target/debug/deps/real_broker-1","fresh":true}"#;
        let executable = executable_in(line).expect("an executable");
        assert_eq!(
            executable.path,
            Path::new("/w/target/debug/deps/real_broker-1")
        );
        assert_eq!(executable.target, "real_broker");
        assert_eq!(executable.package_dir, Path::new("/w/crates/klamm-net"));
        assert!(executable.is_test);
    }

    #[test]
    fn skips_libraries_and_other_messages() {
        let library = r#"{"reason":"compiler-artifact","manifest_path":"/w/Cargo.toml","target":{"name":"bytes"},"profile":{"test":false},"executable":null}"#;
        assert!(executable_in(library).is_none());
        assert!(executable_in(r#"{"reason":"build-finished","success":true}"#).is_none());
        assert!(executable_in("not json").is_none());
    }
}
