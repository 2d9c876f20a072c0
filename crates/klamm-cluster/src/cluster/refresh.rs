//! Getting metadata: the bootstrap (every bootstrap address tried concurrently, the first to
//! answer wins) and refreshes (the least-loaded known broker first, the others next, the
//! bootstrap list again if none answers, which also re-resolves its DNS names).

use std::sync::Arc;

use klamm_net::{BrokerAddress, Connection, NetError, RequestOptions};
use klamm_protocol::messages::metadata_request::MetadataRequestTopic;
use klamm_protocol::messages::{MetadataRequest, MetadataResponse};
use klamm_protocol::primitives::KafkaString;
use klamm_protocol::{ApiKey, ErrorCode};
use tokio::task::JoinSet;

use super::run::{Failure, Progress};
use super::Cluster;
use crate::metadata::ClusterMetadata;
use crate::retry::Deadline;
use crate::routing::{choose_least_loaded, LeastLoaded};
use crate::{BootstrapAttempt, ClusterError, Waiting};

/// A Metadata request for `topics` (`None`: every topic) at `version`.
pub(crate) fn metadata_request(version: i16, topics: Option<&[String]>) -> MetadataRequest {
    let topics = match topics {
        Some(names) => Some(
            names
                .iter()
                .map(|name| {
                    MetadataRequestTopic::default().with_name(Some(KafkaString::from(name)))
                })
                .collect(),
        ),
        // v0 has no null: an empty list means every topic there (and no topic from v1 on).
        None if version == 0 => Some(Vec::new()),
        None => None,
    };
    MetadataRequest::default()
        .with_topics(topics)
        // An admin client must never create topics by asking about them; v0-3 cannot say so.
        .with_allow_auto_topic_creation(version < 4)
}

/// One successful metadata fetch.
pub(crate) struct Fetched {
    pub response: MetadataResponse,
    pub version: i16,
}

/// Sends a Metadata request on `connection` within the deadline.
pub(crate) async fn fetch_metadata(
    connection: &Connection,
    topics: Option<&[String]>,
    deadline: Deadline,
    request_timeout: std::time::Duration,
) -> Result<Fetched, NetError> {
    let version = connection.version_for(ApiKey::Metadata)?;
    let options = RequestOptions {
        version: Some(version),
        timeout: Some(deadline.cap(super::now(), request_timeout)),
    };
    let response = connection
        .send_with(metadata_request(version, topics), options)
        .await?;
    Ok(Fetched { response, version })
}

impl Cluster {
    /// Connects to every bootstrap address at once and fetches all metadata from the first
    /// that answers. The others are abandoned.
    pub(crate) async fn bootstrap(
        &self,
        deadline: Deadline,
    ) -> Result<(BrokerAddress, Connection, Fetched), ClusterError> {
        let config = &self.inner.config;
        let addresses = config.bootstrap_servers.addresses().to_vec();
        let mut tasks = JoinSet::new();
        for (index, addr) in addresses.iter().enumerate() {
            let addr = addr.clone();
            let connection_config = config.connection.clone();
            let request_timeout = config.connection.request_timeout;
            tasks.spawn(async move {
                let attempt = async {
                    let connection =
                        Connection::connect(&addr.to_string(), &connection_config).await?;
                    let fetched =
                        fetch_metadata(&connection, None, deadline, request_timeout).await?;
                    Ok::<_, NetError>((connection, fetched))
                };
                let started = super::now();
                let result = match tokio::time::timeout_at(deadline.at().into(), attempt).await {
                    Ok(result) => result,
                    Err(_) => Err(NetError::Timeout {
                        addr: addr.to_string(),
                        phase: klamm_net::Phase::Connect,
                        after: super::now().saturating_duration_since(started),
                    }),
                };
                (index, addr, result)
            });
        }
        let mut failures: Vec<(usize, BootstrapAttempt)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let Ok((index, addr, result)) = joined else {
                continue; // a panicked task: its address simply does not count
            };
            match result {
                Ok((connection, fetched)) => {
                    tracing::debug!(%addr, version = fetched.version, "bootstrap server answered");
                    return Ok((addr, connection, fetched));
                }
                Err(error) => failures.push((
                    index,
                    BootstrapAttempt {
                        addr: addr.to_string(),
                        error,
                    },
                )),
            }
        }
        failures.sort_by_key(|(index, _)| *index);
        Err(ClusterError::BootstrapUnreachable {
            attempts: failures.into_iter().map(|(_, attempt)| attempt).collect(),
        })
    }

    /// Installs the first metadata.
    pub(crate) fn install_bootstrap(
        &self,
        addr: BrokerAddress,
        connection: Connection,
        fetched: Fetched,
    ) -> Arc<ClusterMetadata> {
        self.adopt_bootstrap(addr, connection, &fetched);
        self.install(
            ClusterMetadata::from_response(&fetched.response, fetched.version),
            true,
        )
    }

    /// Remembers which bootstrap address worked, and keeps its connection if a broker
    /// advertises that same address (so it is not opened twice).
    fn adopt_bootstrap(&self, addr: BrokerAddress, connection: Connection, fetched: &Fetched) {
        let same = fetched
            .response
            .brokers
            .iter()
            .find(|b| b.host.as_str() == addr.host() && b.port == i32::from(addr.port()));
        match same {
            Some(broker) => self.inner.pool.adopt(broker.node_id, connection),
            None => connection.close(),
        }
        *self
            .inner
            .bootstrap_addr
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(addr.to_string());
    }

    /// Replaces the cached metadata; a full fetch also restarts the max-age clock.
    pub(crate) fn install(&self, metadata: ClusterMetadata, full: bool) -> Arc<ClusterMetadata> {
        let metadata = Arc::new(metadata);
        *self
            .inner
            .metadata
            .write()
            .unwrap_or_else(|p| p.into_inner()) = metadata.clone();
        if full {
            self.inner.freshness().record_refresh(super::now());
        }
        metadata
    }

    /// Refreshes if the metadata is too old or marked stale.
    pub(crate) async fn ensure_metadata(
        &self,
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<Arc<ClusterMetadata>, Failure> {
        if !self.inner.freshness().needs_refresh(super::now()) {
            return Ok(self.cached_metadata());
        }
        self.refresh_once(progress, deadline, false).await
    }

    /// One refresh of all metadata (shared with concurrent callers unless `force`d).
    pub(crate) async fn refresh_once(
        &self,
        progress: &Progress,
        deadline: Deadline,
        force: bool,
    ) -> Result<Arc<ClusterMetadata>, Failure> {
        let generation = self.inner.freshness().generation();
        let _refreshing = self.inner.refreshing.lock().await;
        {
            let freshness = self.inner.freshness();
            // Someone else refreshed while we waited for the lock.
            if freshness.generation() > generation && !freshness.needs_refresh(super::now()) {
                return Ok(self.cached_metadata());
            }
            if !force && !freshness.needs_refresh(super::now()) {
                return Ok(self.cached_metadata());
            }
        }
        progress.set(Waiting::Metadata);
        let fetched = self.fetch_from_any(None, progress, deadline).await?;
        Ok(self.install(
            ClusterMetadata::from_response(&fetched.response, fetched.version),
            true,
        ))
    }

    /// Fetches metadata for `topics` from the least-loaded broker, then the others, then the
    /// bootstrap list.
    pub(crate) async fn fetch_from_any(
        &self,
        topics: Option<&[String]>,
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<Fetched, Failure> {
        let request_timeout = self.inner.config.connection.request_timeout;
        let mut last: Option<ClusterError> = None;
        for (broker_id, addr) in self.refresh_candidates() {
            progress.set(Waiting::Connect { broker_id });
            let connection = match self
                .inner
                .pool
                .connection(broker_id, &addr, deadline.at())
                .await
            {
                Ok(connection) => connection,
                Err(failure) => {
                    last = Some(self.connect_error(
                        broker_id,
                        &addr,
                        failure.error,
                        failure.ever_connected,
                    ));
                    continue;
                }
            };
            progress.set(Waiting::Response {
                api: ApiKey::Metadata,
                broker_id,
            });
            match fetch_metadata(&connection, topics, deadline, request_timeout).await {
                Ok(fetched) => return check_top_level(fetched, broker_id),
                Err(source) => {
                    last = Some(ClusterError::Request {
                        api: ApiKey::Metadata,
                        broker_id,
                        cause: Box::new(source),
                    });
                }
            }
        }
        // No known broker answered: start over from the bootstrap list.
        progress.set(Waiting::Bootstrap);
        match self.bootstrap(deadline).await {
            Ok((addr, connection, fetched)) => {
                self.adopt_bootstrap(addr, connection, &fetched);
                Ok(fetched)
            }
            Err(error) => Err(Failure::new(last.unwrap_or(error)).refresh()),
        }
    }

    /// Known brokers in the order to ask them: least loaded first, none in reconnect backoff.
    fn refresh_candidates(&self) -> Vec<(i32, BrokerAddress)> {
        let metadata = self.cached_metadata();
        let mut brokers: Vec<(i32, BrokerAddress)> = metadata
            .brokers
            .values()
            .map(|b| (b.id, b.addr()))
            .collect();
        let mut ordered = Vec::new();
        let now = super::now();
        let rotation = self.next_rotation();
        while !brokers.is_empty() {
            let loads = self.inner.pool.loads(&brokers, now);
            match choose_least_loaded(&loads, rotation) {
                LeastLoaded::Broker(id) => {
                    let index = brokers.iter().position(|(b, _)| *b == id).unwrap_or(0);
                    ordered.push(brokers.remove(index));
                }
                LeastLoaded::AllInBackoff(_) | LeastLoaded::None => break,
            }
        }
        ordered
    }
}

fn check_top_level(fetched: Fetched, broker_id: i32) -> Result<Fetched, Failure> {
    let code = ErrorCode::from_code(fetched.response.error_code);
    if code.is_error() {
        return Err(Failure::new(ClusterError::Kafka {
            api: ApiKey::Metadata,
            broker_id,
            error_code: code,
            message: None,
            resource: None,
        }));
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use klamm_protocol::Message;

    use super::*;

    #[test]
    fn all_topics_is_null_from_v1_and_empty_list_in_v0() {
        assert_eq!(metadata_request(0, None).topics, Some(vec![]));
        assert_eq!(metadata_request(1, None).topics, None);
        assert_eq!(metadata_request(12, None).topics, None);
        let named = metadata_request(12, Some(&["t".to_owned()]));
        assert_eq!(named.topics.unwrap()[0].name.as_deref(), Some("t"));
    }

    #[test]
    fn never_auto_creates_topics_and_encodes_at_every_version() {
        assert!(!metadata_request(4, None).allow_auto_topic_creation);
        assert!(!metadata_request(13, None).allow_auto_topic_creation);
        for version in 0..=13 {
            let topics = ["t".to_owned()];
            metadata_request(version, None).to_bytes(version).unwrap();
            metadata_request(version, Some(&topics))
                .to_bytes(version)
                .unwrap();
        }
    }
}
