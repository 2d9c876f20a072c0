//! Smoke tests of the harness: the brokers it starts behave as `cluster.env` promises, judged by
//! an independent client (kafka-python 3.x via `oracle/kafka_oracle.py`).
//!
//! The Kafka version comes from `$KLAMM_KAFKA_VERSION` (default 4.4.0); run once per pinned
//! version. Brokers are shared per profile across the tests of this process.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use klamm_test_harness::{oracle, probe, shared, ClusterEnv, KafkaVersion, Profile};
use serde_json::Value;

/// Bounds each oracle call's bootstrap and requests; expected failures fail this quickly.
const ORACLE_TIMEOUT_MS: &str = "15000";
const REFUSAL_TIMEOUT_MS: &str = "3000";

/// Runs one oracle action and returns its JSON verdict.
fn oracle(action: &str, args: &[String]) -> Value {
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

fn assert_ok(verdict: &Value) {
    assert_eq!(verdict["ok"], Value::Bool(true), "oracle failed: {verdict}");
}

/// Asserts a refusal whose client log names the cause: any one of `log_needles`.
fn assert_refused(verdict: &Value, error: &str, log_needles: &[&str]) {
    assert_eq!(
        verdict["ok"],
        Value::Bool(false),
        "expected a refusal: {verdict}"
    );
    assert_eq!(verdict["error"], error, "{verdict}");
    let log = verdict["log"].to_string();
    assert!(
        log_needles.iter().any(|needle| log.contains(needle)),
        "expected one of {log_needles:?} in the client log: {verdict}"
    );
}

/// How kafka-python reports a rejected SASL password: 4.x brokers answer SaslAuthenticate with
/// error 58; 3.9 brokers close the connection after a failed SCRAM exchange.
const SASL_REFUSAL: &[&str] = &["SaslAuthenticationFailedError", "socket disconnected"];

/// A topic name no other test (or earlier run against the same brokers) uses.
fn unique(prefix: &str) -> String {
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

/// Builds oracle arguments.
struct Conn(Vec<String>);

impl Conn {
    fn new(bootstrap: &str, protocol: &str) -> Self {
        Conn(vec![
            "--bootstrap".into(),
            bootstrap.into(),
            "--security-protocol".into(),
            protocol.into(),
            "--timeout-ms".into(),
            ORACLE_TIMEOUT_MS.into(),
        ])
    }

    fn plaintext(env: &ClusterEnv) -> Self {
        Self::new(&env.bootstrap_plaintext, "PLAINTEXT")
    }

    fn sasl_plaintext(env: &ClusterEnv, mechanism: &str, user: &str, password: &str) -> Self {
        Self::new(
            env.bootstrap_sasl_plaintext
                .as_deref()
                .expect("SASL_PLAINTEXT listener"),
            "SASL_PLAINTEXT",
        )
        .sasl(mechanism, user, password)
    }

    fn ssl(env: &ClusterEnv, cafile: &std::path::Path) -> Self {
        Self::new(env.bootstrap_ssl.as_deref().expect("SSL listener"), "SSL")
            .arg("--cafile", cafile)
    }

    fn sasl(self, mechanism: &str, user: &str, password: &str) -> Self {
        self.arg("--mechanism", mechanism)
            .arg("--user", user)
            .arg("--password", password)
    }

    fn arg(mut self, flag: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.0.push(flag.into());
        self.0.push(value.as_ref().to_string_lossy().into_owned());
        self
    }

    fn topic(self, topic: &str) -> Vec<String> {
        self.arg("--topic", topic).0
    }

    fn expecting_refusal(self) -> Self {
        self.arg("--timeout-ms", REFUSAL_TIMEOUT_MS)
    }
}

fn topics(verdict: &Value) -> Vec<String> {
    assert_ok(verdict);
    verdict["topics"]
        .as_array()
        .expect("topics array")
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn single_runs_the_requested_version_and_env_file_is_sourceable() {
    let env = shared(Profile::Single);
    // Unset, any running version is reused (brokers from `cargo xtask kafka up`).
    if let Some(requested) = KafkaVersion::requested_in_env().unwrap() {
        assert_eq!(env.version, requested);
    }
    let log = std::fs::read_to_string(env.broker_log(1)).unwrap();
    let version = &env.version;
    assert!(
        log.contains(&format!("Kafka version: {version}")),
        "broker log does not show {version}"
    );

    let env_file = klamm_test_harness::env_file(Profile::Single);
    let echoed = Command::new("sh")
        .arg("-c")
        .arg(r#". "$1" && printf '%s|%s|%s|%s' "$BOOTSTRAP_SSL" "$SASL_ADMIN_USER" "$SSL_CLIENT_KEY_FILE" "$KERBEROS_CLIENT_PRINCIPAL""#)
        .arg("sh")
        .arg(&env_file)
        .output()
        .unwrap();
    let tls = env.tls.as_ref().unwrap();
    let expected = format!(
        "{}|{}|{}|{}",
        env.bootstrap_ssl.as_deref().unwrap(),
        env.sasl.as_ref().unwrap().admin_user,
        tls.client_key_file.display(),
        env.kerberos.as_ref().unwrap().client_principal
    );
    assert_eq!(String::from_utf8_lossy(&echoed.stdout), expected);

    let key = std::fs::read_to_string(&tls.client_key_file).unwrap();
    assert!(
        key.starts_with("-----BEGIN PRIVATE KEY-----"),
        "client key is not PKCS#8 PEM"
    );
}

#[test]
fn plaintext_client_creates_topics_and_round_trips_records_in_a_group_and_a_transaction() {
    let env = shared(Profile::Single);
    let topic = unique("plain");
    assert_ok(&oracle("create-topic", &Conn::plaintext(env).topic(&topic)));
    assert!(topics(&oracle("list-topics", &Conn::plaintext(env).0)).contains(&topic));

    let group = unique("group");
    let verdict = oracle(
        "produce-consume",
        &Conn::plaintext(env).arg("--group", &group).topic(&topic),
    );
    assert_ok(&verdict);
    assert_eq!(verdict["consumed"], 10, "{verdict}");
    assert_eq!(verdict["in_order"], true, "{verdict}");

    let txn_topic = unique("txn");
    assert_ok(&oracle(
        "create-topic",
        &Conn::plaintext(env).topic(&txn_topic),
    ));
    let verdict = oracle("transaction", &Conn::plaintext(env).topic(&txn_topic));
    assert_ok(&verdict);
    assert_eq!(verdict["values"], serde_json::json!(["committed"]));
}

#[test]
fn sasl_plaintext_admin_authenticates_with_every_mechanism() {
    let env = shared(Profile::Single);
    let sasl = env.sasl.as_ref().unwrap();
    assert_eq!(sasl.mechanisms, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
    for mechanism in &sasl.mechanisms {
        let topic = unique(&format!("sasl-{}", mechanism.to_lowercase()));
        let conn = || Conn::sasl_plaintext(env, mechanism, &sasl.admin_user, &sasl.admin_password);
        assert_ok(&oracle("create-topic", &conn().topic(&topic)));
        assert!(
            topics(&oracle("list-topics", &conn().0)).contains(&topic),
            "{mechanism}"
        );
    }
}

#[test]
fn sasl_wrong_password_is_refused_for_every_mechanism() {
    let env = shared(Profile::Single);
    let sasl = env.sasl.as_ref().unwrap();
    for mechanism in &sasl.mechanisms {
        let conn = |password: &str| {
            Conn::sasl_plaintext(env, mechanism, &sasl.admin_user, password).expecting_refusal()
        };
        let verdict = oracle("list-topics", &conn("not-the-password").0);
        assert_refused(&verdict, "KafkaTimeoutError", SASL_REFUSAL);
        // The identical call with the right password passes: the password made the difference.
        assert_ok(&oracle("list-topics", &conn(&sasl.admin_password).0));
    }
}

#[test]
fn sasl_ordinary_user_is_denied_until_an_acl_grants_it() {
    let env = shared(Profile::Single);
    let sasl = env.sasl.as_ref().unwrap();
    let user = |mechanism: &str| Conn::sasl_plaintext(env, mechanism, &sasl.user, &sasl.password);
    let admin =
        || Conn::sasl_plaintext(env, "SCRAM-SHA-512", &sasl.admin_user, &sasl.admin_password);

    // Authenticated with every mechanism, but with no ACLs it sees no topics and may create none.
    for mechanism in &sasl.mechanisms {
        assert!(
            topics(&oracle("list-topics", &user(mechanism).0)).is_empty(),
            "{mechanism}"
        );
    }
    let denied = unique("denied");
    let verdict = oracle("create-topic", &user("SCRAM-SHA-256").topic(&denied));
    assert_eq!(
        verdict["error"], "TopicAuthorizationFailedError",
        "{verdict}"
    );
    assert_ok(&oracle("create-topic", &admin().topic(&denied)));

    let prefix = unique("granted");
    let principal = format!("User:{}", sasl.user);
    assert_ok(&oracle(
        "allow-create",
        &admin().arg("--principal", &principal).topic(&prefix),
    ));
    assert_ok(&oracle(
        "create-topic",
        &user("PLAIN").topic(&format!("{prefix}-a")),
    ));
}

#[test]
fn ssl_trusts_only_the_harness_ca() {
    let env = shared(Profile::Single);
    let tls = env.tls.as_ref().unwrap();
    // Without a client certificate the principal is User:ANONYMOUS, a super user.
    let topic = unique("ssl");
    assert_ok(&oracle(
        "create-topic",
        &Conn::ssl(env, &tls.ca_file).topic(&topic),
    ));

    let verdict = oracle(
        "list-topics",
        &Conn::ssl(env, &tls.untrusted_ca_file).expecting_refusal().0,
    );
    assert_refused(
        &verdict,
        "KafkaTimeoutError",
        &["CERTIFICATE_VERIFY_FAILED"],
    );
}

#[test]
fn mutual_tls_client_certificate_becomes_the_principal() {
    let env = shared(Profile::Single);
    let tls = env.tls.as_ref().unwrap();
    let with_cert = |cert: &std::path::Path, key: &std::path::Path| {
        Conn::ssl(env, &tls.ca_file)
            .arg("--certfile", cert)
            .arg("--keyfile", key)
    };
    let mtls = || with_cert(&tls.client_cert_file, &tls.client_key_file);

    // The certificate's principal has no ACLs: the same request ANONYMOUS may make is denied...
    let verdict = oracle("create-topic", &mtls().topic(&unique("mtls-denied")));
    assert_eq!(
        verdict["error"], "TopicAuthorizationFailedError",
        "{verdict}"
    );
    // ...until an ACL names exactly the principal from cluster.env.
    let prefix = unique("mtls-granted");
    let admin = Conn::plaintext(env).arg("--principal", &tls.client_principal);
    assert_ok(&oracle("allow-create", &admin.topic(&prefix)));
    assert_ok(&oracle(
        "create-topic",
        &mtls().topic(&format!("{prefix}-a")),
    ));

    // A client certificate from another CA is refused during the handshake.
    let untrusted = with_cert(
        &tls.untrusted_client_cert_file,
        &tls.untrusted_client_key_file,
    );
    let verdict = oracle("list-topics", &untrusted.expecting_refusal().0);
    assert_refused(&verdict, "KafkaTimeoutError", &["CERTIFICATE_UNKNOWN"]);
}

#[test]
fn sasl_ssl_admin_authenticates_over_tls() {
    let env = shared(Profile::Single);
    let tls = env.tls.as_ref().unwrap();
    let sasl = env.sasl.as_ref().unwrap();
    let bootstrap = env.bootstrap_sasl_ssl.as_deref().unwrap();
    let conn = |cafile: &std::path::Path, password: &str| {
        Conn::new(bootstrap, "SASL_SSL")
            .arg("--cafile", cafile)
            .sasl("SCRAM-SHA-512", &sasl.admin_user, password)
    };
    let topic = unique("sasl-ssl");
    assert_ok(&oracle(
        "create-topic",
        &conn(&tls.ca_file, &sasl.admin_password).topic(&topic),
    ));
    assert!(topics(&oracle(
        "list-topics",
        &conn(&tls.ca_file, &sasl.admin_password).0
    ))
    .contains(&topic));

    let verdict = oracle(
        "list-topics",
        &conn(&tls.ca_file, "wrong").expecting_refusal().0,
    );
    assert_refused(&verdict, "KafkaTimeoutError", SASL_REFUSAL);
}

/// The broker ids kafka-python sees through `via`, or its failure verdict.
/// Runs an MIT Kerberos client tool against the profile's KDC with its own credential cache.
fn krb5_tool(
    env: &ClusterEnv,
    cache: &std::path::Path,
    program: &str,
    args: &[&str],
) -> (bool, String) {
    let kerberos = env.kerberos.as_ref().unwrap();
    let output = Command::new(program)
        .args(args)
        .env("KRB5_CONFIG", &kerberos.krb5_conf)
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn kdc_issues_tickets_for_the_client_keytab_and_the_broker_service_only() {
    let env = shared(Profile::Single);
    let kerberos = env.kerberos.as_ref().expect("single runs a KDC");
    let cache = std::env::temp_dir().join(unique("klamm-smoke-ccache"));
    let keytab = kerberos.client_keytab.display().to_string();
    // The keytab logs the client principal in…
    let (ok, text) = krb5_tool(
        env,
        &cache,
        "kinit",
        &["-k", "-t", &keytab, &kerberos.client_principal],
    );
    assert!(ok, "kinit with the client keytab: {text}");
    // …and the KDC hands out a ticket for the broker's service, and none for another service.
    let service = format!("{}/{}", kerberos.service_name, kerberos.service_host);
    let (ok, text) = krb5_tool(env, &cache, "kvno", &[&service]);
    assert!(ok && text.contains("kvno ="), "kvno {service}: {text}");
    let (ok, text) = krb5_tool(env, &cache, "kvno", &["not-kafka/localhost"]);
    assert!(
        !ok && text.contains("not found in Kerberos database"),
        "{text}"
    );
    // The keyless principal exists but the client keytab has no key for it.
    let (ok, text) = krb5_tool(
        env,
        &cache,
        "kinit",
        &["-k", "-t", &keytab, &kerberos.keyless_principal],
    );
    assert!(!ok, "kinit as the keyless principal must fail: {text}");
    std::fs::remove_file(&cache).ok();

    // The broker logged in to the KDC with its own keytab at start-up (GSSAPI listeners).
    let log = std::fs::read_to_string(env.broker_log(1)).unwrap();
    assert!(
        log.contains("[Principal=kafka/localhost@KLAMM.TEST]: TGT valid starting at"),
        "the broker's Kerberos login is not in its log"
    );
    let properties =
        std::fs::read_to_string(env.state_dir.join("node-1/server.properties")).unwrap();
    assert!(properties.contains("GSSAPI"), "GSSAPI is not enabled");
}

fn broker_ids(env: &ClusterEnv, via: &str) -> Result<Value, Value> {
    let verdict = oracle("describe-cluster", &Conn::new(via, "PLAINTEXT").0);
    if verdict["ok"] != Value::Bool(true) {
        return Err(verdict);
    }
    assert_eq!(verdict["cluster_id"], env.cluster_id.as_str(), "{verdict}");
    Ok(verdict["brokers"].clone())
}

/// Polls until broker `via` reports `expected` brokers, within 60 s. Failures count as "not
/// yet": right after a kill the client may still pick the dead broker from stale metadata.
fn await_brokers(env: &ClusterEnv, via: &str, expected: Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = broker_ids(env, via);
        if seen.as_ref() == Ok(&expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "broker {via} still reports {seen:?}, expected {expected}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn cluster_has_three_brokers_and_survives_killing_and_restarting_one() {
    let env = shared(Profile::Cluster);
    assert_eq!(env.broker_ids, [1, 2, 3]);
    assert!(env.sasl.is_none() && env.bootstrap_ssl.is_none());
    let three = serde_json::json!([1, 2, 3]);
    assert_eq!(broker_ids(env, &env.bootstrap_plaintext), Ok(three.clone()));

    let topic = unique("replicated");
    let conn = || {
        Conn::plaintext(env)
            .arg("--partitions", "3")
            .arg("--replication-factor", "3")
    };
    assert_ok(&oracle("create-topic", &conn().topic(&topic)));

    env.kill_broker(3).unwrap();
    assert!(!env.is_broker_running(3).unwrap());
    let first = &env.broker_plaintext[&1];
    await_brokers(env, first, serde_json::json!([1, 2]));
    // Two of three voters keep the quorum: the cluster still serves writes and groups.
    let verdict = oracle(
        "produce-consume",
        &Conn::new(first, "PLAINTEXT").topic(&topic),
    );
    assert_ok(&verdict);
    assert_eq!(verdict["consumed"], 10, "{verdict}");

    env.restart_broker(3).unwrap();
    await_brokers(env, first, three.clone());
    let snapshot = probe::metadata(
        env.broker_plaintext[&3].parse().unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(snapshot.brokers.len(), 3);
    assert_eq!(
        snapshot.cluster_id.as_deref(),
        Some(env.cluster_id.as_str())
    );
}
