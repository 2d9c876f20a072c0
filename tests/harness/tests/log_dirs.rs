//! The `cluster` profile's brokers have two log directories each, and a replica moves between
//! them (AlterReplicaLogDirs through Kafka's own ReassignPartitionsCommand).

mod common;

use std::time::Duration;

use common::{create_topic, kafka_tool, unique, wait_for};
use klamm_test_harness::{shared, Profile};

#[test]
fn replica_moves_to_the_other_log_directory_of_its_broker() {
    let env = shared(Profile::Cluster);
    let dirs = &env.broker_log_dirs[&1];
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert_ne!(dirs[0], dirs[1]);
    let topic = unique("log-dirs");
    create_topic(env, &topic, 1, 3);
    let partition_dir = format!("{topic}-0");
    let holds = |dir: &std::path::Path| dir.join(&partition_dir).is_dir();
    let from = wait_for(
        "broker 1's replica on disk",
        Duration::from_secs(30),
        || dirs.iter().position(|dir| holds(dir)),
    );
    let to = dirs[1 - from].clone();

    let plan = serde_json::json!({
        "version": 1,
        "partitions": [{
            "topic": topic, "partition": 0, "replicas": [1, 2, 3],
            "log_dirs": [to.display().to_string(), "any", "any"],
        }],
    });
    let file = env.state_dir.join(format!("{}.json", unique("reassign")));
    std::fs::write(&file, plan.to_string()).unwrap();
    let file = file.to_str().unwrap().to_owned();
    let reassign = |mode: &str| {
        kafka_tool(
            env,
            "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
            &[
                "--bootstrap-server",
                &env.bootstrap_plaintext,
                "--reassignment-json-file",
                &file,
                mode,
            ],
        )
    };
    reassign("--execute");
    wait_for(
        "the replica in the other directory",
        Duration::from_secs(60),
        || {
            let verified = reassign("--verify");
            (verified.contains("is complete") && holds(&to) && !holds(&dirs[from])).then_some(())
        },
    );
    std::fs::remove_file(&file).ok();
    let described = kafka_tool(
        env,
        "org.apache.kafka.tools.LogDirsCommand",
        &[
            "--bootstrap-server",
            &env.bootstrap_plaintext,
            "--describe",
            "--broker-list",
            "1",
            "--topic-list",
            &topic,
        ],
    );
    assert!(described.contains(&to.display().to_string()), "{described}");
}
