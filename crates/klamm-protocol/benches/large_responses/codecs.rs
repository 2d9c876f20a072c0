//! The three contenders behind one trait — klamm-protocol, the kafka-protocol crate, and a
//! plain copy of the frame as the floor — and the check that the two real codecs read the
//! benchmark's frames the same way.

use std::marker::PhantomData;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::protocol::{Decodable, Encodable};
use klamm_protocol::messages::{DescribeConfigsResponse, MetadataResponse};
use klamm_protocol::Message;

/// A way to turn a frame into a value and back.
pub trait Codec {
    /// How the benchmark output names it.
    const NAME: &'static str;
    /// What decoding produces.
    type Value;
    /// Reads the whole frame; panics on error, which would void the benchmark.
    fn decode(frame: &Bytes, version: i16) -> Self::Value;
    /// Writes the value into a buffer sized up front, as a client writing a length-prefixed
    /// frame does.
    fn encode(value: &Self::Value, version: i16) -> Bytes;
    /// Writes the value in one pass, with no size computed first, into a buffer that already
    /// has `room` bytes: as a client does that patches the length prefix afterwards.
    fn encode_single_pass(value: &Self::Value, version: i16, room: usize) -> Bytes;
}

/// klamm-protocol's generated codec.
pub struct Klamm<M>(PhantomData<M>);

impl<M: Message> Codec for Klamm<M> {
    const NAME: &'static str = "klamm";
    type Value = M;

    fn decode(frame: &Bytes, version: i16) -> M {
        M::from_bytes(frame, version).expect("klamm decodes the frame")
    }

    fn encode(value: &M, version: i16) -> Bytes {
        value.to_bytes(version).expect("klamm encodes the value")
    }

    fn encode_single_pass(value: &M, version: i16, room: usize) -> Bytes {
        let mut buf = BytesMut::with_capacity(room);
        value
            .encode_single_pass(&mut buf, version)
            .expect("klamm encodes the value");
        buf.freeze()
    }
}

/// The `kafka-protocol` crate's generated codec.
pub struct KafkaProtocol<M>(PhantomData<M>);

impl<M: Decodable + Encodable> Codec for KafkaProtocol<M> {
    const NAME: &'static str = "kafka-protocol";
    type Value = M;

    fn decode(frame: &Bytes, version: i16) -> M {
        let mut buf = frame.clone();
        let value = M::decode(&mut buf, version).expect("kafka-protocol decodes the frame");
        assert!(!buf.has_remaining(), "kafka-protocol left bytes unread");
        value
    }

    fn encode(value: &M, version: i16) -> Bytes {
        let size = value
            .compute_size(version)
            .expect("kafka-protocol sizes the value");
        let mut buf = BytesMut::with_capacity(size);
        value
            .encode(&mut buf, version)
            .expect("kafka-protocol encodes the value");
        buf.freeze()
    }

    fn encode_single_pass(value: &M, version: i16, room: usize) -> Bytes {
        let mut buf = BytesMut::with_capacity(room);
        value
            .encode(&mut buf, version)
            .expect("kafka-protocol encodes the value");
        buf.freeze()
    }
}

/// The floor: copying the frame into a fresh buffer, both ways.
pub struct Memcpy;

impl Codec for Memcpy {
    const NAME: &'static str = "memcpy";
    type Value = Bytes;

    fn decode(frame: &Bytes, _version: i16) -> Bytes {
        Bytes::copy_from_slice(frame)
    }

    fn encode(value: &Bytes, _version: i16) -> Bytes {
        let mut buf = Vec::with_capacity(value.len());
        buf.extend_from_slice(value);
        Bytes::from(buf)
    }

    fn encode_single_pass(value: &Bytes, version: i16, _room: usize) -> Bytes {
        Self::encode(value, version)
    }
}

/// Checks that klamm and kafka-protocol both decode `frame` to the same data and both
/// re-encode it to exactly `frame`, so the benchmark compares equal work.
pub fn check_metadata(frame: &Bytes, version: i16) {
    type Peer = kafka_protocol::messages::MetadataResponse;
    let klamm = Klamm::<MetadataResponse>::decode(frame, version);
    let peer = KafkaProtocol::<Peer>::decode(frame, version);
    check_round_trips(frame, version, &klamm, &peer);

    type Partition = (i16, i32, i32, i32, Vec<i32>, Vec<i32>, Vec<i32>);
    type Topic = (Option<String>, [u8; 16], bool, Vec<Partition>);
    let klamm_topics: Vec<Topic> = klamm
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    (
                        p.error_code,
                        p.partition_index,
                        p.leader_id,
                        p.leader_epoch,
                        p.replica_nodes.to_vec(),
                        p.isr_nodes.to_vec(),
                        p.offline_replicas.to_vec(),
                    )
                })
                .collect();
            let name = t.name.as_ref().map(|n| n.to_string());
            (name, *t.topic_id.as_bytes(), t.is_internal, partitions)
        })
        .collect();
    let ids = |ids: &[kafka_protocol::messages::BrokerId]| ids.iter().map(|id| id.0).collect();
    let peer_topics: Vec<Topic> = peer
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    (
                        p.error_code,
                        p.partition_index,
                        p.leader_id.0,
                        p.leader_epoch,
                        ids(&p.replica_nodes),
                        ids(&p.isr_nodes),
                        ids(&p.offline_replicas),
                    )
                })
                .collect();
            let name = t.name.as_ref().map(|n| n.as_str().to_owned());
            (name, *t.topic_id.as_bytes(), t.is_internal, partitions)
        })
        .collect();
    assert_eq!(
        klamm_topics, peer_topics,
        "the codecs read different topics"
    );
    let klamm_hosts: Vec<_> = klamm
        .brokers
        .iter()
        .map(|b| (b.node_id, b.host.to_string()))
        .collect();
    let peer_hosts: Vec<_> = peer
        .brokers
        .iter()
        .map(|b| (b.node_id.0, b.host.as_str().to_owned()))
        .collect();
    assert_eq!(klamm_hosts, peer_hosts, "the codecs read different brokers");
}

/// As [`check_metadata`], for the DescribeConfigs frame.
pub fn check_describe_configs(frame: &Bytes, version: i16) {
    type Peer = kafka_protocol::messages::DescribeConfigsResponse;
    let klamm = Klamm::<DescribeConfigsResponse>::decode(frame, version);
    let peer = KafkaProtocol::<Peer>::decode(frame, version);
    check_round_trips(frame, version, &klamm, &peer);

    // (resource, config, value, source, type, synonyms as (name, value, source))
    type Synonym = (String, Option<String>, i8);
    type Config = (String, String, Option<String>, i8, i8, Vec<Synonym>);
    let owned = |s: Option<&str>| s.map(str::to_owned);
    let klamm_configs: Vec<Config> = klamm
        .results
        .iter()
        .flat_map(|r| r.configs.iter().map(move |c| (r, c)))
        .map(|(r, c)| {
            let synonyms = c
                .synonyms
                .iter()
                .map(|s| (s.name.to_string(), owned(s.value.as_deref()), s.source))
                .collect();
            let value = owned(c.value.as_deref());
            let (resource, name) = (r.resource_name.to_string(), c.name.to_string());
            (
                resource,
                name,
                value,
                c.config_source,
                c.config_type,
                synonyms,
            )
        })
        .collect();
    let peer_configs: Vec<Config> = peer
        .results
        .iter()
        .flat_map(|r| r.configs.iter().map(move |c| (r, c)))
        .map(|(r, c)| {
            let synonyms = c
                .synonyms
                .iter()
                .map(|s| {
                    let value = owned(s.value.as_ref().map(|v| v.as_str()));
                    (s.name.as_str().to_owned(), value, s.source)
                })
                .collect();
            let value = owned(c.value.as_ref().map(|v| v.as_str()));
            let resource = r.resource_name.as_str().to_owned();
            let name = c.name.as_str().to_owned();
            (
                resource,
                name,
                value,
                c.config_source,
                c.config_type,
                synonyms,
            )
        })
        .collect();
    assert_eq!(
        klamm_configs, peer_configs,
        "the codecs read different configs"
    );
}

/// Checks that both codecs write `frame` back byte for byte, sized up front and in one pass
/// (into exactly enough room, and into too little, which klamm must write again).
fn check_round_trips<M: Message, P: Decodable + Encodable>(
    frame: &Bytes,
    version: i16,
    klamm: &M,
    peer: &P,
) {
    assert_eq!(&Klamm::encode(klamm, version), frame, "klamm round trip");
    for room in [frame.len(), frame.len() / 2] {
        assert_eq!(
            &Klamm::encode_single_pass(klamm, version, room),
            frame,
            "klamm single-pass round trip into {room} bytes"
        );
    }
    assert_eq!(
        &KafkaProtocol::encode(peer, version),
        frame,
        "kafka-protocol round trip"
    );
    assert_eq!(
        &KafkaProtocol::encode_single_pass(peer, version, frame.len()),
        frame,
        "kafka-protocol single-pass round trip"
    );
}
