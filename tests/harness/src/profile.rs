//! What to run: a [`Profile`] (the shape of the cluster) and a [`KafkaVersion`] (which jars).

use std::fmt;
use std::str::FromStr;

use crate::error::HarnessError;

/// The shape of a local Kafka installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// One combined broker+controller (node 1) with PLAINTEXT, SASL_PLAINTEXT, SSL and SASL_SSL
    /// listeners, SCRAM and PLAIN users, and the StandardAuthorizer.
    Single,
    /// Three combined broker+controller nodes (1, 2, 3), PLAINTEXT only, so that partitions can be
    /// reassigned, leaders elected and a broker killed while the quorum keeps a majority. Each
    /// broker has two log directories, so that replicas can move between them.
    Cluster,
    /// A dynamic KRaft quorum (KIP-853): broker 1, controller 2 (formatted `--standalone`, the
    /// only voter at first) and controller 3 (formatted `--no-initial-controllers`, an observer
    /// until a test adds it as a voter), PLAINTEXT only, all through
    /// `controller.quorum.bootstrap.servers`. Tests may start further controllers and brokers
    /// ([`crate::ClusterEnv::start_extra_node`]).
    Quorum,
}

/// What a node runs: `process.roles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// `broker,controller`.
    Combined,
    /// `broker`.
    Broker,
    /// `controller`.
    Controller,
}

impl NodeRole {
    /// The `process.roles` value.
    pub fn process_roles(self) -> &'static str {
        match self {
            NodeRole::Combined => "broker,controller",
            NodeRole::Broker => "broker",
            NodeRole::Controller => "controller",
        }
    }

    /// Whether the node serves clients (has broker listeners).
    pub fn is_broker(self) -> bool {
        self != NodeRole::Controller
    }

    /// Whether the node runs a controller (has the CONTROLLER listener).
    pub fn is_controller(self) -> bool {
        self != NodeRole::Broker
    }
}

impl Profile {
    /// Every profile, in the order `status` reports them.
    pub const ALL: [Profile; 3] = [Profile::Single, Profile::Cluster, Profile::Quorum];

    /// The name used on the command line and in `target/kafka/<name>/`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Single => "single",
            Profile::Cluster => "cluster",
            Profile::Quorum => "quorum",
        }
    }

    /// The node ids this profile starts with (brokers and controllers).
    pub fn node_ids(self) -> &'static [u32] {
        match self {
            Profile::Single => &[1],
            Profile::Cluster | Profile::Quorum => &[1, 2, 3],
        }
    }

    /// What node `node_id` of the profile runs; nodes a test added are brokers or controllers
    /// as it asked (their `server.properties` says which).
    pub fn role(self, node_id: u32) -> NodeRole {
        match (self, node_id) {
            (Profile::Single | Profile::Cluster, _) => NodeRole::Combined,
            (Profile::Quorum, 1) => NodeRole::Broker,
            (Profile::Quorum, _) => NodeRole::Controller,
        }
    }

    /// The broker ids of [`Profile::node_ids`].
    pub fn broker_ids(self) -> Vec<u32> {
        let ids = self.node_ids().iter().copied();
        ids.filter(|&id| self.role(id).is_broker()).collect()
    }

    /// The controller ids of [`Profile::node_ids`].
    pub fn controller_ids(self) -> Vec<u32> {
        let ids = self.node_ids().iter().copied();
        ids.filter(|&id| self.role(id).is_controller()).collect()
    }

    /// Whether the quorum is dynamic (`controller.quorum.bootstrap.servers`, KIP-853) rather
    /// than static (`controller.quorum.voters`).
    pub fn has_dynamic_quorum(self) -> bool {
        self == Profile::Quorum
    }

    /// How many log directories each broker has (`log.dirs`).
    pub fn log_dirs_per_broker(self) -> usize {
        match self {
            Profile::Cluster => 2,
            Profile::Single | Profile::Quorum => 1,
        }
    }

    /// Whether the profile has SASL and TLS listeners.
    pub fn has_security(self) -> bool {
        self == Profile::Single
    }

    /// Maximum heap of each node's JVM, measured to be enough for the smoke tests with room left.
    pub(crate) fn max_heap(self) -> &'static str {
        match self {
            Profile::Single => "-Xmx512m",
            Profile::Cluster => "-Xmx384m",
            Profile::Quorum => "-Xmx256m",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = HarnessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "single" => Ok(Profile::Single),
            "cluster" => Ok(Profile::Cluster),
            "quorum" => Ok(Profile::Quorum),
            other => Err(HarnessError::UnknownProfile(other.to_owned())),
        }
    }
}

/// An Apache Kafka release, e.g. `4.4.0`, whose jars come from Maven Central.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KafkaVersion {
    text: String,
    major: u32,
}

impl KafkaVersion {
    /// The version used when none is given.
    pub const DEFAULT: &'static str = "4.4.0";
    /// The newest 3.x release on Maven Central (3.9.3 does not exist there).
    pub const LEGACY: &'static str = "3.9.2";
    /// The versions `cargo xtask kafka fetch` installs and the smoke tests cover.
    pub const PINNED: [&'static str; 2] = [Self::DEFAULT, Self::LEGACY];
    /// Environment variable that selects the version for [`crate::shared`] and the xtask.
    pub const ENV_VAR: &'static str = "KLAMM_KAFKA_VERSION";

    /// The default version, 4.4.0.
    pub fn default_version() -> Self {
        Self::DEFAULT.parse().expect("the default version parses")
    }

    /// `$KLAMM_KAFKA_VERSION` if set and non-empty, otherwise the default.
    pub fn from_env() -> Result<Self, HarnessError> {
        Ok(Self::requested_in_env()?.unwrap_or_else(Self::default_version))
    }

    /// `$KLAMM_KAFKA_VERSION` if set and non-empty: an explicit request, as opposed to the default.
    pub fn requested_in_env() -> Result<Option<Self>, HarnessError> {
        match std::env::var(Self::ENV_VAR) {
            Ok(text) if !text.trim().is_empty() => text.trim().parse().map(Some),
            _ => Ok(None),
        }
    }

    /// The version as written, e.g. `3.9.2`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Kafka 4 dropped ZooKeeper, moved logging to log4j2 and needs the share-coordinator settings.
    pub fn is_4x(&self) -> bool {
        self.major >= 4
    }
}

impl fmt::Display for KafkaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for KafkaVersion {
    type Err = HarnessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unsupported = || HarnessError::UnsupportedVersion(s.to_owned());
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(unsupported());
        }
        let major: u32 = parts[0].parse().map_err(|_| unsupported())?;
        if !(3..=4).contains(&major) {
            return Err(unsupported());
        }
        Ok(KafkaVersion {
            text: s.to_owned(),
            major,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parse_accepts_pinned_and_rejects_others() {
        for pinned in KafkaVersion::PINNED {
            assert_eq!(pinned.parse::<KafkaVersion>().unwrap().as_str(), pinned);
        }
        assert!(KafkaVersion::DEFAULT
            .parse::<KafkaVersion>()
            .unwrap()
            .is_4x());
        assert!(!KafkaVersion::LEGACY
            .parse::<KafkaVersion>()
            .unwrap()
            .is_4x());
        for bad in ["2.8.1", "4.4", "4.4.0-rc1", "", "x.y.z", "5.0.0"] {
            assert!(
                bad.parse::<KafkaVersion>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn profile_names_round_trip() {
        for profile in Profile::ALL {
            assert_eq!(profile.name().parse::<Profile>().unwrap(), profile);
        }
        assert!("triple".parse::<Profile>().is_err());
    }

    #[test]
    fn quorum_profile_splits_brokers_from_controllers() {
        assert_eq!(Profile::Quorum.broker_ids(), [1]);
        assert_eq!(Profile::Quorum.controller_ids(), [2, 3]);
        assert_eq!(
            Profile::Cluster.broker_ids(),
            Profile::Cluster.controller_ids()
        );
        assert!(Profile::Quorum.has_dynamic_quorum() && !Profile::Single.has_dynamic_quorum());
        assert_eq!(Profile::Cluster.log_dirs_per_broker(), 2);
    }
}
