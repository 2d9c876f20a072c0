//! Resolving a [`Target`] to a broker and an open connection: metadata first (refreshed when
//! due), then the controller, coordinator, partition leader or least-loaded broker, then the
//! pool. Failures come back as [`Failure`]s that say what they invalidate.

use klamm_net::{BrokerAddress, Connection, NetError, Phase};
use klamm_protocol::{ApiKey, VersionRange};

use super::run::{Failure, Progress};
use super::Cluster;
use crate::coordinator::{find_coordinator_requests, read_find_coordinator, Coordinator};
use crate::retry::Deadline;
use crate::routing::{choose_least_loaded, Invalidation, LeastLoaded, Target};
use crate::{ClusterError, CoordinatorType, Waiting};

impl Cluster {
    /// The broker for `target` and an open connection to it.
    pub(crate) async fn route(
        &self,
        target: &Target,
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<(i32, Connection), Failure> {
        let metadata = self.ensure_metadata(progress, deadline).await?;
        let (broker_id, addr) = match target {
            Target::Any => self.least_loaded()?,
            Target::Controller => match metadata.controller_id.and_then(|id| metadata.broker(id)) {
                Some(broker) => (broker.id, broker.addr()),
                // No controller known (an election, or a KRaft broker that names none): any
                // broker forwards controller requests.
                None => self.least_loaded()?,
            },
            Target::Broker(id) => match metadata.broker(*id) {
                Some(broker) => (broker.id, broker.addr()),
                None => {
                    let error = ClusterError::UnknownBroker {
                        broker_id: *id,
                        known: metadata.broker_ids(),
                    };
                    // A broker we used before may be restarting (KRaft drops fenced brokers
                    // from metadata); an id never seen is a mistake worth reporting at once.
                    let seen = self.inner.pool.knows(*id);
                    return Err(Failure::new(error).refresh().retriable(seen));
                }
            },
            Target::Leader { topic, partition } => {
                self.leader(topic, *partition, progress, deadline).await?
            }
            Target::Coordinator(kind, key) => {
                let coordinator = self.coordinator(*kind, key, progress, deadline).await?;
                let addr = metadata
                    .broker(coordinator.broker_id)
                    .map(|b| b.addr())
                    .unwrap_or_else(|| coordinator.addr());
                (coordinator.broker_id, addr)
            }
        };
        self.connect_to(broker_id, &addr, progress, deadline).await
    }

    /// The least-loaded broker and a connection to it (what `route(Target::Any)` does, without
    /// the recursion through coordinators).
    async fn route_any(
        &self,
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<(i32, Connection), Failure> {
        self.ensure_metadata(progress, deadline).await?;
        let (broker_id, addr) = self.least_loaded()?;
        self.connect_to(broker_id, &addr, progress, deadline).await
    }

    /// A connection to a broker from the pool.
    pub(super) async fn connect_to(
        &self,
        broker_id: i32,
        addr: &BrokerAddress,
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<(i32, Connection), Failure> {
        progress.set(Waiting::Connect { broker_id });
        let connection = self
            .inner
            .pool
            .connection(broker_id, addr, deadline.at())
            .await
            .map_err(|failure| Failure {
                retry_in: failure.retry_in,
                broker_id: Some(broker_id),
                invalidation: Invalidation::for_lost_connection(),
                ..Failure::new(self.connect_error(
                    broker_id,
                    addr,
                    failure.error,
                    failure.ever_connected,
                ))
            })?;
        Ok((broker_id, connection))
    }

    /// The least-loaded known broker.
    pub(super) fn least_loaded(&self) -> Result<(i32, BrokerAddress), Failure> {
        let metadata = self.cached_metadata();
        let brokers: Vec<(i32, BrokerAddress)> = metadata
            .brokers
            .values()
            .map(|b| (b.id, b.addr()))
            .collect();
        let loads = self.inner.pool.loads(&brokers, super::now());
        match choose_least_loaded(&loads, self.next_rotation()) {
            LeastLoaded::Broker(id) => {
                let addr = brokers
                    .into_iter()
                    .find(|(b, _)| *b == id)
                    .map(|(_, addr)| addr)
                    .expect("chosen among these brokers");
                Ok((id, addr))
            }
            LeastLoaded::AllInBackoff(wait) => {
                // Report why the brokers are in backoff: the first one's last connect error.
                let error = brokers
                    .iter()
                    .find_map(|(id, addr)| {
                        let (error, ever) = self.inner.pool.last_failure(*id)?;
                        Some(self.connect_error(*id, addr, error, ever))
                    })
                    .unwrap_or(ClusterError::NoBrokers);
                Err(Failure {
                    retry_in: wait,
                    ..Failure::new(error).refresh()
                })
            }
            LeastLoaded::None => Err(Failure::new(ClusterError::NoBrokers).refresh()),
        }
    }

    /// The leader of a partition, fetching metadata for the topic if the cache lacks it.
    async fn leader(
        &self,
        topic: &str,
        partition: i32,
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<(i32, BrokerAddress), Failure> {
        let mut metadata = self.cached_metadata();
        if metadata.topic(topic).is_none() {
            progress.set(Waiting::Metadata);
            metadata = self
                .fetch_topics(&[topic.to_owned()], progress, deadline)
                .await?;
        }
        let Some(found) = metadata.topic(topic) else {
            return Err(Failure::new(ClusterError::UnknownTopicOrPartition {
                topic: topic.to_owned(),
                partition: None,
            }));
        };
        let Some(state) = found.partitions.get(&partition) else {
            return Err(Failure::new(ClusterError::UnknownTopicOrPartition {
                topic: topic.to_owned(),
                partition: Some(partition),
            }));
        };
        let no_leader = || {
            Failure::new(ClusterError::NoLeader {
                topic: topic.to_owned(),
                partition,
                error_code: state.error,
            })
            .refresh()
        };
        let leader = state.leader.ok_or_else(no_leader)?;
        let broker = metadata.broker(leader).ok_or_else(no_leader)?;
        Ok((broker.id, broker.addr()))
    }

    /// The coordinator of `key`, from the cache or `FindCoordinator`.
    async fn coordinator(
        &self,
        kind: CoordinatorType,
        key: &str,
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<Coordinator, Failure> {
        if let Some(found) = self.inner.coordinators().get(kind, key) {
            return Ok(found.clone());
        }
        let keys = [key.to_owned()];
        let mut found = self
            .find_coordinators(kind, &keys, progress, deadline)
            .await?;
        found.pop().map(|(_, result)| result).unwrap_or_else(|| {
            Err(Failure::new(ClusterError::Kafka {
                api: ApiKey::FindCoordinator,
                broker_id: -1,
                error_code: klamm_protocol::ErrorCode::CoordinatorNotAvailable,
                message: Some("the answer did not name the key".into()),
                resource: Some(format!("{kind} `{key}`")),
            }))
        })
    }

    /// One round of `FindCoordinator` for `keys` via the least-loaded broker (batched from v4,
    /// one request per key before). Found coordinators are cached.
    pub(crate) async fn find_coordinators(
        &self,
        kind: CoordinatorType,
        keys: &[String],
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<Vec<(String, Result<Coordinator, Failure>)>, Failure> {
        if let Some(key) = keys.first() {
            progress.set(Waiting::Coordinator {
                coordinator_type: kind,
                key: key.clone(),
            });
        }
        let (broker_id, connection) = self.route_any(progress, deadline).await?;
        let api = ApiKey::FindCoordinator;
        let version = connection
            .version_for(api)
            .map_err(|source| Failure::new(ClusterError::request(api, broker_id, source)))?;
        if version < kind.min_version() {
            return Err(Failure::new(ClusterError::UnsupportedByBroker {
                what: "finding a transaction coordinator",
                api,
                wanted: VersionRange::new(kind.min_version(), api.versions().max),
                broker_id,
                broker_range: connection.api_versions().broker_range(api),
            }));
        }
        progress.set(Waiting::Response { api, broker_id });
        let mut results = Vec::new();
        let requests = find_coordinator_requests(kind, keys, version);
        for (request, key) in requests.into_iter().zip(keys) {
            let options = klamm_net::RequestOptions {
                version: Some(version),
                timeout: Some(
                    deadline.cap(super::now(), self.inner.config.connection.request_timeout),
                ),
            };
            let response = connection
                .send_with(request, options)
                .await
                .map_err(|source| {
                    let error = ClusterError::request(api, broker_id, source.clone());
                    Failure::request(error, broker_id, &source)
                })?;
            for (found_key, result) in read_find_coordinator(&response, version, key) {
                let result = match result {
                    Ok(coordinator) => {
                        self.inner
                            .coordinators()
                            .insert(kind, &found_key, coordinator.clone());
                        Ok(coordinator)
                    }
                    Err(error) => Err(Failure {
                        invalidation: Invalidation::for_error(error.error_code),
                        broker_id: Some(broker_id),
                        ..Failure::new(ClusterError::Kafka {
                            api,
                            broker_id,
                            error_code: error.error_code,
                            message: error.message,
                            resource: Some(format!("{kind} `{found_key}`")),
                        })
                    }),
                };
                results.push((found_key, result));
            }
        }
        Ok(results)
    }

    /// The error for a failed connection to a broker from the metadata. A broker we never
    /// reached, at an address other than the bootstrap that worked, most likely advertises an
    /// address this client cannot reach: say so.
    pub(crate) fn connect_error(
        &self,
        broker_id: i32,
        addr: &BrokerAddress,
        source: NetError,
        ever_connected: bool,
    ) -> ClusterError {
        let bootstrap = self
            .inner
            .bootstrap_addr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let unreachable = matches!(
            source.root_cause(),
            NetError::Resolve { .. }
                | NetError::Connect { .. }
                | NetError::Timeout {
                    phase: Phase::Connect,
                    ..
                }
        );
        match bootstrap {
            Some(bootstrap) if unreachable && !ever_connected && bootstrap != addr.to_string() => {
                ClusterError::AdvertisedListenerUnreachable {
                    broker_id,
                    advertised: addr.to_string(),
                    bootstrap,
                    cause: Box::new(source),
                }
            }
            _ => ClusterError::BrokerConnection {
                broker_id,
                addr: addr.to_string(),
                cause: Box::new(source),
            },
        }
    }
}
