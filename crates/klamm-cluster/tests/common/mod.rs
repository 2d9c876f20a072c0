//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use klamm_cluster::{Call, Cluster, ClusterConfig, ResponseError, Target};
use klamm_net::ConnectionConfig;
use klamm_protocol::messages::create_topics_request::{CreatableReplicaAssignment, CreatableTopic};
use klamm_protocol::messages::CreateTopicsRequest;
use klamm_protocol::ErrorCode;

pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

pub fn config(bootstrap: &str, timeout: Duration) -> ClusterConfig {
    ClusterConfig::builder()
        .bootstrap_servers(bootstrap)
        .connection(
            ConnectionConfig::builder()
                .client_id("klamm-cluster-tests")
                .connect_timeout(Duration::from_secs(5))
                .request_timeout(Duration::from_secs(15))
                .api_version_auto_timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        )
        .default_api_timeout(timeout)
        .build()
        .unwrap()
}

pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
pub fn dead_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    addr
}

/// Creates a topic through the controller; `assignments[p]` are partition p's replicas, or
/// `partitions`/`replication` are used when it is empty.
pub async fn create_topic(
    cluster: &Cluster,
    name: &str,
    partitions: i32,
    replication: i16,
    assignments: &[Vec<i32>],
) {
    let topic = CreatableTopic::default()
        .with_name(name.into())
        .with_num_partitions(if assignments.is_empty() {
            partitions
        } else {
            -1
        })
        .with_replication_factor(if assignments.is_empty() {
            replication
        } else {
            -1
        })
        .with_assignments(
            assignments
                .iter()
                .enumerate()
                .map(|(index, brokers)| {
                    CreatableReplicaAssignment::default()
                        .with_partition_index(index as i32)
                        .with_broker_ids(brokers.as_slice().into())
                })
                .collect(),
        );
    cluster
        .call(
            Call::new(Target::Controller, |_version| {
                CreateTopicsRequest::default()
                    .with_topics(vec![topic.clone()])
                    .with_timeout_ms(15_000)
            })
            .classify(|response| {
                let result = &response.topics[0];
                match ErrorCode::from_code(result.error_code) {
                    ErrorCode::TopicAlreadyExists => Ok(()),
                    _ => ResponseError::check(result.error_code)
                        .map_err(|e| e.with_message(result.error_message.as_ref())),
                }
            }),
        )
        .await
        .unwrap_or_else(|error| panic!("creating {name}: {error}"));
}

/// Polls `metadata_for_topics` until every partition of `name` has a leader.
pub async fn wait_for_leaders(cluster: &Cluster, name: &str, partitions: usize) {
    let started = Instant::now();
    loop {
        let metadata = cluster.metadata_for_topics(&[name]).await.unwrap();
        if let Some(topic) = metadata.topic(name) {
            if topic.partitions.len() == partitions
                && topic.partitions.values().all(|p| p.leader.is_some())
            {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name} has no leaders after 20 s: {:?}",
            metadata.topic(name)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
