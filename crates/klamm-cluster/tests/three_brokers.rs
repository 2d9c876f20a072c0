//! Against the harness's 3-node `cluster` profile (brokers 1, 2, 3). Tests that kill brokers
//! share the cluster with the others, so every test here holds one lock and runs alone.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{config, create_topic, run, unique, wait_for_leaders};
use klamm_cluster::{Call, Cluster, ClusterError, FanOut, ResponseError, Target};
use klamm_net::NetError;
use klamm_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use klamm_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use klamm_protocol::messages::{
    FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse, MetadataRequest,
};
use klamm_protocol::ErrorCode;
use klamm_test_harness::{shared, ClusterEnv, Profile};

static SERIAL: Mutex<()> = Mutex::new(());

fn env() -> &'static ClusterEnv {
    shared(Profile::Cluster)
}

fn latest_offset(topic: &str, partition: i32) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(-1)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic.into())
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_current_leader_epoch(-1)
                .with_timestamp(-1)])])
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
                    Call::new(target, |_| latest_offset(&topic, partition)).classify(|response| {
                        ResponseError::check(partition_error(response).code())
                    }),
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
        let metadata = FanOut::new(|_, _| MetadataRequest::default());
        let results = cluster.sharded(&metadata, [1, 2, 3], None).await;
        assert_eq!(results.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert!(results.values().all(|answer| answer.result.is_ok()));
        // A broker that is not in the metadata is its own error, not the others'.
        let results = cluster.sharded(&metadata, [1, 9], None).await;
        assert!(results[&1].result.is_ok());
        assert!(
            matches!(
                results[&9].result,
                Err(ClusterError::UnknownBroker { broker_id: 9, .. })
            ),
            "{:?}",
            results[&9].result
        );
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
                Call::new(Target::Broker(VICTIM), |_| MetadataRequest::default())
                    .timeout(Some(Duration::from_secs(2))),
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
                Call::new(Target::Broker(VICTIM), |_| MetadataRequest::default())
                    .timeout(Some(Duration::from_secs(30))),
            )
            .await
            .unwrap_or_else(|error| panic!("after restart: {error}"));
        assert!(response.brokers.iter().any(|b| b.node_id == VICTIM));
    });
}

/// A fetch the broker parks: an empty partition, `min_bytes` it will never have, `max_wait_ms`
/// long enough that an answer before it means the connection failed.
fn parked_fetch(topic: &str, topic_id: klamm_protocol::primitives::Uuid) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(5000)
        .with_min_bytes(1 << 20)
        .with_max_bytes(1 << 22)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(topic.into())
            .with_topic_id(topic_id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])])
}

#[test]
fn broker_killed_with_requests_in_flight_fails_send_at_once_and_call_at_its_deadline() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let env = env();
    const VICTIM: i32 = 3;
    run(async {
        let cluster = Cluster::connect(config(&env.bootstrap_plaintext, Duration::from_secs(10)))
            .await
            .unwrap();
        // One replica, on the victim: once it dies nobody can lead the partition.
        let topic = unique("klamm-cluster-inflight");
        create_topic(&cluster, &topic, 0, 0, &[vec![VICTIM]]).await;
        wait_for_leaders(&cluster, &topic, 1).await;
        let topic_id = cluster
            .cached_metadata()
            .topic(&topic)
            .unwrap()
            .id
            .unwrap_or_default();
        let leader = Target::Leader {
            topic: topic.clone(),
            partition: 0,
        };

        let send = tokio::spawn({
            let cluster = cluster.clone();
            let request = parked_fetch(&topic, topic_id);
            let leader = leader.clone();
            async move { cluster.send(leader, request).await }
        });
        const CALL_DEADLINE: Duration = Duration::from_secs(4);
        let call = tokio::spawn({
            let cluster = cluster.clone();
            let (topic, leader) = (topic.clone(), leader.clone());
            async move {
                let started = Instant::now();
                let result = cluster
                    .call(
                        Call::new(leader, |_| parked_fetch(&topic, topic_id))
                            .classify(|_: &FetchResponse| Ok(()))
                            .timeout(Some(CALL_DEADLINE)),
                    )
                    .await;
                (result, started.elapsed())
            }
        });

        // Both requests are parked on the victim's connection before it dies.
        let waited = Instant::now();
        loop {
            let in_flight = cluster
                .open_connections()
                .into_iter()
                .find(|(id, _)| *id == VICTIM)
                .map_or(0, |(_, connection)| connection.metrics().in_flight);
            if in_flight >= 2 {
                break;
            }
            assert!(
                waited.elapsed() < Duration::from_secs(3),
                "requests never in flight"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let guard = Restart(env, VICTIM as u32);
        let killed = Instant::now();
        env.kill_broker(VICTIM as u32).unwrap();

        // The once-only send fails as soon as the connection drops, well before the broker's
        // 5 s wait would have ended, and is never re-sent.
        let error = send.await.unwrap().unwrap_err();
        let after_kill = killed.elapsed();
        assert!(
            after_kill < Duration::from_secs(3),
            "{after_kill:?}: {error}"
        );
        match &error {
            ClusterError::Request {
                broker_id: VICTIM,
                cause: source,
                ..
            } => assert!(
                matches!(**source, NetError::ConnectionClosed { .. }),
                "{source:?}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("broker 3"), "{error}");
        assert!(error.may_have_applied(), "{error}");

        // The retrying call loses its connection too, then finds no live leader (the broker is
        // refused, fenced or the partition leaderless) until its deadline. Its first attempt
        // was in flight when the broker died, so the call may have been applied, whatever the
        // last attempt's error was.
        let (result, elapsed) = call.await.unwrap();
        let error = result.unwrap_err();
        assert!(
            // It gives up early only when the next backoff would overrun the deadline.
            elapsed >= CALL_DEADLINE / 2 && elapsed < CALL_DEADLINE + Duration::from_secs(1),
            "{elapsed:?}: {error}"
        );
        match &error {
            ClusterError::DeadlineExceeded { attempts, .. } => {
                assert!(*attempts >= 2, "retried after the lost connection: {error}");
                assert!(error.may_have_applied(), "{error:?}");
            }
            other => panic!("{other:?}"),
        }

        drop(guard);
        assert!(env.is_broker_running(VICTIM as u32).unwrap());
    });
}
