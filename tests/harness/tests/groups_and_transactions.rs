//! Share groups, streams groups and transactions left open, each with a real Java client of the
//! brokers' release (`tests/harness/java/`), checked with Kafka's own command-line tools.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{create_topic, kafka_python, kafka_tool, unique};
use klamm_test_harness::{java::Java, probe, shared, ClusterEnv, Profile};

const READY_TIMEOUT: Duration = Duration::from_secs(90);
const SHARE_GROUP_HEARTBEAT: i16 = 76;
const STREAMS_GROUP_HEARTBEAT: i16 = 88;

fn api_keys(env: &ClusterEnv) -> Vec<i16> {
    let addr: SocketAddr = env.broker_plaintext[&1].parse().unwrap();
    probe::api_version_ranges(addr, Duration::from_secs(5))
        .unwrap()
        .iter()
        .map(|range| range.api_key)
        .collect()
}

fn produce(env: &ClusterEnv, topic: &str) {
    let verdict = kafka_python(
        "produce-consume",
        &[
            "--bootstrap",
            &env.bootstrap_plaintext,
            "--topic",
            topic,
            "--count",
            "3",
        ],
    );
    assert_eq!(verdict["ok"], true, "{verdict}");
}

#[test]
fn share_consumer_joins_a_share_group_that_the_tool_describes() {
    let env = shared(Profile::Single);
    if !env.version.is_4x() {
        assert!(
            !api_keys(env).contains(&SHARE_GROUP_HEARTBEAT),
            "3.9 has no share groups"
        );
        return;
    }
    assert!(api_keys(env).contains(&SHARE_GROUP_HEARTBEAT));
    let topic = unique("share");
    let group = unique("share-group");
    create_topic(env, &topic, 1, 1);
    produce(env, &topic);
    let mut member = Java::new(&env.version)
        .program("ShareConsumer.java")
        .unwrap()
        .args([env.bootstrap_plaintext.as_str(), &group, &topic])
        .spawn()
        .unwrap();
    let ready = member.wait_for_line("READY", READY_TIMEOUT).unwrap();
    assert!(ready.contains(&format!("\"group\":\"{group}\"")), "{ready}");
    let described = kafka_tool(
        env,
        "org.apache.kafka.tools.consumer.group.ShareGroupCommand",
        &[
            "--bootstrap-server",
            &env.bootstrap_plaintext,
            "--describe",
            "--group",
            &group,
            "--members",
        ],
    );
    assert!(described.contains(&format!("{topic}:0")), "{described}");
    let (status, rest) = member.finish().unwrap();
    assert!(status.success(), "{status}: {rest:?}");
    assert!(
        rest.iter().any(|line| line.contains("\"ok\":true")),
        "{rest:?}"
    );
}

#[test]
fn streams_app_runs_in_a_streams_group_that_the_tool_describes() {
    let env = shared(Profile::Single);
    if !env.version.is_4x() {
        assert!(
            !api_keys(env).contains(&STREAMS_GROUP_HEARTBEAT),
            "3.9 has no streams groups"
        );
        return;
    }
    let input = unique("streams-in");
    let output = unique("streams-out");
    let application = unique("streams-app");
    create_topic(env, &input, 1, 1);
    create_topic(env, &output, 1, 1);
    let mut app = Java::new(&env.version)
        .program("StreamsApp.java")
        .unwrap()
        .args([
            env.bootstrap_plaintext.as_str(),
            &application,
            &input,
            &output,
        ])
        .spawn()
        .unwrap();
    app.wait_for_line("READY", READY_TIMEOUT).unwrap();
    let described = kafka_tool(
        env,
        "org.apache.kafka.tools.streams.StreamsGroupCommand",
        &[
            "--bootstrap-server",
            &env.bootstrap_plaintext,
            "--describe",
            "--group",
            &application,
            "--members",
        ],
    );
    assert!(described.contains("ACTIVE: 0:[0]"), "{described}");
    // The broker created the changelog topic of the topology's store (KIP-1071).
    let topics = kafka_python("list-topics", &["--bootstrap", &env.bootstrap_plaintext]);
    let changelog = format!("{application}-klamm-counts-changelog");
    assert!(
        topics["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == &changelog),
        "{topics}"
    );
    let (status, rest) = app.finish().unwrap();
    assert!(status.success(), "{status}: {rest:?}");
}

fn describe_transaction(env: &ClusterEnv, id: &str) -> String {
    kafka_tool(
        env,
        "org.apache.kafka.tools.TransactionsCommand",
        &[
            "--bootstrap-server",
            &env.bootstrap_plaintext,
            "describe",
            "--transactional-id",
            id,
        ],
    )
}

#[test]
fn open_transaction_stays_ongoing_after_its_producer_is_gone() {
    let env = shared(Profile::Single);
    let topic = unique("open-txn");
    let id = unique("open-txn-id");
    create_topic(env, &topic, 1, 1);
    let mut producer = Java::new(&env.version)
        .program("OpenTransaction.java")
        .unwrap()
        .args([
            env.bootstrap_plaintext.as_str(),
            &topic,
            &id,
            "transaction.timeout.ms=300000",
        ])
        .spawn()
        .unwrap();
    let ready = producer.wait_for_line("READY", READY_TIMEOUT).unwrap();
    assert!(ready.contains("\"offset\":0"), "{ready}");
    assert!(describe_transaction(env, &id).contains("Ongoing"));
    // Closing stdin halts the JVM without ending the transaction: a hanging transaction.
    let (status, _) = producer.finish().unwrap();
    assert!(status.success(), "{status}");
    let described = describe_transaction(env, &id);
    assert!(
        described.contains("Ongoing") && described.contains(&format!("{topic}-0")),
        "{described}"
    );
}

#[test]
fn two_phase_commit_producer_is_accepted_and_commits() {
    let env = shared(Profile::Single);
    if !env.version.is_4x() {
        return; // KIP-939 is a 4.x feature.
    }
    let topic = unique("2pc");
    let id = unique("2pc-id");
    create_topic(env, &topic, 1, 1);
    let mut producer = Java::new(&env.version)
        .program("OpenTransaction.java")
        .unwrap()
        .args([
            env.bootstrap_plaintext.as_str(),
            &topic,
            &id,
            "transaction.two.phase.commit.enable=true",
        ])
        .spawn()
        .unwrap();
    let ready = producer.wait_for_line("READY", READY_TIMEOUT).unwrap();
    assert!(ready.contains("\"two_phase\":true"), "{ready}");
    producer.send_line("commit").unwrap();
    producer.wait_for_line("COMMITTED", READY_TIMEOUT).unwrap();
    assert!(describe_transaction(env, &id).contains("CompleteCommit"));
}
