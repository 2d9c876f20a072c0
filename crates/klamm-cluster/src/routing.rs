//! Where a request goes, decided without I/O: [`Target`] names the destination, [`choose_least_loaded`]
//! picks the broker with the fewest requests in flight, and [`Invalidation::for_error`] says
//! which cached knowledge an error code makes stale.

use std::fmt;
use std::time::Duration;

use klamm_protocol::ErrorCode;

use crate::CoordinatorType;

/// The broker a request is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Target {
    /// The least-loaded broker: fewest requests in flight among connected brokers, else any
    /// broker not in reconnect backoff.
    Any,
    /// One broker by id.
    Broker(i32),
    /// The controller as the metadata names it. On KRaft clusters that is a random broker,
    /// which forwards controller requests to the active controller (Kafka 3.x and 4.x).
    Controller,
    /// The group or transaction coordinator for a key.
    Coordinator(CoordinatorType, String),
    /// The leader of a partition.
    Leader {
        /// The topic.
        topic: String,
        /// The partition index.
        partition: i32,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Any => f.write_str("the least-loaded broker"),
            Target::Broker(id) => write!(f, "broker {id}"),
            Target::Controller => f.write_str("the controller"),
            Target::Coordinator(kind, key) => write!(f, "the {kind} coordinator of `{key}`"),
            Target::Leader { topic, partition } => {
                write!(f, "the leader of {topic}-{partition}")
            }
        }
    }
}

/// What the pool knows about one broker, for least-loaded routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerLoad {
    /// The broker.
    pub id: i32,
    /// Requests in flight on its connection, `None` when it has no open connection.
    pub in_flight: Option<usize>,
    /// Time until the reconnect backoff allows a new connection (zero if it does now).
    pub backoff: Duration,
}

/// The outcome of [`choose_least_loaded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeastLoaded {
    /// Use this broker.
    Broker(i32),
    /// Every broker is in reconnect backoff; the first becomes available after this long.
    AllInBackoff(Duration),
    /// No brokers at all.
    None,
}

/// The least-loaded broker, as the Java client's `leastLoadedNode` picks it: among brokers with
/// an open connection the one with the fewest requests in flight; else a broker not in
/// backoff, starting at `rotation` (so that new connections spread over the cluster); else
/// how long until one leaves backoff.
pub fn choose_least_loaded(loads: &[BrokerLoad], rotation: usize) -> LeastLoaded {
    if loads.is_empty() {
        return LeastLoaded::None;
    }
    let connected = loads
        .iter()
        .filter_map(|load| load.in_flight.map(|n| (n, load.id)))
        .min();
    if let Some((_, id)) = connected {
        return LeastLoaded::Broker(id);
    }
    let start = rotation % loads.len();
    let ready = loads[start..]
        .iter()
        .chain(&loads[..start])
        .find(|load| load.backoff.is_zero());
    match ready {
        Some(load) => LeastLoaded::Broker(load.id),
        None => LeastLoaded::AllInBackoff(
            loads
                .iter()
                .map(|load| load.backoff)
                .min()
                .unwrap_or_default(),
        ),
    }
}

/// What an error makes stale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invalidation {
    /// Fetch metadata again before the next attempt (for a partition's leader, that topic's).
    pub refresh_metadata: bool,
    /// Forget the cached coordinator of the request's key.
    pub forget_coordinator: bool,
    /// The brokers' roles changed (a new controller, a broker gone): refresh the broker list
    /// whatever the request's target.
    pub brokers_changed: bool,
}

impl Invalidation {
    /// What a Kafka error code in a response invalidates.
    pub fn for_error(code: ErrorCode) -> Self {
        match code {
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => Invalidation {
                refresh_metadata: code == ErrorCode::NotCoordinator,
                forget_coordinator: true,
                brokers_changed: false,
            },
            ErrorCode::NotLeaderOrFollower
            | ErrorCode::UnknownTopicOrPartition
            | ErrorCode::UnknownTopicId
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::NotController
            | ErrorCode::FencedLeaderEpoch
            | ErrorCode::UnknownLeaderEpoch
            | ErrorCode::KafkaStorageError
            | ErrorCode::BrokerNotAvailable => Invalidation {
                refresh_metadata: true,
                forget_coordinator: false,
                brokers_changed: matches!(
                    code,
                    ErrorCode::NotController | ErrorCode::BrokerNotAvailable
                ),
            },
            _ => Invalidation::default(),
        }
    }

    /// What a lost connection invalidates: the broker may be gone or have moved, and a
    /// coordinator on it has surely moved.
    pub fn for_lost_connection() -> Self {
        Invalidation {
            refresh_metadata: true,
            forget_coordinator: true,
            brokers_changed: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn load(id: i32, in_flight: Option<usize>, backoff_ms: u32) -> BrokerLoad {
        BrokerLoad {
            id,
            in_flight,
            backoff: backoff_ms * MS,
        }
    }

    #[test]
    fn connected_broker_with_fewest_in_flight_wins() {
        let loads = [
            load(1, Some(3), 0),
            load(2, None, 0),
            load(3, Some(1), 0),
            load(4, Some(1), 0),
        ];
        assert_eq!(choose_least_loaded(&loads, 0), LeastLoaded::Broker(3));
        assert_eq!(choose_least_loaded(&loads, 5), LeastLoaded::Broker(3));
    }

    #[test]
    fn without_connections_rotation_spreads_over_brokers_not_in_backoff() {
        let loads = [load(1, None, 0), load(2, None, 50), load(3, None, 0)];
        assert_eq!(choose_least_loaded(&loads, 0), LeastLoaded::Broker(1));
        assert_eq!(
            choose_least_loaded(&loads, 1),
            LeastLoaded::Broker(3),
            "2 is in backoff"
        );
        assert_eq!(choose_least_loaded(&loads, 2), LeastLoaded::Broker(3));
        assert_eq!(choose_least_loaded(&loads, 3), LeastLoaded::Broker(1));
    }

    #[test]
    fn all_in_backoff_reports_the_shortest_wait() {
        let loads = [load(1, None, 80), load(2, None, 30)];
        assert_eq!(
            choose_least_loaded(&loads, 0),
            LeastLoaded::AllInBackoff(30 * MS)
        );
        assert_eq!(choose_least_loaded(&[], 0), LeastLoaded::None);
    }

    #[test]
    fn stale_routing_errors_refresh_metadata() {
        for code in [
            ErrorCode::NotLeaderOrFollower,
            ErrorCode::UnknownTopicOrPartition,
            ErrorCode::LeaderNotAvailable,
            ErrorCode::NotController,
        ] {
            let invalidation = Invalidation::for_error(code);
            assert!(invalidation.refresh_metadata, "{code:?}");
            assert!(!invalidation.forget_coordinator, "{code:?}");
        }
    }

    #[test]
    fn coordinator_errors_forget_the_coordinator() {
        assert_eq!(
            Invalidation::for_error(ErrorCode::NotCoordinator),
            Invalidation {
                refresh_metadata: true,
                forget_coordinator: true,
                brokers_changed: false,
            }
        );
        assert!(Invalidation::for_error(ErrorCode::CoordinatorNotAvailable).forget_coordinator);
        assert_eq!(
            Invalidation::for_error(ErrorCode::CoordinatorLoadInProgress),
            Invalidation::default(),
            "the coordinator is right, only busy"
        );
        assert_eq!(
            Invalidation::for_error(ErrorCode::TopicAuthorizationFailed),
            Invalidation::default()
        );
    }
}
