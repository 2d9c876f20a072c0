//! `cargo xtask test`: the whole test suite, as CI runs it, from a fresh machine.
//!
//! Each step installs what it needs first (Kafka jars and the kafka-python oracle, cargo-fuzz),
//! so this one command is all a new checkout needs. The brokers are started here, once, before
//! the tests that share them, and stopped at the end whatever happened. Steps run in order and
//! the run stops at the first failure; the last line counts the steps that passed and failed.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use klamm_test_harness::{self as harness, KafkaVersion, Profile};

use crate::artifacts;
use crate::specs::{self, cargo, workspace_root, KAFKA_CLIENTS_VERSION};

/// Which steps to run.
pub struct Options {
    /// Skip the short fuzz runs (they need a build with sanitizers).
    pub skip_fuzz: bool,
    /// Messages per API version in the conformance run.
    pub conformance_cases: u32,
}

fn run(mut command: Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn up(profile: Profile, version: &str) -> Result<()> {
    let version: KafkaVersion = version.parse()?;
    let started = Instant::now();
    let env = harness::up(profile, &version)
        .with_context(|| format!("starting the {profile} profile on Kafka {version}"))?;
    eprintln!(
        "    {profile} profile, Kafka {version}, brokers {:?}, up in {:.1?}",
        env.broker_ids,
        started.elapsed()
    );
    Ok(())
}

fn down_all() -> Result<()> {
    for profile in Profile::ALL {
        harness::down(profile).with_context(|| format!("stopping the {profile} profile"))?;
    }
    Ok(())
}

/// Runs the test executables of the packages in `package_dirs` (relative to the workspace
/// root) against Kafka `version`, passing `args` to each, as `cargo test --no-fail-fast` would.
///
/// The executables come from `cargo test --workspace --all-features --no-run`, which finds the
/// test build fresh; `cargo test -p` would compile those packages once more, because selecting
/// fewer packages turns on fewer features in their shared dependencies.
fn run_tests_of(package_dirs: &[&str], version: &str, args: &[&str]) -> Result<()> {
    let wanted = |dir: &Path| package_dirs.iter().any(|wanted| dir.ends_with(wanted));
    let tests: Vec<_> = artifacts::build("test", &["--no-run"])?
        .into_iter()
        .filter(|executable| executable.is_test && wanted(&executable.package_dir))
        .collect();
    if tests.is_empty() {
        bail!("cargo test --no-run built no tests for {package_dirs:?}");
    }
    let mut failed = Vec::new();
    for test in &tests {
        eprintln!("     Running {} ({})", test.target, test.path.display());
        let mut command = Command::new(&test.path);
        command
            .args(args)
            .current_dir(&test.package_dir)
            .env(KafkaVersion::ENV_VAR, version);
        if let Err(error) = run(command, &test.target) {
            eprintln!("    {error:#}");
            failed.push(test.target.as_str());
        }
    }
    if !failed.is_empty() {
        bail!(
            "tests failed against Kafka {version}: {}",
            failed.join(", ")
        );
    }
    Ok(())
}

/// One named step of the suite.
type Step = (&'static str, Box<dyn FnOnce() -> Result<()>>);

fn steps(options: Options) -> Vec<Step> {
    let mut steps: Vec<Step> = vec![
        (
            "fetch message specs",
            Box::new(|| specs::ensure(KAFKA_CLIENTS_VERSION).map(|_| ())),
        ),
        (
            "generated code is fresh",
            Box::new(|| crate::codegen::run(true)),
        ),
        (
            "fetch Kafka brokers and oracles",
            Box::new(|| crate::kafka::run(crate::kafka::Command::Fetch { version: None })),
        ),
        (
            "start Kafka 4.4.0 (single and cluster profiles)",
            Box::new(|| {
                down_all()?;
                up(Profile::Single, KafkaVersion::DEFAULT)?;
                up(Profile::Cluster, KafkaVersion::DEFAULT)
            }),
        ),
        (
            "cargo test (unit, property and real-broker tests)",
            Box::new(|| {
                let mut command = cargo();
                command.args(["test", "--workspace", "--all-features", "--no-fail-fast"]);
                command.env(KafkaVersion::ENV_VAR, KafkaVersion::DEFAULT);
                run(command, "cargo test")
            }),
        ),
        (
            "real-broker tests against Kafka 3.9.2",
            Box::new(|| {
                down_all()?;
                up(Profile::Single, KafkaVersion::LEGACY)?;
                run_tests_of(
                    &["crates/klamm-net", "tests/harness"],
                    KafkaVersion::LEGACY,
                    // Runs 3.9.2 beside 4.4.0 in the step above already.
                    &[
                        "--skip",
                        "negotiated_versions_differ_between_kafka_3_9_and_4_4",
                    ],
                )?;
                down_all()
            }),
        ),
        (
            "conformance against Kafka's Java codec",
            Box::new(move || {
                // Unoptimised, so it reuses the test build instead of compiling the generated
                // code once more in release: saves minutes, costs half a minute of running.
                crate::conformance::run(
                    options.conformance_cases,
                    None,
                    crate::conformance::Profile::Dev,
                )
            }),
        ),
    ];
    if !options.skip_fuzz {
        steps.push((
            "short fuzz runs",
            Box::new(|| {
                // The seed writer comes from the test build too; fuzz/ci.sh would build it
                // once more with its own feature set.
                let writer = artifacts::build_one(
                    &["--example", "write_seeds", artifacts::REUSE_TEST_BUILD],
                    "write_seeds",
                )?;
                let mut write_seeds = Command::new(writer);
                write_seeds.arg(workspace_root().join("fuzz/corpus"));
                run(write_seeds, "the fuzz seed writer")?;
                let mut command = Command::new("bash");
                command
                    .arg("fuzz/ci.sh")
                    .current_dir(workspace_root())
                    .env("KLAMM_FUZZ_SEEDS_WRITTEN", "1");
                run(command, "fuzz/ci.sh")
            }),
        ));
    }
    steps
}

/// Runs the suite.
pub fn run_all(options: Options) -> Result<()> {
    let steps = steps(options);
    let total = steps.len();
    let mut passed = 0;
    let mut failure = None;
    for (name, step) in steps {
        let started = Instant::now();
        eprintln!("==> {name}");
        match step() {
            Ok(()) => {
                passed += 1;
                eprintln!("==> {name}: ok ({:.0?})", started.elapsed());
            }
            Err(error) => {
                eprintln!("==> {name}: FAILED: {error:#}");
                failure = Some(name);
                break;
            }
        }
    }
    // Whatever happened, leave no broker behind.
    if let Err(error) = down_all() {
        eprintln!("==> stopping brokers: {error:#}");
    }
    let failed = usize::from(failure.is_some());
    let skipped = total - passed - failed;
    println!("xtask test: {passed} passed, {failed} failed, {skipped} skipped");
    match failure {
        Some(name) => bail!("step `{name}` failed"),
        None => Ok(()),
    }
}
