//! Small shared types: [`TopicPartition`], [`AclOperation`] (also used for the
//! "authorized operations" bit sets that Metadata, DescribeCluster and group descriptions
//! return), [`IsolationLevel`], [`WriteOutcome`], and the group states and types brokers name
//! ([`GroupState`], [`GroupType`]; values a newer broker sends are kept as `Other`).

use std::fmt;

/// A topic and a partition index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition index.
    pub partition: i32,
}

impl From<&TopicPartition> for TopicPartition {
    fn from(value: &TopicPartition) -> Self {
        value.clone()
    }
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

/// Which records a read sees: `read_uncommitted` (everything up to the high watermark) or
/// `read_committed` (up to the last stable offset: no records of open transactions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum IsolationLevel {
    /// Every record, up to the high watermark.
    #[default]
    ReadUncommitted,
    /// Committed records only, up to the last stable offset.
    ReadCommitted,
}

impl IsolationLevel {
    /// The wire code (`isolation_level`).
    pub fn code(self) -> i8 {
        match self {
            IsolationLevel::ReadUncommitted => 0,
            IsolationLevel::ReadCommitted => 1,
        }
    }
}

/// Every item, or only some: the partitions of an election, the brokers asked for their log
/// directories (Java's `null` for "all").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection<T> {
    /// Every one the cluster has.
    All,
    /// Only these.
    Only(Vec<T>),
}

impl<T> From<Vec<T>> for Selection<T> {
    fn from(items: Vec<T>) -> Self {
        Selection::Only(items)
    }
}

impl<T, const N: usize> From<[T; N]> for Selection<T> {
    fn from(items: [T; N]) -> Self {
        Selection::Only(items.into())
    }
}

/// `None` is every item (Java's `null`).
impl<T> From<Option<Vec<T>>> for Selection<T> {
    fn from(items: Option<Vec<T>>) -> Self {
        items.map_or(Selection::All, Selection::Only)
    }
}

/// `None` is every item (Java's `null`).
impl<T: Clone> From<Option<&[T]>> for Selection<T> {
    fn from(items: Option<&[T]>) -> Self {
        items.map_or(Selection::All, |items| Selection::Only(items.to_vec()))
    }
}

impl<T: Clone> From<&[T]> for Selection<T> {
    fn from(items: &[T]) -> Self {
        Selection::Only(items.to_vec())
    }
}

/// How a write took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum WriteOutcome {
    /// The broker applied it.
    Applied,
    /// Only validated (`validate_only` / a dry run): nothing changed.
    Validated,
    /// An earlier attempt got no answer and may have applied it; the retry found the change
    /// already in place (e.g. `TOPIC_ALREADY_EXISTS` for a topic this call created), so it is
    /// reported as done.
    ConfirmedAfterRetry,
}

/// Serde helpers for values whose text form is what JSON should carry.
#[cfg(feature = "serde")]
pub(crate) mod uuid_text {
    use klamm_protocol::primitives::Uuid;

    /// An optional topic id as its base64 text.
    pub fn option<S: serde::Serializer>(
        id: &Option<Uuid>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => serializer.serialize_some(&id.to_string()),
            None => serializer.serialize_none(),
        }
    }
}

/// An optional error code by its Kafka name (`LEADER_NOT_AVAILABLE`).
#[cfg(feature = "serde")]
pub(crate) fn error_code_name<S: serde::Serializer>(
    code: &Option<klamm_protocol::ErrorCode>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match code {
        Some(code) => serializer.serialize_some(code.name()),
        None => serializer.serialize_none(),
    }
}

macro_rules! kafka_names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this build does not know (from a newer broker), kept as sent.
            Other(String),
        }

        impl $name {
            /// The name Kafka uses.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                $( if text.eq_ignore_ascii_case($text) { return $name::$variant; } )*
                $name::Other(text.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, text: &&str) -> bool {
                self.as_str().eq_ignore_ascii_case(text)
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

kafka_names! {
    /// The state of a group, as brokers name it (classic, consumer, share and streams groups).
    pub enum GroupState {
        /// A classic group waiting for members to rejoin.
        PreparingRebalance = "PreparingRebalance",
        /// A classic group waiting for the leader's assignment.
        CompletingRebalance = "CompletingRebalance",
        /// Every member has its assignment.
        Stable = "Stable",
        /// The group is gone (deleted, or its coordinator moved).
        Dead = "Dead",
        /// No members; offsets may still be committed.
        Empty = "Empty",
        /// A KIP-848 group computing a new assignment.
        Assigning = "Assigning",
        /// A KIP-848 group whose members are moving to their new assignment.
        Reconciling = "Reconciling",
        /// A streams group whose topology is not ready yet.
        NotReady = "NotReady",
        /// The broker did not say.
        Unknown = "Unknown",
    }
}

kafka_names! {
    /// The type of a group (KIP-848 and later).
    pub enum GroupType {
        /// A classic group (JoinGroup/SyncGroup).
        Classic = "classic",
        /// A KIP-848 consumer group.
        Consumer = "consumer",
        /// A share group (KIP-932).
        Share = "share",
        /// A Kafka Streams group (KIP-1071).
        Streams = "streams",
    }
}

/// An ACL operation (Kafka's `AclOperation`), also the elements of "authorized operations".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
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
    /// A code this build does not know (from a newer broker), kept as sent.
    Other(i8),
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
        match self {
            AclOperation::Other(code) => code,
            known => OPERATIONS.iter().position(|op| *op == known).unwrap_or(0) as i8,
        }
    }

    /// The operation of a wire code (codes this build does not know are kept as `Other`).
    pub fn from_code(code: i8) -> Self {
        usize::try_from(code)
            .ok()
            .and_then(|index| OPERATIONS.get(index).copied())
            .unwrap_or(AclOperation::Other(code))
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
    fn group_states_parse_and_unknown_values_are_kept() {
        assert_eq!(GroupState::from("Stable"), GroupState::Stable);
        assert_eq!(GroupState::from("stable"), GroupState::Stable);
        assert_eq!(
            GroupState::from("Hibernating"),
            GroupState::Other("Hibernating".into())
        );
        assert_eq!(GroupState::from("Hibernating").to_string(), "Hibernating");
        assert_eq!(GroupType::from("share"), GroupType::Share);
        assert_eq!(GroupType::Streams.as_str(), "streams");
    }

    #[test]
    fn operation_codes_round_trip() {
        for op in OPERATIONS {
            assert_eq!(AclOperation::from_code(op.code()), op);
        }
        assert_eq!(AclOperation::Describe.code(), 8);
        assert_eq!(AclOperation::from_code(99), AclOperation::Other(99));
        assert_eq!(AclOperation::Other(99).code(), 99);
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
