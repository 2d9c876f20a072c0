//! The third way to decode: klamm's zero-copy views. A view checks the frame once without
//! allocating and reads fields from it on demand, so to compare it fairly with a full decode
//! the benchmark reads every field of the response through the view (each string's length,
//! every number and every replica id), folding them into a checksum the optimiser must keep.
//! The same reads of kafka-protocol's decoded value give the peer's side of that comparison,
//! and must give the same checksum.

use bytes::Bytes;
use kafka_protocol::protocol::{Decodable, Encodable};
use klamm_protocol::messages::describe_configs_response::DescribeConfigsResponseView;
use klamm_protocol::messages::metadata_response::MetadataResponseView;
use klamm_protocol::messages::{DescribeConfigsResponse, MetadataResponse};
use klamm_protocol::view::View;
use klamm_protocol::Message;

use crate::codecs::{Codec, KafkaProtocol};
use crate::{PeerDescribeConfigs, PeerMetadata};

/// Parses `frame` as a view and reads every field of it.
pub type Walk = fn(&Bytes, i16) -> u64;

fn text(value: &str) -> u64 {
    value.len() as u64
}

fn optional_text(value: Option<&str>) -> u64 {
    value.map_or(u64::MAX, text)
}

fn number(value: impl Into<i64>) -> u64 {
    value.into() as u64
}

fn uuid(value: &[u8; 16]) -> u64 {
    value
        .iter()
        .fold(0u64, |sum, &byte| sum.rotate_left(5) ^ u64::from(byte))
}

/// Every field of a Metadata response, read through its view.
pub fn walk_metadata(frame: &Bytes, version: i16) -> u64 {
    let view = MetadataResponseView::parse(frame, version).expect("the view parses the frame");
    let mut sum = number(view.throttle_time_ms())
        .wrapping_add(optional_text(view.cluster_id()))
        .wrapping_add(number(view.controller_id()))
        .wrapping_add(number(view.cluster_authorized_operations()))
        .wrapping_add(number(view.error_code()));
    for broker in view.brokers() {
        sum = sum
            .wrapping_add(number(broker.node_id()))
            .wrapping_add(text(broker.host()))
            .wrapping_add(number(broker.port()))
            .wrapping_add(optional_text(broker.rack()));
    }
    for topic in view.topics() {
        sum = sum
            .wrapping_add(number(topic.error_code()))
            .wrapping_add(optional_text(topic.name()))
            .wrapping_add(uuid(topic.topic_id().as_bytes()))
            .wrapping_add(u64::from(topic.is_internal()))
            .wrapping_add(number(topic.topic_authorized_operations()));
        for partition in topic.partitions() {
            sum = sum
                .wrapping_add(number(partition.error_code()))
                .wrapping_add(number(partition.partition_index()))
                .wrapping_add(number(partition.leader_id()))
                .wrapping_add(number(partition.leader_epoch()));
            for list in [
                partition.replica_nodes(),
                partition.isr_nodes(),
                partition.offline_replicas(),
            ] {
                for node in list {
                    sum = sum.wrapping_add(number(node));
                }
            }
        }
    }
    sum
}

/// Every field of a DescribeConfigs response, read through its view.
pub fn walk_describe_configs(frame: &Bytes, version: i16) -> u64 {
    let view =
        DescribeConfigsResponseView::parse(frame, version).expect("the view parses the frame");
    let mut sum = number(view.throttle_time_ms());
    for result in view.results() {
        sum = sum
            .wrapping_add(number(result.error_code()))
            .wrapping_add(optional_text(result.error_message()))
            .wrapping_add(number(result.resource_type()))
            .wrapping_add(text(result.resource_name()));
        for config in result.configs() {
            sum = sum
                .wrapping_add(text(config.name()))
                .wrapping_add(optional_text(config.value()))
                .wrapping_add(u64::from(config.read_only()))
                .wrapping_add(number(config.config_source()))
                .wrapping_add(u64::from(config.is_sensitive()))
                .wrapping_add(number(config.config_type()))
                .wrapping_add(optional_text(config.documentation()));
            for synonym in config.synonyms() {
                sum = sum
                    .wrapping_add(text(synonym.name()))
                    .wrapping_add(optional_text(synonym.value()))
                    .wrapping_add(number(synonym.source()));
            }
        }
    }
    sum
}

/// Reads every field of kafka-protocol's decoded Metadata response, as [`walk_metadata`] does
/// through the view.
pub fn read_peer_metadata(response: &PeerMetadata) -> u64 {
    let mut sum = number(response.throttle_time_ms)
        .wrapping_add(optional_text(response.cluster_id.as_deref()))
        .wrapping_add(number(response.controller_id.0))
        .wrapping_add(number(response.cluster_authorized_operations))
        .wrapping_add(number(response.error_code));
    for broker in &response.brokers {
        sum = sum
            .wrapping_add(number(broker.node_id.0))
            .wrapping_add(text(&broker.host))
            .wrapping_add(number(broker.port))
            .wrapping_add(optional_text(broker.rack.as_deref()));
    }
    for topic in &response.topics {
        sum = sum
            .wrapping_add(number(topic.error_code))
            .wrapping_add(optional_text(topic.name.as_deref().map(|name| &**name)))
            .wrapping_add(uuid(topic.topic_id.as_bytes()))
            .wrapping_add(u64::from(topic.is_internal))
            .wrapping_add(number(topic.topic_authorized_operations));
        for partition in &topic.partitions {
            sum = sum
                .wrapping_add(number(partition.error_code))
                .wrapping_add(number(partition.partition_index))
                .wrapping_add(number(partition.leader_id.0))
                .wrapping_add(number(partition.leader_epoch));
            for list in [
                &partition.replica_nodes,
                &partition.isr_nodes,
                &partition.offline_replicas,
            ] {
                for node in list {
                    sum = sum.wrapping_add(number(node.0));
                }
            }
        }
    }
    sum
}

/// Reads every field of kafka-protocol's decoded DescribeConfigs response, as
/// [`walk_describe_configs`] does through the view.
pub fn read_peer_describe_configs(response: &PeerDescribeConfigs) -> u64 {
    let mut sum = number(response.throttle_time_ms);
    for result in &response.results {
        sum = sum
            .wrapping_add(number(result.error_code))
            .wrapping_add(optional_text(result.error_message.as_deref()))
            .wrapping_add(number(result.resource_type))
            .wrapping_add(text(&result.resource_name));
        for config in &result.configs {
            sum = sum
                .wrapping_add(text(&config.name))
                .wrapping_add(optional_text(config.value.as_deref()))
                .wrapping_add(u64::from(config.read_only))
                .wrapping_add(number(config.config_source))
                .wrapping_add(u64::from(config.is_sensitive))
                .wrapping_add(number(config.config_type))
                .wrapping_add(optional_text(config.documentation.as_deref()));
            for synonym in &config.synonyms {
                sum = sum
                    .wrapping_add(text(&synonym.name))
                    .wrapping_add(optional_text(synonym.value.as_deref()))
                    .wrapping_add(number(synonym.source));
            }
        }
    }
    sum
}

/// Only checks the frame, as every view does when it is made; fields stay unread.
pub fn parse_only<M: Message>(frame: &Bytes, version: i16) -> u64 {
    let view = M::View::parse(frame, version).expect("the view parses the frame");
    std::hint::black_box(view);
    1
}

/// Checks that the view of `frame` reads what the owned decode does, and that the walk through
/// it reads what the same reads of kafka-protocol's value do, so both sides measure the same
/// content.
fn check<M: Message, P: Decodable + Encodable>(
    frame: &Bytes,
    version: i16,
    walk: Walk,
    read_peer: fn(&P) -> u64,
) {
    let owned = M::from_bytes(frame, version).expect("klamm decodes the frame");
    let view = M::View::parse(frame, version).expect("the view parses the frame");
    assert!(
        view.to_message() == owned,
        "{}: the view reads another value",
        M::NAME
    );
    let peer = KafkaProtocol::<P>::decode(frame, version);
    assert_eq!(
        walk(frame, version),
        read_peer(&peer),
        "{}: the view and kafka-protocol read different fields",
        M::NAME
    );
}

/// Both walks, checked against the owned decode.
pub fn check_all(metadata: &Bytes, metadata_version: i16, configs: &Bytes, configs_version: i16) {
    check::<MetadataResponse, PeerMetadata>(
        metadata,
        metadata_version,
        walk_metadata,
        read_peer_metadata,
    );
    check::<DescribeConfigsResponse, PeerDescribeConfigs>(
        configs,
        configs_version,
        walk_describe_configs,
        read_peer_describe_configs,
    );
}
