//! Decoding the bytes a classic consumer group keeps per member: the subscription
//! (`member_metadata`, a `ConsumerProtocolSubscription`) and the assignment
//! (`member_assignment`, a `ConsumerProtocolAssignment`). Each starts with its version as a
//! big-endian `i16`; versions newer than this build knows are read as the newest known one,
//! ignoring trailing fields, as the Java client does.

use bytes::Bytes;
use klamm_protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription};
use klamm_protocol::primitives::Decoder;
use klamm_protocol::Message;

use crate::AdminError;

/// Partitions of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TopicPartitions {
    /// Topic.
    pub topic: String,
    /// Partition indexes.
    pub partitions: Vec<i32>,
}

/// A decoded consumer subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MemberSubscription {
    /// Protocol version found in the bytes.
    pub version: i16,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Partitions the member owned (v1+), for cooperative rebalancing.
    pub owned_partitions: Vec<TopicPartitions>,
    /// Generation (v2+), -1 if absent.
    pub generation_id: i32,
    /// Rack (v3+).
    pub rack_id: Option<String>,
    /// Length of the opaque user data, if any.
    pub user_data_len: Option<usize>,
}

/// A decoded consumer assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MemberAssignment {
    /// Protocol version found in the bytes.
    pub version: i16,
    /// Assigned partitions.
    pub partitions: Vec<TopicPartitions>,
    /// Length of the opaque user data, if any.
    pub user_data_len: Option<usize>,
}

fn versioned<M: Message>(bytes: &Bytes, what: &str) -> Result<(i16, M), AdminError> {
    let error = |reason: String| AdminError::Decode {
        what: what.to_owned(),
        reason,
    };
    if bytes.len() < 2 {
        return Err(error(format!(
            "{} bytes, too short for a version",
            bytes.len()
        )));
    }
    let version = i16::from_be_bytes([bytes[0], bytes[1]]);
    if version < 0 {
        return Err(error(format!("negative version {version}")));
    }
    let known = M::VERSIONS.max;
    let body = bytes.slice(2..);
    let mut decoder = Decoder::new(&body);
    let message = M::decode(&mut decoder, version.min(known)).map_err(|e| error(e.to_string()))?;
    // Bytes left over are fields of a newer version: ignored on purpose.
    Ok((version, message))
}

/// Decodes a member's `member_metadata` (`consumer` protocol type).
pub fn decode_subscription(bytes: &Bytes) -> Result<MemberSubscription, AdminError> {
    let (version, s) = versioned::<ConsumerProtocolSubscription>(bytes, "consumer subscription")?;
    Ok(MemberSubscription {
        version,
        topics: s.topics.iter().map(|t| t.to_string()).collect(),
        owned_partitions: s
            .owned_partitions
            .iter()
            .map(|tp| TopicPartitions {
                topic: tp.topic.to_string(),
                partitions: tp.partitions.to_vec(),
            })
            .collect(),
        generation_id: s.generation_id,
        rack_id: s.rack_id.as_ref().map(|r| r.to_string()),
        user_data_len: s.user_data.as_ref().map(Bytes::len),
    })
}

/// Decodes a member's `member_assignment` (`consumer` protocol type). Empty bytes (a member
/// not yet assigned) decode to no partitions.
pub fn decode_assignment(bytes: &Bytes) -> Result<MemberAssignment, AdminError> {
    if bytes.is_empty() {
        return Ok(MemberAssignment {
            version: 0,
            partitions: Vec::new(),
            user_data_len: None,
        });
    }
    let (version, a) = versioned::<ConsumerProtocolAssignment>(bytes, "consumer assignment")?;
    Ok(MemberAssignment {
        version,
        partitions: a
            .assigned_partitions
            .iter()
            .map(|tp| TopicPartitions {
                topic: tp.topic.to_string(),
                partitions: tp.partitions.to_vec(),
            })
            .collect(),
        user_data_len: a.user_data.as_ref().map(Bytes::len),
    })
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, BytesMut};
    use klamm_protocol::messages::consumer_protocol_assignment::TopicPartition as AssignedPartitions;
    use klamm_protocol::messages::consumer_protocol_subscription::TopicPartition as OwnedPartitions;
    use klamm_protocol::Encode;

    use super::*;

    fn with_version<M: Encode>(message: &M, version: i16) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        message.encode(&mut buf, version).unwrap();
        buf.freeze()
    }

    #[test]
    fn subscription_versions_decode_their_fields() {
        let subscription = ConsumerProtocolSubscription::default()
            .with_topics(vec!["a".into(), "b".into()])
            .with_owned_partitions(vec![OwnedPartitions::default()
                .with_topic("a".into())
                .with_partitions([0, 2].into())])
            .with_generation_id(7)
            .with_rack_id(Some("r1".into()));
        let v3 = decode_subscription(&with_version(&subscription, 3)).unwrap();
        assert_eq!(v3.version, 3);
        assert_eq!(v3.topics, vec!["a", "b"]);
        assert_eq!(v3.owned_partitions[0].partitions, vec![0, 2]);
        assert_eq!((v3.generation_id, v3.rack_id.as_deref()), (7, Some("r1")));
        let v0 = decode_subscription(&with_version(&subscription, 0)).unwrap();
        assert_eq!(v0.topics, vec!["a", "b"]);
        assert!(v0.owned_partitions.is_empty());
    }

    #[test]
    fn newer_versions_are_read_as_the_newest_known_ignoring_the_rest() {
        let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
            AssignedPartitions::default()
                .with_topic("t".into())
                .with_partitions([1].into()),
        ]);
        let mut bytes = BytesMut::from(&with_version(&assignment, 3)[..]);
        bytes[0..2].copy_from_slice(&9i16.to_be_bytes());
        bytes.put_slice(b"future fields");
        let decoded = decode_assignment(&bytes.freeze()).unwrap();
        assert_eq!(decoded.version, 9);
        assert_eq!(
            decoded.partitions,
            vec![TopicPartitions {
                topic: "t".into(),
                partitions: vec![1]
            }]
        );
    }

    #[test]
    fn truncated_bytes_are_a_decode_error_and_empty_assignment_is_none() {
        assert!(matches!(
            decode_subscription(&Bytes::from_static(&[0])),
            Err(AdminError::Decode { .. })
        ));
        assert!(matches!(
            decode_subscription(&Bytes::from_static(&[0, 0, 0, 0, 0, 9])),
            Err(AdminError::Decode { .. })
        ));
        assert!(decode_assignment(&Bytes::new())
            .unwrap()
            .partitions
            .is_empty());
    }
}
