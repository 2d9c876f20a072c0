//! Helpers shared by the round-2 smoke tests: the kafka-python oracle, Kafka's Java tools, and
//! names no other test uses.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use klamm_test_harness::{java::Java, oracle, ClusterEnv};
use serde_json::Value;

/// A name no other test (or earlier run against the same brokers) uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs one kafka-python oracle action and returns its JSON verdict.
pub fn kafka_python(action: &str, args: &[&str]) -> Value {
    oracle::ensure_kafka_python().expect("kafka-python is installable");
    let output = oracle::python()
        .expect("python3 is on PATH")
        .arg(oracle::oracle_script("kafka_oracle.py"))
        .arg(action)
        .args(args)
        .output()
        .expect("the oracle runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "oracle {action} exited {}: {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("oracle printed no JSON ({e}): {stdout}"))
}

/// Creates `topic` over PLAINTEXT (a super user) with kafka-python.
pub fn create_topic(env: &ClusterEnv, topic: &str, partitions: u32, replication: u32) {
    let verdict = kafka_python(
        "create-topic",
        &[
            "--bootstrap",
            &env.bootstrap_plaintext,
            "--topic",
            topic,
            "--partitions",
            &partitions.to_string(),
            "--replication-factor",
            &replication.to_string(),
        ],
    );
    assert_eq!(verdict["ok"], true, "{verdict}");
}

/// Runs one of Kafka's own tools of the brokers' version to completion; returns stdout.
pub fn kafka_tool(env: &ClusterEnv, main_class: &str, args: &[&str]) -> String {
    Java::new(&env.version)
        .tool(main_class)
        .unwrap()
        .args(args)
        .run()
        .unwrap_or_else(|e| panic!("{main_class} {args:?}: {e}"))
}

/// Like [`kafka_tool`], but returns the failure instead of panicking.
pub fn try_kafka_tool(env: &ClusterEnv, main_class: &str, args: &[&str]) -> Result<String, String> {
    Java::new(&env.version)
        .tool(main_class)
        .unwrap()
        .args(args)
        .run()
        .map_err(|e| e.to_string())
}

/// Runs a `tests/harness/java` program to completion and parses its JSON verdict.
pub fn java_program_json(java: Java, program: &str, args: &[String]) -> Value {
    let text = java
        .program(program)
        .unwrap()
        .args(args)
        .run_json()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{program} printed {text}: {e}"))
}

/// Polls `check` every 500 ms until it returns `Some`, or panics after `timeout` naming `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
