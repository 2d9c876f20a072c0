//! The two responses the benchmark reads and writes, shaped like a busy cluster's answers:
//! Metadata for 1,000 topics × 10 partitions (3 replicas each, a few under-replicated), and
//! DescribeConfigs with synonyms for 1,000 topics × 40 configs.
//!
//! Everything is derived from indices (no randomness), so every run reads the same frames.

use klamm_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use klamm_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use klamm_protocol::messages::{DescribeConfigsResponse, MetadataResponse};
use klamm_protocol::primitives::{KafkaString, Uuid};

/// The Metadata version the benchmark uses: the one Kafka 3.x and 4.x clients send.
pub const METADATA_VERSION: i16 = 12;
/// The DescribeConfigs version the benchmark uses: the newest, flexible one.
pub const DESCRIBE_CONFIGS_VERSION: i16 = 4;

const BROKERS: i32 = 6;
const TOPICS: usize = 1_000;
const PARTITIONS_PER_TOPIC: i32 = 10;
const CONFIG_TOPICS: usize = 1_000;

const DOMAINS: [&str; 5] = ["payments", "orders", "inventory", "identity", "shipping"];
const ENTITIES: [&str; 5] = [
    "card-authorizations",
    "line-items",
    "stock-levels",
    "user-sessions",
    "parcel-events",
];
const STAGES: [&str; 4] = ["raw", "enriched", "aggregated", "dlq"];

/// A topic name such as `payments.card-authorizations.enriched-v3`.
fn topic_name(index: usize) -> String {
    format!(
        "{}.{}.{}-v{}",
        DOMAINS[index % DOMAINS.len()],
        ENTITIES[(index / DOMAINS.len()) % ENTITIES.len()],
        STAGES[(index / 25) % STAGES.len()],
        index % 7 + 1
    )
}

/// A UUID that differs for every index, spread over all 16 bytes as real topic ids are.
fn topic_id(index: usize) -> Uuid {
    let seed = (index as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    Uuid::from_bytes(seed.to_be_bytes())
}

/// A 10,000-partition Metadata response.
pub fn metadata_response() -> MetadataResponse {
    let brokers = (0..BROKERS)
        .map(|id| {
            MetadataResponseBroker::default()
                .with_node_id(id)
                .with_host(KafkaString::from(format!(
                    "broker-{id}.kafka.prod-eu-west-1.example.internal"
                )))
                .with_port(9092)
                .with_rack(Some(KafkaString::from(format!(
                    "eu-west-1{}",
                    ['a', 'b', 'c'][id as usize % 3]
                ))))
        })
        .collect();
    let topics = (0..TOPICS)
        .map(|t| {
            MetadataResponseTopic::default()
                .with_error_code(0)
                .with_name(Some(KafkaString::from(topic_name(t))))
                .with_topic_id(topic_id(t))
                .with_is_internal(false)
                .with_partitions(
                    (0..PARTITIONS_PER_TOPIC)
                        .map(|p| partition(t as i32, p))
                        .collect(),
                )
        })
        .collect();
    MetadataResponse::default()
        .with_throttle_time_ms(0)
        .with_brokers(brokers)
        .with_cluster_id(Some(KafkaString::from("Xk3vPq9sT0-mWc2Lr8dJfA")))
        .with_controller_id(1)
        .with_topics(topics)
}

fn partition(topic: i32, index: i32) -> MetadataResponsePartition {
    let first = (topic + index) % BROKERS;
    let replicas: Vec<i32> = (0..3).map(|r| (first + r) % BROKERS).collect();
    // One partition in 17 has a replica out of sync, as on a cluster that is catching up.
    let isr = if (topic * 31 + index) % 17 == 0 {
        replicas[..2].to_vec()
    } else {
        replicas.clone()
    };
    MetadataResponsePartition::default()
        .with_error_code(0)
        .with_partition_index(index)
        .with_leader_id(replicas[0])
        .with_leader_epoch(3 + (topic + index) % 11)
        .with_replica_nodes(replicas.into())
        .with_isr_nodes(isr.into())
        .with_offline_replicas(Default::default())
}

/// Kafka's `ConfigEntry.ConfigSource` ids.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

/// Kafka's `ConfigDef.Type` ids, as DescribeConfigs v3+ reports them.
const BOOLEAN: i8 = 1;
const STRING: i8 = 2;
const INT: i8 = 3;
const LONG: i8 = 5;
const DOUBLE: i8 = 6;
const LIST: i8 = 7;

/// Twenty topic configs: name, the broker config it falls back to, its default and its type.
const TOPIC_CONFIGS: [(&str, &str, &str, i8); 20] = [
    ("cleanup.policy", "log.cleanup.policy", "delete", LIST),
    ("compression.type", "compression.type", "producer", STRING),
    (
        "delete.retention.ms",
        "log.cleaner.delete.retention.ms",
        "86400000",
        LONG,
    ),
    (
        "file.delete.delay.ms",
        "log.segment.delete.delay.ms",
        "60000",
        LONG,
    ),
    (
        "flush.messages",
        "log.flush.interval.messages",
        "9223372036854775807",
        LONG,
    ),
    (
        "flush.ms",
        "log.flush.interval.ms",
        "9223372036854775807",
        LONG,
    ),
    (
        "index.interval.bytes",
        "log.index.interval.bytes",
        "4096",
        INT,
    ),
    (
        "max.compaction.lag.ms",
        "log.cleaner.max.compaction.lag.ms",
        "9223372036854775807",
        LONG,
    ),
    ("max.message.bytes", "message.max.bytes", "1048588", INT),
    (
        "message.timestamp.type",
        "log.message.timestamp.type",
        "CreateTime",
        STRING,
    ),
    (
        "min.cleanable.dirty.ratio",
        "log.cleaner.min.cleanable.ratio",
        "0.5",
        DOUBLE,
    ),
    (
        "min.compaction.lag.ms",
        "log.cleaner.min.compaction.lag.ms",
        "0",
        LONG,
    ),
    ("min.insync.replicas", "min.insync.replicas", "2", INT),
    ("preallocate", "log.preallocate", "false", BOOLEAN),
    ("retention.bytes", "log.retention.bytes", "-1", LONG),
    ("retention.ms", "log.retention.ms", "604800000", LONG),
    ("segment.bytes", "log.segment.bytes", "1073741824", INT),
    (
        "segment.index.bytes",
        "log.index.size.max.bytes",
        "10485760",
        INT,
    ),
    ("segment.ms", "log.roll.ms", "604800000", LONG),
    (
        "unclean.leader.election.enable",
        "unclean.leader.election.enable",
        "false",
        BOOLEAN,
    ),
];

/// Twenty more, from newer releases and Confluent Server, for the forty a topic describes.
const MORE_TOPIC_CONFIGS: [(&str, &str, &str, i8); 20] = [
    (
        "compression.gzip.level",
        "compression.gzip.level",
        "-1",
        INT,
    ),
    ("compression.lz4.level", "compression.lz4.level", "9", INT),
    ("compression.zstd.level", "compression.zstd.level", "3", INT),
    (
        "follower.replication.throttled.replicas",
        "follower.replication.throttled.replicas",
        "",
        LIST,
    ),
    (
        "leader.replication.throttled.replicas",
        "leader.replication.throttled.replicas",
        "",
        LIST,
    ),
    (
        "local.retention.bytes",
        "log.local.retention.bytes",
        "-2",
        LONG,
    ),
    ("local.retention.ms", "log.local.retention.ms", "-2", LONG),
    (
        "message.downconversion.enable",
        "log.message.downconversion.enable",
        "true",
        BOOLEAN,
    ),
    (
        "message.format.version",
        "log.message.format.version",
        "3.0-IV1",
        STRING,
    ),
    (
        "message.timestamp.after.max.ms",
        "log.message.timestamp.after.max.ms",
        "3600000",
        LONG,
    ),
    (
        "message.timestamp.before.max.ms",
        "log.message.timestamp.before.max.ms",
        "9223372036854775807",
        LONG,
    ),
    (
        "message.timestamp.difference.max.ms",
        "log.message.timestamp.difference.max.ms",
        "9223372036854775807",
        LONG,
    ),
    (
        "remote.storage.enable",
        "remote.log.storage.system.enable",
        "false",
        BOOLEAN,
    ),
    (
        "remote.log.copy.disable",
        "remote.log.copy.disable",
        "false",
        BOOLEAN,
    ),
    (
        "remote.log.delete.on.disable",
        "remote.log.delete.on.disable",
        "false",
        BOOLEAN,
    ),
    ("segment.jitter.ms", "log.roll.jitter.ms", "0", LONG),
    (
        "confluent.key.schema.validation",
        "confluent.key.schema.validation",
        "false",
        BOOLEAN,
    ),
    (
        "confluent.value.schema.validation",
        "confluent.value.schema.validation",
        "false",
        BOOLEAN,
    ),
    (
        "confluent.tier.enable",
        "confluent.tier.enable",
        "false",
        BOOLEAN,
    ),
    (
        "confluent.placement.constraints",
        "confluent.placement.constraints",
        "",
        STRING,
    ),
];

/// A DescribeConfigs response for 1,000 topics × 40 configs, synonyms included.
pub fn describe_configs_response() -> DescribeConfigsResponse {
    let results = (0..CONFIG_TOPICS)
        .map(|t| {
            DescribeConfigsResult::default()
                .with_error_code(0)
                .with_error_message(None)
                .with_resource_type(2) // TOPIC
                .with_resource_name(KafkaString::from(format!("{}.{t:04}", topic_name(t))))
                .with_configs(
                    TOPIC_CONFIGS
                        .iter()
                        .chain(&MORE_TOPIC_CONFIGS)
                        .enumerate()
                        .map(|(c, config)| topic_config(t, c, config))
                        .collect(),
                )
        })
        .collect();
    DescribeConfigsResponse::default()
        .with_throttle_time_ms(0)
        .with_results(results)
}

fn topic_config(
    topic: usize,
    index: usize,
    &(name, broker_name, default, config_type): &(&str, &str, &str, i8),
) -> DescribeConfigsResourceResult {
    let synonym = |name: &str, value: &str, source| {
        DescribeConfigsSynonym::default()
            .with_name(KafkaString::from(name))
            .with_value(Some(KafkaString::from(value)))
            .with_source(source)
    };
    // Every fifth config of a topic is set on the topic itself; one broker default in four
    // comes from server.properties rather than Kafka's built-in default.
    let broker_source = if index % 4 == 0 {
        STATIC_BROKER_CONFIG
    } else {
        DEFAULT_CONFIG
    };
    let broker = synonym(broker_name, default, broker_source);
    let (value, source, synonyms) = if (topic + index) % 5 == 0 {
        let value = override_value(name, topic);
        let own = synonym(name, &value, DYNAMIC_TOPIC_CONFIG);
        (value, DYNAMIC_TOPIC_CONFIG, vec![own, broker])
    } else {
        (default.to_owned(), broker_source, vec![broker])
    };
    DescribeConfigsResourceResult::default()
        .with_name(KafkaString::from(name))
        .with_value(Some(KafkaString::from(value)))
        .with_read_only(false)
        .with_config_source(source)
        .with_is_sensitive(false)
        .with_synonyms(synonyms)
        .with_config_type(config_type)
        .with_documentation(None)
}

fn override_value(name: &str, topic: usize) -> String {
    match name {
        "cleanup.policy" => "compact,delete".to_owned(),
        "compression.type" => "zstd".to_owned(),
        "message.timestamp.type" => "LogAppendTime".to_owned(),
        "min.cleanable.dirty.ratio" => "0.1".to_owned(),
        "preallocate" | "unclean.leader.election.enable" => "true".to_owned(),
        _ => ((topic + 1) * 3_600_000).to_string(),
    }
}
