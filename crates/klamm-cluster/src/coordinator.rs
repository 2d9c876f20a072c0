//! Group and transaction coordinators: building `FindCoordinator` requests for the version the
//! broker speaks (v4+ batches keys in `coordinator_keys`, v0-3 take one `key`), reading the
//! answers per key, and [`CoordinatorCache`], which remembers them until an error says they
//! moved. All without I/O.

use std::collections::HashMap;
use std::fmt;

use klamm_net::BrokerAddress;
use klamm_protocol::messages::FindCoordinatorRequest;
use klamm_protocol::messages::FindCoordinatorResponse;
use klamm_protocol::primitives::KafkaString;
use klamm_protocol::ErrorCode;

/// The kind of coordinator (`key_type` in `FindCoordinator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CoordinatorType {
    /// The coordinator of a consumer group (key: the group id).
    Group,
    /// The coordinator of a transactional producer (key: the transactional id).
    Transaction,
}

impl CoordinatorType {
    /// The protocol's `key_type`.
    pub const fn key_type(self) -> i8 {
        match self {
            CoordinatorType::Group => 0,
            CoordinatorType::Transaction => 1,
        }
    }

    /// The lowest `FindCoordinator` version that can ask for it.
    pub const fn min_version(self) -> i16 {
        match self {
            CoordinatorType::Group => 0,
            CoordinatorType::Transaction => 1,
        }
    }
}

impl fmt::Display for CoordinatorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CoordinatorType::Group => "group",
            CoordinatorType::Transaction => "transaction",
        })
    }
}

/// The first `FindCoordinator` version with batched `coordinator_keys`.
pub const BATCHED_VERSION: i16 = 4;

/// A coordinator as `FindCoordinator` named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinator {
    /// The coordinator's broker id.
    pub broker_id: i32,
    /// Its host.
    pub host: String,
    /// Its port.
    pub port: u16,
}

impl Coordinator {
    /// Its address.
    pub fn addr(&self) -> BrokerAddress {
        BrokerAddress::new(self.host.clone(), self.port)
    }
}

/// A key's error in a `FindCoordinator` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinatorError {
    /// The error code.
    pub error_code: ErrorCode,
    /// The broker's message, if any.
    pub message: Option<String>,
}

/// The requests that ask for `keys` at `version`: one batched request from v4 on, one request
/// per key before.
pub fn find_coordinator_requests(
    coordinator_type: CoordinatorType,
    keys: &[String],
    version: i16,
) -> Vec<FindCoordinatorRequest> {
    if version >= BATCHED_VERSION {
        return vec![FindCoordinatorRequest::default()
            .with_key_type(coordinator_type.key_type())
            .with_coordinator_keys(keys.iter().map(KafkaString::from).collect())
            .with_key(KafkaString::from(""))];
    }
    keys.iter()
        .map(|key| {
            FindCoordinatorRequest::default()
                .with_key(KafkaString::from(key))
                .with_key_type(if version >= 1 {
                    coordinator_type.key_type()
                } else {
                    0
                })
        })
        .collect()
}

/// Reads an answer per key. `asked` is the key of a v0-3 request (which the answer does not
/// repeat); batched answers name their keys.
pub fn read_find_coordinator(
    response: &FindCoordinatorResponse,
    version: i16,
    asked: &str,
) -> Vec<(String, Result<Coordinator, CoordinatorError>)> {
    if version >= BATCHED_VERSION {
        return response
            .coordinators
            .iter()
            .map(|c| {
                let result = coordinator_or_error(
                    c.error_code,
                    c.error_message.as_ref(),
                    c.node_id,
                    &c.host,
                    c.port,
                );
                (c.key.to_string(), result)
            })
            .collect();
    }
    let result = coordinator_or_error(
        response.error_code,
        response.error_message.as_ref(),
        response.node_id,
        &response.host,
        response.port,
    );
    vec![(asked.to_owned(), result)]
}

fn coordinator_or_error(
    code: i16,
    message: Option<&KafkaString>,
    node_id: i32,
    host: &KafkaString,
    port: i32,
) -> Result<Coordinator, CoordinatorError> {
    let error_code = ErrorCode::from_code(code);
    if error_code.is_error() || node_id < 0 {
        return Err(CoordinatorError {
            error_code: if error_code.is_error() {
                error_code
            } else {
                ErrorCode::CoordinatorNotAvailable
            },
            message: message.map(|m| m.to_string()),
        });
    }
    Ok(Coordinator {
        broker_id: node_id,
        host: host.to_string(),
        port: u16::try_from(port).unwrap_or(0),
    })
}

/// Coordinators found so far, by kind and key.
#[derive(Debug, Clone, Default)]
pub struct CoordinatorCache {
    entries: HashMap<(CoordinatorType, String), Coordinator>,
}

impl CoordinatorCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached coordinator of `key`.
    pub fn get(&self, coordinator_type: CoordinatorType, key: &str) -> Option<&Coordinator> {
        self.entries.get(&(coordinator_type, key.to_owned()))
    }

    /// Remembers a coordinator.
    pub fn insert(
        &mut self,
        coordinator_type: CoordinatorType,
        key: &str,
        coordinator: Coordinator,
    ) {
        self.entries
            .insert((coordinator_type, key.to_owned()), coordinator);
    }

    /// Forgets the coordinator of `key` (after `NOT_COORDINATOR` or
    /// `COORDINATOR_NOT_AVAILABLE`).
    pub fn forget(&mut self, coordinator_type: CoordinatorType, key: &str) {
        self.entries.remove(&(coordinator_type, key.to_owned()));
    }

    /// Forgets every coordinator on a broker (its connection was lost).
    pub fn forget_broker(&mut self, broker_id: i32) {
        self.entries.retain(|_, c| c.broker_id != broker_id);
    }

    /// Whether none is cached.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use klamm_protocol::messages::find_coordinator_response::Coordinator as WireCoordinator;

    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn v4_batches_keys_and_older_versions_ask_one_at_a_time() {
        let batched =
            find_coordinator_requests(CoordinatorType::Transaction, &keys(&["a", "b"]), 6);
        assert_eq!(batched.len(), 1);
        assert_eq!(batched[0].key_type, 1);
        assert_eq!(
            batched[0].coordinator_keys,
            vec![KafkaString::from("a"), KafkaString::from("b")]
        );
        let single = find_coordinator_requests(CoordinatorType::Group, &keys(&["a", "b"]), 3);
        assert_eq!(single.len(), 2);
        assert_eq!((single[1].key.as_str(), single[1].key_type), ("b", 0));
        assert!(single[0].coordinator_keys.is_empty());
        // Every request must encode at its version (fields of other versions left default).
        for (requests, version) in [(batched, 6), (single, 3)] {
            for request in requests {
                klamm_protocol::Message::to_bytes(&request, version).unwrap();
            }
        }
    }

    #[test]
    fn batched_answer_is_read_per_key_with_errors() {
        let response = FindCoordinatorResponse::default().with_coordinators(vec![
            WireCoordinator::default()
                .with_key("a".into())
                .with_node_id(2)
                .with_host("b2".into())
                .with_port(9093),
            WireCoordinator::default()
                .with_key("b".into())
                .with_node_id(-1)
                .with_error_code(ErrorCode::CoordinatorLoadInProgress.code())
                .with_error_message(Some("loading".into())),
        ]);
        let read = read_find_coordinator(&response, 4, "");
        assert_eq!(read[0].0, "a");
        assert_eq!(read[0].1.as_ref().unwrap().addr().to_string(), "b2:9093");
        let error = read[1].1.as_ref().unwrap_err();
        assert_eq!(error.error_code, ErrorCode::CoordinatorLoadInProgress);
        assert_eq!(error.message.as_deref(), Some("loading"));
    }

    #[test]
    fn single_answer_takes_the_asked_key() {
        let response = FindCoordinatorResponse::default()
            .with_node_id(3)
            .with_host("b3".into())
            .with_port(9094);
        let read = read_find_coordinator(&response, 2, "group-x");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, "group-x");
        assert_eq!(read[0].1.as_ref().unwrap().broker_id, 3);
    }

    #[test]
    fn cache_forgets_by_key_and_by_broker() {
        let mut cache = CoordinatorCache::new();
        let on = |broker_id| Coordinator {
            broker_id,
            host: "h".into(),
            port: 1,
        };
        cache.insert(CoordinatorType::Group, "g1", on(1));
        cache.insert(CoordinatorType::Group, "g2", on(2));
        cache.insert(CoordinatorType::Transaction, "g1", on(2));
        assert_eq!(
            cache.get(CoordinatorType::Group, "g1").unwrap().broker_id,
            1
        );
        cache.forget(CoordinatorType::Group, "g1");
        assert!(cache.get(CoordinatorType::Group, "g1").is_none());
        assert!(
            cache.get(CoordinatorType::Transaction, "g1").is_some(),
            "kinds are separate"
        );
        cache.forget_broker(2);
        assert!(cache.is_empty());
    }
}
