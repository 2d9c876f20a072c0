//! The metadata cache: what a `MetadataResponse` says about the cluster (brokers, controller,
//! topics, partitions), as plain values that are built and merged without I/O, and
//! [`MetadataFreshness`], the sans-IO rule for when the cache must be refreshed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use klamm_net::BrokerAddress;
use klamm_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use klamm_protocol::messages::MetadataResponse;
use klamm_protocol::primitives::Uuid;
use klamm_protocol::ErrorCode;

/// One broker as the metadata lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    /// The broker's node id.
    pub id: i32,
    /// The host it advertises.
    pub host: String,
    /// The port it advertises.
    pub port: u16,
    /// Its rack, if configured.
    pub rack: Option<String>,
}

impl BrokerInfo {
    /// The advertised address.
    pub fn addr(&self) -> BrokerAddress {
        BrokerAddress::new(self.host.clone(), self.port)
    }

    fn from_response(broker: &MetadataResponseBroker) -> Self {
        BrokerInfo {
            id: broker.node_id,
            host: broker.host.to_string(),
            // A port outside u16 is a broker bug; 0 makes the connect fail with a clear error.
            port: u16::try_from(broker.port).unwrap_or(0),
            rack: broker.rack.as_ref().map(|rack| rack.to_string()),
        }
    }
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// The partition index.
    pub partition: i32,
    /// The leader's broker id, `None` when there is no leader.
    pub leader: Option<i32>,
    /// The leader epoch, `None` when the broker does not send it (Metadata v0-6).
    pub leader_epoch: Option<i32>,
    /// Every replica's broker id, preferred leader first.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
    /// Replicas whose log directory is offline.
    pub offline_replicas: Vec<i32>,
    /// The partition's error (`LEADER_NOT_AVAILABLE`, …), `None` for success.
    pub error: Option<ErrorCode>,
}

impl PartitionMetadata {
    fn from_response(partition: &MetadataResponsePartition) -> Self {
        PartitionMetadata {
            partition: partition.partition_index,
            leader: (partition.leader_id >= 0).then_some(partition.leader_id),
            leader_epoch: (partition.leader_epoch >= 0).then_some(partition.leader_epoch),
            replicas: partition.replica_nodes.to_vec(),
            isr: partition.isr_nodes.to_vec(),
            offline_replicas: partition.offline_replicas.to_vec(),
            error: error_of(partition.error_code),
        }
    }

    /// Whether fewer replicas are in sync than assigned.
    pub fn is_under_replicated(&self) -> bool {
        self.isr.len() < self.replicas.len()
    }
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    /// The topic name.
    pub name: String,
    /// The topic id (Metadata v10+), `None` when the broker does not send one.
    pub id: Option<Uuid>,
    /// Whether it is an internal topic (`__consumer_offsets`, …).
    pub is_internal: bool,
    /// Partitions by index.
    pub partitions: BTreeMap<i32, PartitionMetadata>,
    /// A topic-level error other than "unknown topic" (e.g. `TOPIC_AUTHORIZATION_FAILED`).
    pub error: Option<ErrorCode>,
}

impl TopicMetadata {
    fn from_response(topic: &MetadataResponseTopic) -> Option<Self> {
        let name = topic.name.as_ref()?.to_string();
        Some(TopicMetadata {
            name,
            id: (!topic.topic_id.is_zero()).then_some(topic.topic_id),
            is_internal: topic.is_internal,
            partitions: topic
                .partitions
                .iter()
                .map(|p| (p.partition_index, PartitionMetadata::from_response(p)))
                .collect(),
            error: error_of(topic.error_code),
        })
    }
}

/// A snapshot of the cluster as one `MetadataResponse` (plus later per-topic updates) saw it.
///
/// Immutable once built; the [`Cluster`](crate::Cluster) hands it out behind an `Arc` and
/// replaces it on refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterMetadata {
    /// The cluster id (Metadata v2+).
    pub cluster_id: Option<String>,
    /// The broker the response names as controller, if any. On KRaft clusters this is a
    /// random broker, which forwards controller requests; it is not the active controller.
    pub controller_id: Option<i32>,
    /// Brokers by id.
    pub brokers: BTreeMap<i32, BrokerInfo>,
    /// Topics by name (those the broker let us see).
    pub topics: BTreeMap<String, TopicMetadata>,
    /// The Metadata version of the last response merged in.
    pub version: i16,
}

impl ClusterMetadata {
    /// An empty snapshot (before the first response).
    pub fn empty() -> Self {
        ClusterMetadata {
            cluster_id: None,
            controller_id: None,
            brokers: BTreeMap::new(),
            topics: BTreeMap::new(),
            version: -1,
        }
    }

    /// The snapshot a response for all topics describes. Topics the broker reports as unknown
    /// are left out.
    pub fn from_response(response: &MetadataResponse, version: i16) -> Self {
        let mut metadata = ClusterMetadata::empty();
        metadata.apply_cluster(response, version);
        metadata.topics = response
            .topics
            .iter()
            .filter(|topic| !is_unknown_topic(topic.error_code))
            .filter_map(TopicMetadata::from_response)
            .map(|topic| (topic.name.clone(), topic))
            .collect();
        metadata
    }

    /// A copy updated by a response for some topics: brokers and controller are replaced, the
    /// listed topics are replaced (or removed if the broker says they do not exist), other
    /// topics are kept.
    pub fn merged_with(&self, response: &MetadataResponse, version: i16) -> Self {
        let mut metadata = self.clone();
        metadata.apply_cluster(response, version);
        for topic in &response.topics {
            let Some(name) = topic.name.as_ref() else {
                continue;
            };
            if is_unknown_topic(topic.error_code) {
                metadata.topics.remove(name.as_str());
            } else if let Some(topic) = TopicMetadata::from_response(topic) {
                metadata.topics.insert(topic.name.clone(), topic);
            }
        }
        metadata
    }

    fn apply_cluster(&mut self, response: &MetadataResponse, version: i16) {
        self.cluster_id = response.cluster_id.as_ref().map(|id| id.to_string());
        self.controller_id = (response.controller_id >= 0).then_some(response.controller_id);
        self.brokers = response
            .brokers
            .iter()
            .map(|b| (b.node_id, BrokerInfo::from_response(b)))
            .collect();
        self.version = version;
    }

    /// The broker with this id.
    pub fn broker(&self, id: i32) -> Option<&BrokerInfo> {
        self.brokers.get(&id)
    }

    /// The broker ids, ascending.
    pub fn broker_ids(&self) -> Vec<i32> {
        self.brokers.keys().copied().collect()
    }

    /// The topic with this name.
    pub fn topic(&self, name: &str) -> Option<&TopicMetadata> {
        self.topics.get(name)
    }

    /// One partition of a topic.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<&PartitionMetadata> {
        self.topic(topic)?.partitions.get(&partition)
    }

    /// The leader of a partition, if the partition is known and has one.
    pub fn leader_of(&self, topic: &str, partition: i32) -> Option<i32> {
        self.partition(topic, partition)?.leader
    }
}

fn error_of(code: i16) -> Option<ErrorCode> {
    let error = ErrorCode::from_code(code);
    error.is_error().then_some(error)
}

fn is_unknown_topic(code: i16) -> bool {
    matches!(
        ErrorCode::from_code(code),
        ErrorCode::UnknownTopicOrPartition | ErrorCode::UnknownTopicId
    )
}

/// When the metadata must be fetched again: after `metadata_max_age`, or at once after an
/// error said it is stale. Sans-IO: time comes in as `now`.
#[derive(Debug, Clone)]
pub struct MetadataFreshness {
    max_age: Duration,
    fetched_at: Option<Instant>,
    stale: bool,
    generation: u64,
}

impl MetadataFreshness {
    /// Nothing fetched yet.
    pub fn new(max_age: Duration) -> Self {
        MetadataFreshness {
            max_age,
            fetched_at: None,
            stale: false,
            generation: 0,
        }
    }

    /// Whether a refresh is due at `now`.
    pub fn needs_refresh(&self, now: Instant) -> bool {
        match self.fetched_at {
            None => true,
            Some(at) => self.stale || now.saturating_duration_since(at) >= self.max_age,
        }
    }

    /// An error said the metadata is out of date: refresh before the next use.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// A full refresh finished at `now`.
    pub fn record_refresh(&mut self, now: Instant) {
        self.fetched_at = Some(now);
        self.stale = false;
        self.generation += 1;
    }

    /// Counts full refreshes; a caller that saw generation `g` and finds a higher one knows
    /// someone else refreshed meanwhile and need not refresh again.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How old the metadata is at `now`, `None` before the first fetch.
    #[cfg(test)]
    pub fn age(&self, now: Instant) -> Option<Duration> {
        self.fetched_at.map(|at| now.saturating_duration_since(at))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use klamm_protocol::primitives::KafkaString;

    use super::*;

    pub(crate) fn broker(id: i32, host: &str, port: i32) -> MetadataResponseBroker {
        MetadataResponseBroker::default()
            .with_node_id(id)
            .with_host(KafkaString::from(host))
            .with_port(port)
            .with_rack(Some(KafkaString::from(format!("rack-{id}"))))
    }

    pub(crate) fn partition(
        index: i32,
        leader: i32,
        replicas: &[i32],
    ) -> MetadataResponsePartition {
        MetadataResponsePartition::default()
            .with_partition_index(index)
            .with_leader_id(leader)
            .with_leader_epoch(7)
            .with_replica_nodes(replicas.into())
            .with_isr_nodes(replicas[..1].into())
            .with_offline_replicas(Default::default())
    }

    pub(crate) fn topic(
        name: &str,
        error: i16,
        partitions: Vec<MetadataResponsePartition>,
    ) -> MetadataResponseTopic {
        MetadataResponseTopic::default()
            .with_error_code(error)
            .with_name(Some(KafkaString::from(name)))
            .with_topic_id(Uuid::from_bytes([name.len() as u8; 16]))
            .with_is_internal(name.starts_with("__"))
            .with_partitions(partitions)
    }

    pub(crate) fn response() -> MetadataResponse {
        MetadataResponse::default()
            .with_brokers(vec![broker(1, "b1", 9092), broker(2, "b2", 9093)])
            .with_cluster_id(Some(KafkaString::from("cluster-a")))
            .with_controller_id(2)
            .with_topics(vec![
                topic(
                    "orders",
                    0,
                    vec![partition(0, 1, &[1, 2]), partition(1, -1, &[2, 1])],
                ),
                topic("__consumer_offsets", 0, vec![partition(0, 2, &[2])]),
                topic("ghost", ErrorCode::UnknownTopicOrPartition.code(), vec![]),
            ])
    }

    #[test]
    fn snapshot_holds_brokers_controller_topics_and_partitions() {
        let metadata = ClusterMetadata::from_response(&response(), 12);
        assert_eq!(metadata.cluster_id.as_deref(), Some("cluster-a"));
        assert_eq!(metadata.controller_id, Some(2));
        assert_eq!(metadata.broker_ids(), [1, 2]);
        let b2 = metadata.broker(2).unwrap();
        assert_eq!(
            (b2.addr().to_string(), b2.rack.as_deref()),
            ("b2:9093".into(), Some("rack-2"))
        );
        let orders = metadata.topic("orders").unwrap();
        assert!(!orders.is_internal && orders.id.is_some());
        assert!(metadata.topic("__consumer_offsets").unwrap().is_internal);
        assert!(
            metadata.topic("ghost").is_none(),
            "unknown topics are left out"
        );
        let p0 = metadata.partition("orders", 0).unwrap();
        assert_eq!((p0.leader, p0.leader_epoch), (Some(1), Some(7)));
        assert_eq!((p0.replicas.clone(), p0.isr.clone()), (vec![1, 2], vec![1]));
        assert!(p0.is_under_replicated());
        assert_eq!(
            metadata.leader_of("orders", 1),
            None,
            "leader -1 means none"
        );
        assert_eq!(metadata.leader_of("orders", 9), None);
        assert_eq!(metadata.version, 12);
    }

    #[test]
    fn negative_controller_and_zero_topic_id_mean_unknown() {
        let mut response = response();
        response.controller_id = -1;
        response.topics[0].topic_id = Uuid::ZERO;
        response.topics[0].partitions[0].leader_epoch = -1;
        let metadata = ClusterMetadata::from_response(&response, 4);
        assert_eq!(metadata.controller_id, None);
        assert_eq!(metadata.topic("orders").unwrap().id, None);
        assert_eq!(metadata.partition("orders", 0).unwrap().leader_epoch, None);
    }

    #[test]
    fn merge_replaces_listed_topics_removes_unknown_and_keeps_others() {
        let base = ClusterMetadata::from_response(&response(), 12);
        let update = MetadataResponse::default()
            .with_brokers(vec![broker(1, "b1", 9092), broker(3, "b3", 9094)])
            .with_controller_id(3)
            .with_topics(vec![
                topic("orders", ErrorCode::UnknownTopicOrPartition.code(), vec![]),
                topic("fresh", 0, vec![partition(0, 3, &[3])]),
            ]);
        let merged = base.merged_with(&update, 12);
        assert_eq!(merged.broker_ids(), [1, 3]);
        assert_eq!(merged.controller_id, Some(3));
        assert!(merged.topic("orders").is_none(), "deleted topic removed");
        assert_eq!(merged.leader_of("fresh", 0), Some(3));
        assert!(
            merged.topic("__consumer_offsets").is_some(),
            "unlisted topic kept"
        );
    }

    #[test]
    fn topic_level_errors_other_than_unknown_are_kept() {
        let mut response = response();
        response.topics[0].error_code = ErrorCode::TopicAuthorizationFailed.code();
        let metadata = ClusterMetadata::from_response(&response, 12);
        assert_eq!(
            metadata.topic("orders").unwrap().error,
            Some(ErrorCode::TopicAuthorizationFailed)
        );
    }

    #[test]
    fn freshness_expires_after_max_age_and_when_marked_stale() {
        let t0 = Instant::now();
        let max_age = Duration::from_millis(300_000);
        let mut freshness = MetadataFreshness::new(max_age);
        assert!(freshness.needs_refresh(t0), "nothing fetched yet");
        freshness.record_refresh(t0);
        assert!(!freshness.needs_refresh(t0 + max_age - Duration::from_millis(1)));
        assert!(freshness.needs_refresh(t0 + max_age));
        freshness.mark_stale();
        assert!(freshness.needs_refresh(t0));
        let before = freshness.generation();
        freshness.record_refresh(t0 + Duration::from_secs(1));
        assert!(!freshness.needs_refresh(t0 + Duration::from_secs(2)));
        assert_eq!(freshness.generation(), before + 1);
        assert_eq!(
            freshness.age(t0 + Duration::from_secs(3)),
            Some(Duration::from_secs(2))
        );
    }
}
