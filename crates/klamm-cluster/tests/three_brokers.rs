//! Against the harness's 3-node `cluster` profile (brokers 1, 2, 3). Tests that kill brokers
//! share the cluster with the others, so every test here holds one lock and runs alone.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{config, create_topic, run, unique, wait_for_leaders};
use klamm_cluster::{accept_any, Cluster, ClusterError, ResponseError, Target};
use klamm_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use klamm_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse, MetadataRequest};
use klamm_protocol::ErrorCode;
use klamm_test_harness::{shared, ClusterEnv, Profile};

static SERIAL: Mutex<()> = Mutex::new(());

fn env() -> &'static ClusterEnv {
    shared(Profile::Cluster)
}

fn latest_offset(topic: &str, partition: i32) -> ListOffsetsRequest {
    ListOffsetsRequest {
        replica_id: -1,
        topics: vec![ListOffsetsTopic {
            name: topic.into(),
            partitions: vec![ListOffsetsPartition {
                partition_index: partition,
                current_leader_epoch: -1,
                timestamp: -1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn partition_error(response: &ListOffsetsResponse) -> ErrorCode {
    ErrorCode::from_code(response.topics[0].partitions[0].error_code)
}

#[test]
fn metadata_lists_every_broker_and_send_to_leader_reaches_the_leader() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let env = env();
    run(async {
        let cluster = Cluster::connect(config(&env.bootstrap_plaintext, Duration::from_secs(30)))
            .await
            .unwrap();
        let metadata = cluster.metadata().await.unwrap();
        assert_eq!(metadata.broker_ids(), [1, 2, 3]);
        for (id, addr) in &env.broker_plaintext {
            assert_eq!(
                metadata.broker(*id as i32).unwrap().addr().to_string(),
                *addr
            );
        }
        assert!(metadata.controller_id.is_some());
        // One partition led by each broker.
        let topic = unique("klamm-cluster-leaders");
        create_topic(&cluster, &topic, 0, 0, &[vec![1], vec![2], vec![3]]).await;
        wait_for_leaders(&cluster, &topic, 3).await;
        for partition in 0..3 {
            let leader = cluster
                .cached_metadata()
                .leader_of(&topic, partition)
                .unwrap();
            assert_eq!(leader, partition + 1);
            // The leader itself may learn of its leadership a moment after the broker we
            // asked for metadata: NOT_LEADER_OR_FOLLOWER is retried after a refresh.
            let target = Target::Leader {
                topic: topic.clone(),
                partition,
            };
            let response = cluster
                .call(
                    target,
                    None,
                    |_| latest_offset(&topic, partition),
                    |response| ResponseError::check(partition_error(response).code()),
                )
                .await
                .unwrap();
            assert_eq!(
                partition_error(&response),
                ErrorCode::None,
                "partition {partition}"
            );
            let response = cluster
                .send_to_leader(&topic, partition, latest_offset(&topic, partition))
                .await
                .unwrap();
            assert_eq!(
                partition_error(&response),
                ErrorCode::None,
                "partition {partition}"
            );
            // The same request at another broker is refused: routing made the difference.
            let other = leader % 3 + 1;
            let response = cluster
                .send_to_broker(other, latest_offset(&topic, partition))
                .await
                .unwrap();
            assert_eq!(partition_error(&response), ErrorCode::NotLeaderOrFollower);
        }
        // Fan-out: every broker answers, results by broker id.
        let results = cluster
            .fan_out(
                [1, 2, 3],
                None,
                |_, _| MetadataRequest::default(),
                accept_any,
            )
            .await;
        assert_eq!(results.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert!(results.values().all(Result::is_ok));
    });
}

/// Restarts the broker when dropped, so a failing test leaves the cluster whole.
struct Restart(&'static ClusterEnv, u32);

impl Drop for Restart {
    fn drop(&mut self) {
        let _ = self.0.restart_broker(self.1);
    }
}

#[test]
fn killed_broker_fails_within_the_deadline_and_works_again_after_restart() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let env = env();
    const VICTIM: i32 = 3;
    run(async {
        let cluster = Cluster::connect(config(&env.bootstrap_plaintext, Duration::from_secs(3)))
            .await
            .unwrap();
        cluster
            .send_to_broker(VICTIM, MetadataRequest::default())
            .await
            .unwrap();
        let guard = Restart(env, VICTIM as u32);
        env.kill_broker(VICTIM as u32).unwrap();

        // A single send on the dead connection fails at once or within the deadline, and names
        // the broker; it is never re-sent.
        let started = Instant::now();
        let error = cluster
            .send_to_broker(VICTIM, MetadataRequest::default())
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let text = error.to_string();
        assert!(text.contains(&format!("broker {VICTIM}")), "{text}");
        assert!(
            !matches!(error, ClusterError::AdvertisedListenerUnreachable { .. }),
            "{text}"
        );

        // A retrying call keeps trying until its own deadline, then says what it waited for.
        let started = Instant::now();
        let error = cluster
            .call(
                Target::Broker(VICTIM),
                Some(Duration::from_secs(2)),
                |_| MetadataRequest::default(),
                accept_any,
            )
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
        assert!(
            matches!(error, ClusterError::DeadlineExceeded { .. }),
            "{error}"
        );
        assert!(
            error.net_error().is_some()
                || error.to_string().contains("not in the cluster metadata"),
            "{error}"
        );

        // The other brokers keep serving.
        let metadata = cluster.refresh_metadata().await.unwrap();
        assert!(metadata.broker_ids().contains(&1));
        cluster
            .send_to_any(MetadataRequest::default())
            .await
            .unwrap();

        drop(guard); // restart_broker waits until the broker answers
        assert!(env.is_broker_running(VICTIM as u32).unwrap());
        let response = cluster
            .call(
                Target::Broker(VICTIM),
                Some(Duration::from_secs(30)),
                |_| MetadataRequest::default(),
                accept_any,
            )
            .await
            .unwrap_or_else(|error| panic!("after restart: {error}"));
        assert!(response.brokers.iter().any(|b| b.node_id == VICTIM));
    });
}
