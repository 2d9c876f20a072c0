//! End-to-end tests of the `klamm` binary against a real single-node broker from
//! `klamm-test-harness`: exit codes, stderr lines and the JSON documents scripts rely on.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use klamm_test_harness::{shared, Profile};

mod common;

use common::{json, stderr_lines};

fn klamm(args: &[&str]) -> Output {
    let bootstrap = &shared(Profile::Single).bootstrap_plaintext;
    Command::new(env!("CARGO_BIN_EXE_klamm"))
        .args(["-b", bootstrap, "--timeout", "30000"])
        .args(args)
        .env_remove("KLAMM_BOOTSTRAP_SERVER")
        .output()
        .expect("the klamm binary runs")
}

/// A topic name no other test (or earlier run) uses.
fn unique_topic(purpose: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "klamm-cli-{purpose}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[test]
fn topic_lifecycle_create_list_describe_alter_delete() {
    let topic = unique_topic("lifecycle");
    let created = klamm(&[
        "topic",
        "create",
        &topic,
        "--partitions",
        "3",
        "--replication-factor",
        "1",
    ]);
    assert_eq!(created.status.code(), Some(0), "{created:?}");

    let listed = json(&klamm(&["topic", "list", "-o", "json"]));
    let names: Vec<&str> = listed
        .as_array()
        .expect("topic list is an array")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&topic.as_str()), "{names:?}");

    let described = json(&klamm(&["topic", "describe", &topic, "-o", "json"]));
    assert_eq!(described[0]["name"], topic.as_str());
    assert_eq!(described[0]["partitions"].as_array().map(Vec::len), Some(3));

    let altered = klamm(&[
        "config",
        "alter",
        "--topic",
        &topic,
        "--set",
        "retention.ms=3600000",
    ]);
    assert_eq!(altered.status.code(), Some(0), "{altered:?}");
    // The broker applies the change from the metadata log a moment after the controller
    // accepts it: describe until it shows, for up to ten seconds.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let retention = loop {
        let configs = json(&klamm(&[
            "config", "describe", "--topic", &topic, "-o", "json",
        ]));
        let retention = configs
            .as_array()
            .expect("configs are an array")
            .iter()
            .find(|c| c["name"] == "retention.ms")
            .cloned();
        match retention {
            Some(retention) => break retention,
            None if std::time::Instant::now() < give_up => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            None => panic!("retention.ms is not shown as a non-default config: {configs}"),
        }
    };
    assert_eq!(retention["value"], "3600000");

    let deleted = klamm(&["topic", "delete", &topic]);
    assert_eq!(deleted.status.code(), Some(0), "{deleted:?}");
    let listed = json(&klamm(&["topic", "list", "-o", "json"]));
    assert!(!listed.to_string().contains(&topic));
}

#[test]
fn creating_an_existing_topic_exits_1_with_one_stderr_line() {
    let topic = unique_topic("exists");
    let args = [
        "topic",
        "create",
        &topic,
        "--partitions",
        "1",
        "--replication-factor",
        "1",
    ];
    assert_eq!(klamm(&args).status.code(), Some(0));
    let again = klamm(&args);
    assert_eq!(again.status.code(), Some(1));
    let lines = stderr_lines(&again);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        lines[0],
        format!("klamm: topic \"{topic}\": TOPIC_ALREADY_EXISTS: Topic '{topic}' already exists.")
    );
    klamm(&["topic", "delete", &topic]);
}

#[test]
fn deleting_one_good_and_one_missing_topic_exits_3() {
    let good = unique_topic("partial");
    let missing = unique_topic("missing");
    let created = klamm(&[
        "topic",
        "create",
        &good,
        "--partitions",
        "1",
        "--replication-factor",
        "1",
    ]);
    assert_eq!(created.status.code(), Some(0), "{created:?}");
    let deleted = klamm(&["topic", "delete", &good, &missing]);
    assert_eq!(deleted.status.code(), Some(3), "{deleted:?}");
    let lines = stderr_lines(&deleted);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(&missing) && lines[0].contains("UNKNOWN_TOPIC_OR_PARTITION"));
}

#[test]
fn bad_usage_exits_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_klamm"))
        .args(["topic", "create", "x", "--partitions", "many"])
        .output()
        .expect("the klamm binary runs");
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_klamm"))
        .args(["config", "describe", "--topic", "a", "--broker", "1"])
        .output()
        .expect("the klamm binary runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn cluster_info_json_names_the_brokers() {
    let info = json(&klamm(&["cluster", "info", "-o", "json"]));
    assert!(info["cluster_id"].is_string(), "{info}");
    assert_eq!(info["brokers"].as_array().map(Vec::len), Some(1), "{info}");
}

#[test]
fn group_list_json_is_an_array() {
    let groups = json(&klamm(&["group", "list", "-o", "json"]));
    assert!(groups.is_array(), "{groups}");
}

#[test]
fn unreachable_broker_fails_with_one_line_and_exit_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_klamm"))
        .args(["-b", "127.0.0.1:1", "--timeout", "1500", "topic", "list"])
        .output()
        .expect("the klamm binary runs");
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("klamm: "), "{lines:?}");
}

#[test]
fn completions_print_a_script() {
    let output = Command::new(env!("CARGO_BIN_EXE_klamm"))
        .args(["completions", "bash"])
        .output()
        .expect("the klamm binary runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("klamm"));
}

/// Committed offsets of `group` on `topic`, partition → offset, from `group offsets -o json`.
fn committed(group: &str, topic: &str) -> std::collections::BTreeMap<i64, i64> {
    let offsets = json(&klamm(&["group", "offsets", group, "-o", "json"]));
    assert_eq!(offsets["group_id"], group, "{offsets}");
    offsets["partitions"]
        .as_array()
        .unwrap_or_else(|| panic!("partitions is an array: {offsets}"))
        .iter()
        .filter(|p| p["topic"] == topic)
        .map(|p| {
            (
                p["partition"].as_i64().expect("partition"),
                p["offset"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("offset: {p}")),
            )
        })
        .collect()
}

#[test]
fn group_seek_to_earliest_moves_committed_offsets() {
    use klamm_admin::{Admin, AdminConfig, OffsetAndMetadata, TopicPartition};

    let topic = unique_topic("seek");
    let group = unique_topic("seek-group");
    let created = klamm(&[
        "topic",
        "create",
        &topic,
        "--partitions",
        "2",
        "--replication-factor",
        "1",
    ]);
    assert_eq!(created.status.code(), Some(0), "{created:?}");

    // A simple group: offsets committed directly (no members), 7 on both partitions.
    let bootstrap = shared(Profile::Single).bootstrap_plaintext.clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let config = AdminConfig::builder()
                .bootstrap_servers(bootstrap.as_str())
                .build()
                .unwrap();
            let admin = Admin::connect(config).await.unwrap();
            let offsets: Vec<_> = (0..2)
                .map(|p| {
                    (
                        TopicPartition::new(topic.clone(), p),
                        OffsetAndMetadata::new(7),
                    )
                })
                .collect();
            let committed = admin
                .alter_consumer_group_offsets(
                    &group,
                    offsets,
                    klamm_admin::AlterGroupOffsetsOptions::default(),
                )
                .await
                .unwrap();
            assert!(committed.all_ok(), "{committed:?}");
            admin.close();
        });
    assert_eq!(
        committed(&group, &topic),
        [(0, 7), (1, 7)].into_iter().collect(),
        "committed before the seek"
    );

    // The topic is empty, so the earliest offset is 0 on both partitions.
    let sought = json(&klamm(&[
        "group",
        "seek",
        &group,
        "--topic",
        &topic,
        "--to-earliest",
        "-o",
        "json",
    ]));
    let rows = sought.as_array().expect("seek prints an array");
    assert_eq!(rows.len(), 2, "{sought}");
    assert!(rows
        .iter()
        .all(|r| r["offset"] == 0 && r["topic"] == topic.as_str()));
    assert_eq!(
        committed(&group, &topic),
        [(0, 0), (1, 0)].into_iter().collect(),
        "committed after the seek"
    );

    assert_eq!(klamm(&["group", "delete", &group]).status.code(), Some(0));
    assert_eq!(klamm(&["topic", "delete", &topic]).status.code(), Some(0));
}

/// A `--command-config` file for the SASL_PLAINTEXT listener with SCRAM-SHA-256 credentials.
fn sasl_command_config(purpose: &str, user: &str, password: &str) -> std::path::PathBuf {
    let env = shared(Profile::Single);
    let bootstrap = env
        .bootstrap_sasl_plaintext
        .as_deref()
        .expect("the single profile has a SASL_PLAINTEXT listener");
    let path = std::env::temp_dir().join(format!("{}.properties", unique_topic(purpose)));
    std::fs::write(
        &path,
        format!(
            "bootstrap.servers={bootstrap}\n\
             security.protocol=SASL_PLAINTEXT\n\
             sasl.mechanism=SCRAM-SHA-256\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"{user}\" password=\"{password}\";\n"
        ),
    )
    .unwrap();
    path
}

/// `klamm` with only `--command-config` (its `bootstrap.servers` is used, no `-b`).
fn klamm_with_config(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_klamm"))
        .arg("--command-config")
        .arg(config)
        .args(["--timeout", "30000"])
        .args(args)
        .env_remove("KLAMM_BOOTSTRAP_SERVER")
        .output()
        .expect("the klamm binary runs")
}

#[test]
fn command_config_with_scram_credentials() {
    let sasl = shared(Profile::Single)
        .sasl
        .as_ref()
        .expect("the single profile has SASL users");

    // The super user may list ACLs.
    let admin_config = sasl_command_config("sasl-admin", &sasl.admin_user, &sasl.admin_password);
    let listed = klamm_with_config(&admin_config, &["acl", "list"]);
    assert_eq!(
        listed.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed = klamm_with_config(&admin_config, &["acl", "list", "-o", "json"]);
    assert!(json(&listed).is_array(), "{listed:?}");

    // The ordinary user has no ACLs: creating a topic is refused, on one stderr line.
    let user_config = sasl_command_config("sasl-user", &sasl.user, &sasl.password);
    let topic = unique_topic("unauthorized");
    let created = klamm_with_config(
        &user_config,
        &[
            "topic",
            "create",
            &topic,
            "--partitions",
            "1",
            "--replication-factor",
            "1",
        ],
    );
    assert_eq!(created.status.code(), Some(1), "{created:?}");
    let lines = stderr_lines(&created);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("klamm: ") && lines[0].contains("AUTHORIZATION_FAILED"),
        "{lines:?}"
    );

    let _ = std::fs::remove_file(admin_config);
    let _ = std::fs::remove_file(user_config);
}

/// GSSAPI chosen in `--command-config` (no JAAS line), the login given by the
/// `--sasl-kerberos-*` flags: the harness's client keytab against its KDC.
#[cfg(feature = "gssapi")]
#[test]
fn kerberos_flags_log_in_with_a_keytab() {
    let env = shared(Profile::Single);
    let kerberos = env
        .kerberos
        .as_ref()
        .expect("the single profile runs a KDC");
    let path = std::env::temp_dir().join(format!("{}.properties", unique_topic("gssapi")));
    std::fs::write(
        &path,
        format!(
            "bootstrap.servers={}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n",
            env.bootstrap_sasl_plaintext.as_deref().unwrap()
        ),
    )
    .unwrap();
    let klamm_kerberos = |principal: &str| {
        Command::new(env!("CARGO_BIN_EXE_klamm"))
            .arg("--command-config")
            .arg(&path)
            .args(["--timeout", "15000"])
            .args(["--sasl-kerberos-service-name", &kerberos.service_name])
            // The broker is reached as 127.0.0.1; its principal is kafka/localhost.
            .args(["--sasl-kerberos-domain-name", &kerberos.service_host])
            .args(["--sasl-kerberos-principal", principal])
            .arg("--sasl-kerberos-keytab")
            .arg(&kerberos.client_keytab)
            .args(["cluster", "info", "-o", "json"])
            .env_remove("KLAMM_BOOTSTRAP_SERVER")
            .env("KRB5_CONFIG", &kerberos.krb5_conf)
            .output()
            .expect("the klamm binary runs")
    };

    let info = json(&klamm_kerberos(&kerberos.client_principal));
    assert_eq!(info["cluster_id"], env.cluster_id.as_str(), "{info}");

    // A principal the keytab has no key for: one stderr line naming it.
    let refused = klamm_kerberos(&kerberos.keyless_principal);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let lines = stderr_lines(&refused);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(kerberos.keyless_principal.as_str()),
        "{lines:?}"
    );
    let _ = std::fs::remove_file(path);
}
