//! Retry, backoff, deadlines, metadata age, coordinator caching and sharding, on tokio's paused
//! clock: every broker is an in-process fake reached through in-memory pipes, so the waits are
//! virtual and every timing is exact.

// Messages are built by setting fields on a default value, which keeps working once generated
// structs are `#[non_exhaustive]`.
#![allow(clippy::field_reassign_with_default)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use klamm_cluster::{
    Call, Cluster, ClusterConfig, ClusterError, CoordinatorType, Outcome, ResponseError,
    ShardedRequest, Target, Waiting,
};
use klamm_net::{BrokerAddress, ConnectFuture, ConnectionConfig, Connector, Transport};
use klamm_protocol::messages::api_versions_response::ApiVersion;
use klamm_protocol::messages::find_coordinator_response::Coordinator;
use klamm_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use klamm_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use klamm_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use klamm_protocol::messages::{
    ApiVersionsResponse, DescribeGroupsRequest, DescribeGroupsResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, ListOffsetsRequest, ListOffsetsResponse, MetadataRequest,
    MetadataResponse,
};
use klamm_protocol::{ApiKey, ErrorCode, Message};
use klamm_test_harness::fake_broker::{Call as Received, FakeBroker, Reply};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// What a fake broker does with a request that is not ApiVersions, Metadata or
/// FindCoordinator: the broker's id, the request; `None` ignores it.
type Script = Arc<dyn Fn(i32, &Received) -> Option<Reply> + Send + Sync>;

/// Three fake brokers (ids 1-3) at made-up addresses; topic `t` has partitions 0-5 led by
/// brokers 1, 2, 3, 1, 2, 3; every group's coordinator is broker 2.
#[derive(Clone)]
struct FakeCluster {
    brokers: Arc<HashMap<String, FakeBroker>>,
    /// Requests received, by API.
    counts: Arc<Mutex<BTreeMap<ApiKey, usize>>>,
    /// Leaders of `t`'s partitions, changeable by a test.
    leaders: Arc<Mutex<Vec<i32>>>,
}

fn addr(id: i32) -> SocketAddr {
    format!("10.0.0.{id}:9092").parse().unwrap()
}

impl FakeCluster {
    fn new(script: impl Fn(i32, &Received) -> Option<Reply> + Send + Sync + 'static) -> Self {
        let script: Script = Arc::new(script);
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let leaders = Arc::new(Mutex::new(vec![1, 2, 3, 1, 2, 3]));
        let brokers = (1..=3)
            .map(|id| {
                let (script, counts, leaders) = (script.clone(), counts.clone(), leaders.clone());
                let broker = FakeBroker::in_memory(addr(id), move |call| {
                    *counts.lock().unwrap().entry(call.api).or_insert(0) += 1;
                    answer(id, call, &leaders.lock().unwrap(), &script)
                });
                (addr(id).to_string(), broker)
            })
            .collect();
        FakeCluster {
            brokers: Arc::new(brokers),
            counts,
            leaders,
        }
    }

    fn count(&self, api: ApiKey) -> usize {
        self.counts.lock().unwrap().get(&api).copied().unwrap_or(0)
    }

    async fn connect(&self, timeout: Duration) -> Cluster {
        let connection = ConnectionConfig::builder()
            .connector(self.clone())
            .request_timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let config = ClusterConfig::builder()
            .bootstrap_servers(addr(1).to_string())
            .connection(connection)
            .retry_backoff(100 * MS)
            .retry_backoff_max(100 * MS)
            .default_api_timeout(timeout)
            .build()
            .unwrap();
        Cluster::connect(config).await.unwrap()
    }
}

impl Connector for FakeCluster {
    fn connect<'a>(&'a self, broker: &'a BrokerAddress) -> ConnectFuture<'a> {
        let stream = self
            .brokers
            .get(&broker.to_string())
            .map(FakeBroker::open_stream);
        Box::pin(async move {
            match stream {
                Some(stream) => Ok(Box::new(stream) as Box<dyn Transport>),
                None => Err(std::io::ErrorKind::ConnectionRefused.into()),
            }
        })
    }
}

fn answer(id: i32, call: &Received, leaders: &[i32], script: &Script) -> Reply {
    match call.api {
        ApiKey::ApiVersions => {
            let mut response = ApiVersionsResponse::default();
            response.api_keys = ApiKey::ALL
                .iter()
                .map(|api| {
                    let mut entry = ApiVersion::default();
                    entry.api_key = api.key();
                    entry.min_version = api.versions().min;
                    entry.max_version = api.versions().max;
                    entry
                })
                .collect();
            Reply::encode(&response, call.version)
        }
        ApiKey::Metadata => {
            let request = MetadataRequest::from_bytes(&call.body, call.version).unwrap();
            let mut response = MetadataResponse::default();
            response.controller_id = 1;
            response.cluster_id = Some("fake".into());
            response.brokers = (1..=3)
                .map(|id| {
                    let mut broker = MetadataResponseBroker::default();
                    broker.node_id = id;
                    broker.host = format!("10.0.0.{id}").into();
                    broker.port = 9092;
                    broker
                })
                .collect();
            let wants_t = request
                .topics
                .as_ref()
                .is_none_or(|topics| topics.iter().any(|t| t.name.as_deref() == Some("t")));
            if wants_t {
                let mut topic = MetadataResponseTopic::default();
                topic.name = Some("t".into());
                topic.partitions = leaders
                    .iter()
                    .enumerate()
                    .map(|(index, leader)| {
                        let mut partition = MetadataResponsePartition::default();
                        partition.partition_index = index as i32;
                        partition.leader_id = *leader;
                        partition.replica_nodes = vec![*leader].into();
                        partition.isr_nodes = vec![*leader].into();
                        partition
                    })
                    .collect();
                response.topics = vec![topic];
            }
            Reply::encode(&response, call.version)
        }
        ApiKey::FindCoordinator => {
            let request = FindCoordinatorRequest::from_bytes(&call.body, call.version).unwrap();
            let mut response = FindCoordinatorResponse::default();
            response.coordinators = request
                .coordinator_keys
                .iter()
                .map(|key| {
                    let mut coordinator = Coordinator::default();
                    coordinator.key = key.clone();
                    coordinator.node_id = 2;
                    coordinator.host = "10.0.0.2".into();
                    coordinator.port = 9092;
                    coordinator
                })
                .collect();
            Reply::encode(&response, call.version)
        }
        _ => script(id, call).unwrap_or(Reply::Ignore),
    }
}

/// ListOffsets (latest) for partitions of `t`, as an admin operation would shard it.
struct LatestOffsets;

impl ShardedRequest for LatestOffsets {
    type Item = i32;
    type Request = ListOffsetsRequest;
    type Output = i64;

    fn route(&self, partition: &i32) -> Target {
        Target::Leader {
            topic: "t".into(),
            partition: *partition,
        }
    }

    fn build(&self, _broker: i32, _version: i16, partitions: &[i32]) -> ListOffsetsRequest {
        let mut topic = ListOffsetsTopic::default();
        topic.name = "t".into();
        topic.partitions = partitions
            .iter()
            .map(|index| {
                let mut partition = ListOffsetsPartition::default();
                partition.partition_index = *index;
                partition.timestamp = -1;
                partition
            })
            .collect();
        let mut request = ListOffsetsRequest::default();
        request.replica_id = -1;
        request.topics = vec![topic];
        request
    }

    fn classify(
        &self,
        response: ListOffsetsResponse,
        _version: i16,
        _items: &[i32],
    ) -> Vec<(i32, Outcome<i64>)> {
        response
            .topics
            .iter()
            .flat_map(|topic| &topic.partitions)
            .map(|p| {
                let outcome = match ResponseError::check(p.error_code) {
                    Ok(()) => Outcome::Done(p.offset),
                    Err(error) if error.error_code == ErrorCode::NotLeaderOrFollower => {
                        Outcome::Retry(error)
                    }
                    Err(error) => Outcome::Failed(error),
                };
                (p.partition_index, outcome)
            })
            .collect()
    }
}

/// A ListOffsets answer: each asked partition's offset is `broker * 100 + partition`, or the
/// error `error(broker, partition)` says.
fn offsets_answer(id: i32, call: &Received, error: impl Fn(i32, i32) -> i16) -> Reply {
    let request = ListOffsetsRequest::from_bytes(&call.body, call.version).unwrap();
    let mut response = ListOffsetsResponse::default();
    response.topics = request
        .topics
        .iter()
        .map(|topic| {
            let mut answer = ListOffsetsTopicResponse::default();
            answer.name = topic.name.clone();
            answer.partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let mut partition = ListOffsetsPartitionResponse::default();
                    partition.partition_index = p.partition_index;
                    partition.error_code = error(id, p.partition_index);
                    partition.offset = i64::from(id * 100 + p.partition_index);
                    partition
                })
                .collect();
            answer
        })
        .collect();
    Reply::encode(&response, call.version)
}

#[tokio::test(start_paused = true)]
async fn items_go_to_their_leaders_in_one_request_per_broker() {
    let fake = FakeCluster::new(|id, call| Some(offsets_answer(id, call, |_, _| 0)));
    let cluster = fake.connect(Duration::from_secs(10)).await;
    let results = cluster.sharded(&LatestOffsets, 0..6, None).await;
    let offsets: Vec<i64> = results
        .values()
        .map(|r| *r.result.as_ref().unwrap())
        .collect();
    assert_eq!(offsets, [100, 201, 302, 103, 204, 305]);
    assert!(results
        .values()
        .all(|r| r.attempts == 1 && !r.may_have_applied));
    assert_eq!(fake.count(ApiKey::ListOffsets), 3, "one request per leader");
}

#[tokio::test(start_paused = true)]
async fn only_the_items_that_need_it_are_retried_after_the_retry_backoff() {
    let refusals = Arc::new(AtomicUsize::new(0));
    let counter = refusals.clone();
    let fake = FakeCluster::new(move |id, call| {
        Some(offsets_answer(id, call, |_, partition| {
            // Partition 4 is refused twice, as by a leader that just moved.
            if partition == 4 && counter.fetch_add(1, Ordering::SeqCst) < 2 {
                ErrorCode::NotLeaderOrFollower.code()
            } else {
                0
            }
        }))
    });
    let cluster = fake.connect(Duration::from_secs(10)).await;
    let metadata_before = fake.count(ApiKey::Metadata);
    let started = Instant::now();
    let results = cluster.sharded(&LatestOffsets, 0..6, None).await;
    // Two pauses of retry_backoff (100 ms, no jitter with equal bounds), nothing else.
    assert_eq!(started.elapsed(), 200 * MS);
    assert_eq!(results[&4].attempts, 3);
    assert_eq!(*results[&4].result.as_ref().unwrap(), 204);
    assert!(results
        .iter()
        .filter(|(p, _)| **p != 4)
        .all(|(_, r)| r.attempts == 1));
    // 3 requests, then partition 4 alone twice.
    assert_eq!(fake.count(ApiKey::ListOffsets), 5);
    // Each retry fetched only topic `t`'s metadata.
    assert_eq!(fake.count(ApiKey::Metadata) - metadata_before, 2);
}

#[tokio::test(start_paused = true)]
async fn a_moved_leader_is_found_in_fresh_metadata() {
    let fake = FakeCluster::new(|id, call| {
        Some(offsets_answer(id, call, |broker, partition| {
            // Partition 0 is now led by broker 3; broker 1 says so.
            if partition == 0 && broker == 1 {
                ErrorCode::NotLeaderOrFollower.code()
            } else {
                0
            }
        }))
    });
    let cluster = fake.connect(Duration::from_secs(10)).await;
    fake.leaders.lock().unwrap()[0] = 3;
    let results = cluster.sharded(&LatestOffsets, [0], None).await;
    assert_eq!(*results[&0].result.as_ref().unwrap(), 300);
    assert_eq!(results[&0].attempts, 2);
}

#[tokio::test(start_paused = true)]
async fn a_final_error_fails_its_item_alone() {
    let fake = FakeCluster::new(|id, call| {
        Some(offsets_answer(id, call, |_, partition| {
            if partition == 2 {
                ErrorCode::TopicAuthorizationFailed.code()
            } else {
                0
            }
        }))
    });
    let cluster = fake.connect(Duration::from_secs(10)).await;
    let results = cluster.sharded(&LatestOffsets, 0..6, None).await;
    let error = results[&2].result.as_ref().unwrap_err();
    assert_eq!(
        error.error_code(),
        Some(ErrorCode::TopicAuthorizationFailed)
    );
    assert!(error.to_string().contains("broker 3"), "{error}");
    assert_eq!(results.values().filter(|r| r.result.is_ok()).count(), 5);
    assert_eq!(results[&2].attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_silent_broker_times_out_at_the_deadline_naming_what_it_waited_for() {
    let fake = FakeCluster::new(|id, call| (id != 2).then(|| offsets_answer(id, call, |_, _| 0)));
    let cluster = fake.connect(Duration::from_secs(10)).await;
    let started = Instant::now();
    let results = cluster
        .sharded(&LatestOffsets, 0..6, Some(Duration::from_secs(2)))
        .await;
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    for partition in [1, 4] {
        match &results[&partition].result {
            Err(ClusterError::DeadlineExceeded {
                waiting: Waiting::Response { broker_id: 2, .. },
                may_have_applied: true,
                timeout,
                ..
            }) => assert_eq!(*timeout, Duration::from_secs(2)),
            other => panic!("partition {partition}: {other:?}"),
        }
    }
    assert_eq!(results.values().filter(|r| r.result.is_ok()).count(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_is_sent_again_and_remembered_as_may_have_applied() {
    let closed_once = Arc::new(AtomicUsize::new(0));
    let counter = closed_once.clone();
    let fake = FakeCluster::new(move |id, call| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            return Some(Reply::Close);
        }
        Some(offsets_answer(id, call, |_, _| 0))
    });
    let cluster = fake.connect(Duration::from_secs(10)).await;
    let results = cluster.sharded(&LatestOffsets, [0], None).await;
    assert_eq!(*results[&0].result.as_ref().unwrap(), 100);
    assert_eq!(results[&0].attempts, 2);
    assert!(results[&0].may_have_applied);

    // A call that must not be sent twice reports the lost answer instead.
    counter_reset(&closed_once);
    let call = Call::new(Target::Broker(1), |_| LatestOffsets.build(1, 0, &[0])).no_resend();
    let error = cluster.call(call).await.unwrap_err();
    assert!(error.may_have_applied(), "{error}");
}

fn counter_reset(counter: &AtomicUsize) {
    counter.store(0, Ordering::SeqCst);
}

#[tokio::test(start_paused = true)]
async fn metadata_is_refreshed_once_it_is_older_than_metadata_max_age() {
    let fake = FakeCluster::new(|_, _| None);
    let cluster = fake.connect(Duration::from_secs(10)).await;
    assert_eq!(fake.count(ApiKey::Metadata), 1, "the bootstrap");
    cluster.metadata().await.unwrap();
    assert_eq!(fake.count(ApiKey::Metadata), 1, "still fresh");
    // kafka-python's default metadata_max_age: 300 000 ms.
    tokio::time::sleep(Duration::from_secs(299)).await;
    cluster.metadata().await.unwrap();
    assert_eq!(fake.count(ApiKey::Metadata), 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.metadata().await.unwrap();
    assert_eq!(fake.count(ApiKey::Metadata), 2, "refreshed at 300 s");
}

#[tokio::test(start_paused = true)]
async fn coordinators_are_found_in_one_batch_cached_and_forgotten_when_they_move() {
    let moved = Arc::new(AtomicUsize::new(0));
    let counter = moved.clone();
    let fake = FakeCluster::new(move |_, call| {
        let request = DescribeGroupsRequest::from_bytes(&call.body, call.version).unwrap();
        let mut response = DescribeGroupsResponse::default();
        response.groups = request
            .groups
            .iter()
            .map(|group| {
                let mut described =
                    klamm_protocol::messages::describe_groups_response::DescribedGroup::default();
                described.group_id = group.clone();
                described
            })
            .collect();
        if counter.load(Ordering::SeqCst) == 1 {
            counter.store(2, Ordering::SeqCst);
            response.groups[0].error_code = ErrorCode::NotCoordinator.code();
        }
        Some(Reply::encode(&response, call.version))
    });
    let cluster = fake.connect(Duration::from_secs(10)).await;
    let describe = |group: &'static str| {
        Call::new(
            Target::Coordinator(CoordinatorType::Group, group.into()),
            move |_| {
                let mut request = DescribeGroupsRequest::default();
                request.groups = vec![group.into()];
                request
            },
        )
        .classify(|response: &DescribeGroupsResponse| {
            ResponseError::check(response.groups.first().map_or(0, |g| g.error_code))
        })
    };
    let found = cluster
        .coordinators(CoordinatorType::Group, &["a", "b", "c"], None)
        .await
        .unwrap();
    assert!(found.values().all(|c| c.as_ref().unwrap().broker_id == 2));
    assert_eq!(fake.count(ApiKey::FindCoordinator), 1, "one batched lookup");
    cluster.call(describe("a")).await.unwrap();
    cluster.call(describe("b")).await.unwrap();
    assert_eq!(fake.count(ApiKey::FindCoordinator), 1, "cached");
    moved.store(1, Ordering::SeqCst);
    let started = Instant::now();
    cluster.call(describe("a")).await.unwrap();
    assert_eq!(fake.count(ApiKey::FindCoordinator), 2, "looked up again");
    assert_eq!(started.elapsed(), 100 * MS, "after one retry backoff");
}
