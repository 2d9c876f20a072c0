//! `klamm-conformance`: proves klamm-protocol's codec against Kafka's own Java codec.
//!
//! For every message type Klamm generates and every version it has, random values are encoded
//! by Klamm and handed to Kafka's generated class for the same spec in a child JVM (see
//! `xtask/java/Conformance.java`). Each value must be (a) read by Kafka without error and to the
//! last byte, (b) written back by Kafka to the very same bytes, and (c) decoded by Klamm from
//! Kafka's bytes to the original value. Run it through `cargo xtask conformance`, which finds
//! the class path; the exit status is non-zero on any mismatch or if the JVM fails.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use klamm_protocol::messages::catalog::visit_all;

mod checker;
mod findings;
mod hex;
mod java;
mod report;

use checker::{Checker, Settings};
use java::JavaCodec;
use report::Summary;

#[derive(Parser)]
#[command(
    name = "klamm-conformance",
    about = "Check Klamm's codec against Kafka's Java codec"
)]
struct Args {
    /// Java class path with kafka-clients and its runtime dependencies.
    #[arg(long)]
    class_path: String,
    /// The checker's source, `xtask/java/Conformance.java`.
    #[arg(long)]
    java_source: PathBuf,
    /// The `java` program (JDK 17+).
    #[arg(long, default_value = "java")]
    java: String,
    /// Random values per message version.
    #[arg(long, default_value_t = 100)]
    cases: u32,
    /// Seed of the random values; a run prints its seed so it can be repeated.
    #[arg(long)]
    seed: Option<u64>,
    /// Check only this spec (e.g. `MetadataRequest`); repeatable.
    #[arg(long = "message", value_name = "SPEC")]
    messages: Vec<String>,
    /// How many mismatches to print in full.
    #[arg(long, default_value_t = 10)]
    show: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(fresh_seed);
    let started = Instant::now();

    let mut java = match JavaCodec::start(&args.java, &args.class_path, &args.java_source) {
        Ok(java) => java,
        Err(error) => {
            eprintln!("conformance: {error}");
            return ExitCode::from(2);
        }
    };
    println!(
        "checking against kafka-clients {} (started in {:.1?}), seed {seed}, {} values per version",
        java.kafka_version(),
        started.elapsed(),
        args.cases
    );

    let settings = Settings {
        cases: args.cases,
        seed,
        only: args.messages.clone(),
    };
    let mut checker = Checker::new(&mut java, settings, args.show);
    visit_all(&mut checker);
    let findings = match checker.finish() {
        Ok(findings) => findings,
        Err(error) => {
            eprintln!("conformance: {error}");
            return ExitCode::from(2);
        }
    };
    drop(java);

    print!("\n{}", report::table(&findings.outcomes));
    if !findings.classes.is_empty() {
        print!("\nMismatches by class:\n{}", report::classes(&findings));
        print!(
            "\nFirst {} mismatches:\n{}",
            findings.details.len(),
            report::details(&findings)
        );
        println!("\nRepeat with: --seed {seed} --message <SPEC>");
    }
    if let Some(unknown) = args
        .messages
        .iter()
        .find(|name| !findings.outcomes.iter().any(|o| o.name == name.as_str()))
    {
        eprintln!("conformance: Klamm has no message spec named {unknown}");
        return ExitCode::from(2);
    }
    let summary = Summary::of(&findings);
    println!("\nchecked in {:.1?}", started.elapsed());
    println!("{summary}");
    if summary.mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A seed for runs that were not given one: different each run, printed so it can be reused.
fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}
