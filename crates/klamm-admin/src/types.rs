//! Small shared types: [`TopicPartition`], [`AclOperation`] (also used for the
//! "authorized operations" bit sets that Metadata, DescribeCluster and group descriptions
//! return), and per-call [`CallOptions`].

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// A topic and a partition index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// `topic`-`partition`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Options every operation without its own options struct takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Deadline of the whole operation, retries included; `default_api_timeout` if `None`.
    pub timeout: Option<Duration>,
}

impl CallOptions {
    /// Options with this deadline.
    pub fn timeout(timeout: Duration) -> Self {
        CallOptions {
            timeout: Some(timeout),
        }
    }
}

/// An ACL operation (Kafka's `AclOperation`), also the elements of "authorized operations".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AclOperation {
    /// A code this build does not know.
    Unknown,
    /// Matches any operation (filters only).
    Any,
    /// Every operation.
    All,
    /// `READ`.
    Read,
    /// `WRITE`.
    Write,
    /// `CREATE`.
    Create,
    /// `DELETE`.
    Delete,
    /// `ALTER`.
    Alter,
    /// `DESCRIBE`.
    Describe,
    /// `CLUSTER_ACTION`.
    ClusterAction,
    /// `DESCRIBE_CONFIGS`.
    DescribeConfigs,
    /// `ALTER_CONFIGS`.
    AlterConfigs,
    /// `IDEMPOTENT_WRITE`.
    IdempotentWrite,
    /// `CREATE_TOKENS`.
    CreateTokens,
    /// `DESCRIBE_TOKENS`.
    DescribeTokens,
    /// `TWO_PHASE_COMMIT`.
    TwoPhaseCommit,
}

const OPERATIONS: [AclOperation; 16] = [
    AclOperation::Unknown,
    AclOperation::Any,
    AclOperation::All,
    AclOperation::Read,
    AclOperation::Write,
    AclOperation::Create,
    AclOperation::Delete,
    AclOperation::Alter,
    AclOperation::Describe,
    AclOperation::ClusterAction,
    AclOperation::DescribeConfigs,
    AclOperation::AlterConfigs,
    AclOperation::IdempotentWrite,
    AclOperation::CreateTokens,
    AclOperation::DescribeTokens,
    AclOperation::TwoPhaseCommit,
];

impl AclOperation {
    /// The wire code.
    pub fn code(self) -> i8 {
        OPERATIONS.iter().position(|op| *op == self).unwrap_or(0) as i8
    }

    /// The operation of a wire code (`Unknown` for codes this build does not know).
    pub fn from_code(code: i8) -> Self {
        usize::try_from(code)
            .ok()
            .and_then(|index| OPERATIONS.get(index).copied())
            .unwrap_or(AclOperation::Unknown)
    }

    /// Decodes an "authorized operations" bit set; `None` when the broker did not send one
    /// (`i32::MIN`, or the version has no such field).
    pub fn from_bitfield(bits: i32) -> Option<Vec<AclOperation>> {
        if bits == i32::MIN {
            return None;
        }
        Some(
            (0..32)
                .filter(|bit| bits & (1 << bit) != 0)
                .map(|bit| AclOperation::from_code(bit as i8))
                .filter(|op| *op != AclOperation::Unknown)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_codes_round_trip() {
        for op in OPERATIONS {
            assert_eq!(AclOperation::from_code(op.code()), op);
        }
        assert_eq!(AclOperation::Describe.code(), 8);
        assert_eq!(AclOperation::from_code(99), AclOperation::Unknown);
    }

    #[test]
    fn authorized_operations_bitfield_decodes_set_bits() {
        let bits = (1 << 3) | (1 << 4) | (1 << 8);
        assert_eq!(
            AclOperation::from_bitfield(bits),
            Some(vec![
                AclOperation::Read,
                AclOperation::Write,
                AclOperation::Describe
            ])
        );
        assert_eq!(AclOperation::from_bitfield(i32::MIN), None);
    }
}
