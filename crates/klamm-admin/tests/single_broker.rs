//! klamm-admin against the harness's single broker (Kafka 4.4 by default), checked with
//! kafka-python where one client's writes should be visible to the other.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{admin, config, oracle, run, single, unique};
use klamm_admin::{
    AclOperation, Admin, AdminConfig, AdminError, CreatePartitionsOptions, CreateTopicsOptions,
    DeleteTopicsOptions, ErrorCode, NewPartitions, NewTopic, TopicRef, WriteOutcome,
};

fn topic_value(
    admin_results: &klamm_admin::Results<TopicRef, klamm_admin::CreatedTopic>,
    name: &str,
) -> klamm_admin::CreatedTopic {
    admin_results[name]
        .clone()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn create_describe_grow_and_delete_topics_with_per_topic_results() {
    let env = single();
    run(async {
        let admin = admin(env).await;
        let name = unique("topic");
        let compacted = unique("compacted");
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        let created = admin
            .create_topics(
                &[
                    NewTopic::new(&name, 3, 1),
                    NewTopic::new(&compacted, 1, 1).config("cleanup.policy", "compact"),
                    NewTopic::new("", 1, 1),
                    NewTopic::new(unique("bad-config"), 1, 1).config("cleanup.policy", "sometimes"),
                ],
                options,
            )
            .await
            .unwrap();
        let topic = topic_value(&created, &name);
        assert_eq!(topic.num_partitions, Some(3));
        assert_eq!(topic.outcome, WriteOutcome::Applied);
        assert!(topic.topic_id.is_some());
        assert_eq!(
            topic_value(&created, &compacted).configs["cleanup.policy"].as_deref(),
            Some("compact")
        );
        assert!(matches!(
            created[""],
            Err(AdminError::InvalidArgument { .. })
        ));
        let bad = created
            .iter()
            .find(|(k, _)| k.name().is_some_and(|n| n.contains("bad-config")))
            .unwrap()
            .1;
        assert_eq!(
            bad.as_ref().unwrap_err().error_code(),
            Some(ErrorCode::InvalidConfig),
            "{bad:?}"
        );
        assert_eq!(created.errors().count(), 2);

        // Creating again: TOPIC_ALREADY_EXISTS with the broker's message, on that topic only.
        let again = admin
            .create_topics(
                &[NewTopic::new(&name, 3, 1)],
                CreateTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            again[&name].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::TopicAlreadyExists)
        );

        // kafka-python sees what Klamm created.
        let listed = oracle(
            "kafka_oracle.py",
            "list-topics",
            &env.bootstrap_plaintext,
            &[],
        );
        assert!(
            listed["topics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == name.as_str()),
            "{listed}"
        );

        let listing = admin
            .list_topics(klamm_admin::ListTopicsOptions::default())
            .await
            .unwrap();
        assert!(listing.iter().any(|t| t.name == name));
        assert!(listing.iter().all(|t| !t.is_internal));
        let with_internal = admin
            .list_topics(klamm_admin::ListTopicsOptions::default().include_internal(true))
            .await
            .unwrap();
        assert!(listing.iter().all(|t| with_internal.contains(t)));
        assert!(with_internal
            .iter()
            .filter(|t| t.is_internal)
            .all(|t| !listing.contains(t)));

        let missing = unique("missing");
        let described = admin
            .describe_topics(
                &[
                    TopicRef::from(name.as_str()),
                    TopicRef::from(missing.as_str()),
                ],
                klamm_admin::DescribeTopicsOptions::default(),
            )
            .await
            .unwrap();
        let description = described[&TopicRef::from(name.as_str())].as_ref().unwrap();
        assert_eq!(description.partitions.len(), 3);
        assert!(description
            .partitions
            .iter()
            .all(|p| p.leader == Some(1) && p.isr == vec![1]));
        assert!(description
            .authorized_operations
            .as_ref()
            .unwrap()
            .contains(&AclOperation::Read));
        let gone = described[&TopicRef::from(missing.as_str())]
            .as_ref()
            .unwrap_err();
        assert_eq!(gone.error_code(), Some(ErrorCode::UnknownTopicOrPartition));

        // By id, too.
        let by_id = TopicRef::Id(description.topic_id.unwrap());
        let described = admin
            .describe_topics(
                std::slice::from_ref(&by_id),
                klamm_admin::DescribeTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(described[&by_id].as_ref().unwrap().name, name);

        // Grow to 5 partitions; validate_only leaves it alone; shrinking is refused.
        let grow = BTreeMap::from([(name.clone(), NewPartitions::increase_to(5))]);
        let validated = admin
            .create_partitions(
                grow.clone(),
                CreatePartitionsOptions::default().validate_only(true),
            )
            .await
            .unwrap();
        assert!(validated.all_ok(), "{validated:?}");
        assert!(admin
            .create_partitions(grow.clone(), CreatePartitionsOptions::default())
            .await
            .unwrap()
            .all_ok());
        let shrink = BTreeMap::from([(name.clone(), NewPartitions::increase_to(2))]);
        let shrunk = admin
            .create_partitions(shrink.clone(), CreatePartitionsOptions::default())
            .await
            .unwrap();
        assert_eq!(
            shrunk[&name].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::InvalidPartitions)
        );
        let described = admin
            .describe_topics(
                &[TopicRef::from(name.as_str())],
                klamm_admin::DescribeTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            described[&TopicRef::from(name.as_str())]
                .as_ref()
                .unwrap()
                .partitions
                .len(),
            5
        );

        // Delete by name and by id, wait until gone; an unknown topic fails alone.
        let compacted_id = topic_value(&created, &compacted).topic_id.unwrap();
        let deleted = admin
            .delete_topics(
                &[
                    TopicRef::from(name.as_str()),
                    TopicRef::Id(compacted_id),
                    TopicRef::from(missing.as_str()),
                ],
                DeleteTopicsOptions::default().wait_until_gone(true),
            )
            .await
            .unwrap();
        assert_eq!(
            deleted[&TopicRef::from(name.as_str())].as_ref().unwrap(),
            &WriteOutcome::Applied
        );
        assert_eq!(
            deleted[&TopicRef::from(missing.as_str())]
                .as_ref()
                .unwrap_err()
                .error_code(),
            Some(ErrorCode::UnknownTopicOrPartition)
        );
        let listing = admin
            .list_topics(klamm_admin::ListTopicsOptions::default())
            .await
            .unwrap();
        assert!(!listing
            .iter()
            .any(|t| t.name == name || t.name == compacted));
        let json = serde_json::to_value(&deleted).unwrap();
        assert!(
            json.as_array()
                .unwrap()
                .iter()
                .any(|r| r["ok"] == "applied"),
            "{json}"
        );
    });
}

#[test]
fn validate_only_creates_nothing_and_manual_assignment_is_honoured() {
    let env = single();
    run(async {
        let admin = admin(env).await;
        let name = unique("validate");
        let options = CreateTopicsOptions::default().validate_only(true);
        let validated = admin
            .create_topics(&[NewTopic::new(&name, 2, 1)], options)
            .await
            .unwrap();
        assert_eq!(
            validated[&name].as_ref().unwrap().outcome,
            WriteOutcome::Validated
        );
        assert!(!admin
            .list_topics(klamm_admin::ListTopicsOptions::default())
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == name));

        let manual = NewTopic::with_broker_defaults(&name)
            .assign(0, vec![1])
            .assign(1, vec![1]);
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        assert!(admin
            .create_topics(&[manual], options)
            .await
            .unwrap()
            .all_ok());
        let described = admin
            .describe_topics(
                &[TopicRef::from(name.as_str())],
                klamm_admin::DescribeTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            described[&TopicRef::from(name.as_str())]
                .as_ref()
                .unwrap()
                .partitions
                .len(),
            2
        );
        // An assignment to a broker that does not exist fails that topic.
        let bad = unique("bad-assignment");
        let created = admin
            .create_topics(
                &[NewTopic::with_broker_defaults(&bad).assign(0, vec![42])],
                CreateTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert!(created[&bad].is_err());
        admin
            .delete_topics(
                &[TopicRef::from(name.as_str())],
                DeleteTopicsOptions::default(),
            )
            .await
            .unwrap();
    });
}

#[test]
fn topic_created_by_kafka_python_is_described_by_klamm() {
    let env = single();
    let name = unique("from-python");
    oracle(
        "kafka_oracle.py",
        "create-topic",
        &env.bootstrap_plaintext,
        &["--topic", &name, "--partitions", "2"],
    );
    run(async {
        let admin = admin(env).await;
        let described = admin
            .describe_topics(
                &[TopicRef::from(name.as_str())],
                klamm_admin::DescribeTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            described[&TopicRef::from(name.as_str())]
                .as_ref()
                .unwrap()
                .partitions
                .len(),
            2
        );
    });
}

#[test]
fn describe_cluster_reports_the_broker_and_cluster_id() {
    let env = single();
    run(async {
        let admin = admin(env).await;
        let cluster = admin
            .describe_cluster(klamm_admin::DescribeClusterOptions::default())
            .await
            .unwrap();
        assert_eq!(cluster.cluster_id.as_deref(), Some(env.cluster_id.as_str()));
        assert_eq!(
            cluster.brokers.iter().map(|b| b.id).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(cluster.controller_id, Some(1));
        assert_eq!(cluster.source, "describe_cluster");
        assert!(cluster
            .authorized_operations
            .unwrap()
            .contains(&AclOperation::Describe));
        let health = admin
            .cluster_health(klamm_admin::ClusterHealthOptions::default())
            .await
            .unwrap();
        assert!(health.is_healthy(), "{}", health.summary());
        assert_eq!(health.brokers, vec![1]);
    });
}

#[test]
fn closed_client_fails_fast_and_timeouts_are_honoured() {
    let env = single();
    run(async {
        let admin = admin(env).await;
        admin.close();
        let error = admin
            .list_topics(klamm_admin::ListTopicsOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                AdminError::Cluster(klamm_admin::ClusterError::Closed)
            ),
            "{error}"
        );
        let unreachable = Admin::connect(
            AdminConfig::builder()
                .bootstrap_servers("127.0.0.1:1")
                .default_api_timeout(Duration::from_millis(800))
                .build()
                .unwrap(),
        );
        let started = std::time::Instant::now();
        assert!(unreachable.await.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        let _ = config("x");
    });
}
