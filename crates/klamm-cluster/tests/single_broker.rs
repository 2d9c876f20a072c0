//! Against the harness's `single` profile (one broker, id 1): bootstrap, metadata, version
//! negotiation, topics created elsewhere, coordinators. The broker starts on first use.

mod common;

use std::time::{Duration, Instant};

use common::{config, create_topic, dead_addr, run, unique};
use klamm_cluster::{Call, Cluster, ClusterError, CoordinatorType, ResponseError, Target};
use klamm_protocol::messages::{DescribeGroupsRequest, MetadataRequest};
use klamm_protocol::{ApiKey, ErrorCode, Message};
use klamm_test_harness::{shared, ClusterEnv, Profile};

fn env() -> &'static ClusterEnv {
    shared(Profile::Single)
}

#[test]
fn bootstrap_skips_a_dead_address_and_lists_the_broker() {
    let env = env();
    run(async {
        let bootstrap = format!("{},{}", dead_addr(), env.bootstrap_plaintext);
        let cluster = Cluster::connect(config(&bootstrap, Duration::from_secs(20)))
            .await
            .unwrap();
        let metadata = cluster.metadata().await.unwrap();
        assert_eq!(
            metadata.cluster_id.as_deref(),
            Some(env.cluster_id.as_str())
        );
        assert_eq!(metadata.broker_ids(), [1]);
        let broker = metadata.broker(1).unwrap();
        assert_eq!(broker.addr().to_string(), env.broker_plaintext[&1]);
        // The bootstrap connection was kept for broker 1, which advertises the same address.
        assert_eq!(cluster.open_connections().len(), 1);
        cluster.close();
        assert!(matches!(
            cluster.metadata().await,
            Err(ClusterError::Closed)
        ));
    });
}

#[test]
fn unreachable_bootstrap_list_fails_within_its_timeout_naming_each_address() {
    run(async {
        let (a, b) = (dead_addr(), dead_addr());
        let started = Instant::now();
        let error = Cluster::connect(config(&format!("{a},{b}"), Duration::from_secs(2)))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
        let text = error.to_string();
        assert!(text.contains("timed out after 2000 ms"), "{text}");
        assert!(
            text.contains(&format!("{a}: could not connect to {a}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("{b}: could not connect to {b}")),
            "{text}"
        );
        match error {
            ClusterError::DeadlineExceeded {
                last_error,
                attempts,
                ..
            } => {
                assert!(attempts > 1, "retried meanwhile");
                assert!(matches!(
                    last_error.as_deref(),
                    Some(ClusterError::BootstrapUnreachable { attempts }) if attempts.len() == 2
                ));
            }
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn negotiated_versions_come_from_the_brokers_api_versions() {
    let env = env();
    run(async {
        let cluster = Cluster::connect(config(&env.bootstrap_plaintext, Duration::from_secs(20)))
            .await
            .unwrap();
        let connection = cluster.connection(1).await.unwrap();
        let table = connection.api_versions();
        let range = table.broker_range(ApiKey::Metadata).unwrap();
        let chosen = connection.version_for(ApiKey::Metadata).unwrap();
        assert_eq!(chosen, range.max.min(MetadataRequest::VERSIONS.max));
        // The cache records the version its response was read at.
        assert_eq!(cluster.refresh_metadata().await.unwrap().version, chosen);
        // Kafka 4.0 added Metadata v13 (KIP-1102); 3.9 stops at v12.
        let expected_max = if env.version.is_4x() { 13 } else { 12 };
        assert_eq!(range.max, expected_max, "Kafka {}", env.version);
        eprintln!(
            "Kafka {}: Metadata {range}, FindCoordinator {:?}, chosen Metadata v{chosen}",
            env.version,
            table.broker_range(ApiKey::FindCoordinator)
        );
    });
}

#[test]
fn topic_created_elsewhere_becomes_visible_on_demand_and_after_refresh() {
    let env = env();
    run(async {
        let cluster = Cluster::connect(config(&env.bootstrap_plaintext, Duration::from_secs(30)))
            .await
            .unwrap();
        let name = unique("klamm-cluster-visible");
        assert!(cluster.cached_metadata().topic(&name).is_none());
        // Created with a second client, so the first one's cache cannot know it.
        let other = Cluster::connect(config(&env.bootstrap_plaintext, Duration::from_secs(30)))
            .await
            .unwrap();
        create_topic(&other, &name, 2, 1, &[]).await;
        common::wait_for_leaders(&cluster, &name, 2).await;
        let metadata = cluster.metadata_for_topics(&[&name]).await.unwrap();
        let topic = metadata.topic(&name).unwrap();
        assert!(topic.id.is_some() && !topic.is_internal);
        assert_eq!(metadata.leader_of(&name, 1), Some(1));
        let refreshed = cluster.refresh_metadata().await.unwrap();
        assert!(refreshed.topic(&name).is_some());
        // A topic that does not exist is reported as such, at once.
        let started = Instant::now();
        let missing = unique("klamm-cluster-missing");
        let error = cluster
            .send_to_leader(&missing, 0, MetadataRequest::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ClusterError::UnknownTopicOrPartition { topic, .. } if *topic == missing),
            "{error}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(cluster
            .metadata_for_topics(&[&missing])
            .await
            .unwrap()
            .topic(&missing)
            .is_none());
    });
}

#[test]
fn group_coordinators_are_found_batched_and_cached_for_routing() {
    let env = env();
    run(async {
        let cluster = Cluster::connect(config(&env.bootstrap_plaintext, Duration::from_secs(30)))
            .await
            .unwrap();
        let groups = [unique("klamm-group-a"), unique("klamm-group-b")];
        let found = cluster
            .coordinators(CoordinatorType::Group, &groups, None)
            .await
            .unwrap();
        assert_eq!(found.len(), 2);
        for group in &groups {
            let coordinator = found[group]
                .as_ref()
                .unwrap_or_else(|e| panic!("{group}: {e}"));
            assert_eq!(coordinator.broker_id, 1);
        }
        let described = cluster
            .call(
                Call::new(
                    Target::Coordinator(CoordinatorType::Group, groups[0].clone()),
                    |_version| {
                        DescribeGroupsRequest::default()
                            .with_groups(vec![groups[0].as_str().into()])
                    },
                )
                .classify(
                    // A non-coordinator would answer NOT_COORDINATOR; the coordinator says the
                    // group does not exist (GROUP_ID_NOT_FOUND from DescribeGroups v6, else Dead).
                    |response| match ErrorCode::from_code(response.groups[0].error_code) {
                        ErrorCode::GroupIdNotFound => Ok(()),
                        _ => ResponseError::check(response.groups[0].error_code),
                    },
                ),
            )
            .await
            .unwrap();
        let group = &described.groups[0];
        assert_eq!(group.group_id.as_str(), groups[0]);
        assert!(
            group.error_code == ErrorCode::GroupIdNotFound.code()
                || group.group_state.as_str() == "Dead",
            "{group:?}"
        );
    });
}
