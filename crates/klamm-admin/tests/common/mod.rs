//! Helpers shared by the integration tests: a runtime, admin clients for the harness's
//! brokers, unique names, and the kafka-python oracle.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use klamm_admin::{Admin, AdminConfig};
use klamm_test_harness::{oracle, shared, ClusterEnv, Profile};

pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

pub fn single() -> &'static ClusterEnv {
    shared(Profile::Single)
}

pub fn three() -> &'static ClusterEnv {
    shared(Profile::Cluster)
}

pub fn config(bootstrap: &str) -> AdminConfig {
    AdminConfig::builder()
        .bootstrap_servers(bootstrap)
        .client_id("klamm-admin-tests")
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(20))
        .default_api_timeout(Duration::from_secs(45))
        .build()
        .unwrap()
}

pub async fn admin(env: &ClusterEnv) -> Admin {
    Admin::connect(config(&env.bootstrap_plaintext))
        .await
        .unwrap()
}

pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("klamm-admin-{prefix}-{}-{nanos}", std::process::id())
}

/// Runs an oracle action (`kafka_oracle.py` from the harness, or this crate's
/// `admin_oracle.py`) and returns its JSON answer, asserting it succeeded.
pub fn oracle(script: &str, action: &str, bootstrap: &str, args: &[&str]) -> serde_json::Value {
    oracle::ensure_kafka_python().expect("kafka-python for the oracle");
    let path = if script == "kafka_oracle.py" {
        oracle::oracle_script(script)
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/oracle")
            .join(script)
    };
    let output = oracle::python()
        .unwrap()
        .arg(path)
        .arg(action)
        .arg("--bootstrap")
        .arg(bootstrap)
        .args(args)
        .output()
        .expect("running the oracle");
    let text = String::from_utf8_lossy(&output.stdout);
    let value: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_else(|_| {
        panic!(
            "oracle said {text} / {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(value["ok"], true, "oracle {action} failed: {value}");
    value
}
