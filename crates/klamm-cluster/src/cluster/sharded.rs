//! The glue of [`Cluster::sharded`]: each round resolves the routes of the items that are due
//! (one `Metadata` request for the topics whose leaders it lacks, one batched
//! `FindCoordinator` per coordinator type for keys it has not cached), sends one request per
//! broker (split when the version limits how many items one carries) concurrently, and hands
//! every item's outcome to the sans-IO [`ShardState`], which decides what is retried when.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use klamm_net::backoff::system_random;
use klamm_net::BrokerAddress;
use klamm_protocol::{ApiKey, Request};

use super::run::{Failure, Progress};
use super::{now, Cluster};
use crate::retry::Deadline;
use crate::routing::{Invalidation, Target};
use crate::sharded::{
    item_error, AttemptFailure, Call, ItemResult, Outcome, Resend, Retried, ShardState,
    ShardedRequest,
};
use crate::{ClusterError, CoordinatorType, ResponseError, Waiting};

/// One item's fate in one attempt.
enum Attempted<T> {
    Done(T),
    Failed {
        failure: AttemptFailure,
        invalidation: Invalidation,
        broker_id: Option<i32>,
    },
}

impl<T> Attempted<T> {
    fn from_failure(failure: Failure) -> Self {
        let retriable = failure
            .retriable
            .unwrap_or_else(|| failure.error.is_retriable());
        Attempted::Failed {
            invalidation: failure.invalidation,
            broker_id: failure.broker_id,
            failure: AttemptFailure {
                error: failure.error,
                retriable,
                retry_in: failure.retry_in,
                sent: failure.sent,
            },
        }
    }
}

impl Cluster {
    /// Runs `request` over `items`, each sent to the broker its route names, under one
    /// deadline (`timeout`, else `default_api_timeout`); one [`ItemResult`] per item. See
    /// [`crate::sharded`].
    ///
    /// Cancel-safe: dropping the future abandons the items not yet answered.
    pub async fn sharded<S: ShardedRequest>(
        &self,
        request: &S,
        items: impl IntoIterator<Item = S::Item>,
        timeout: Option<Duration>,
    ) -> BTreeMap<S::Item, ItemResult<S::Output>> {
        let timeout = timeout.unwrap_or(self.inner.config.default_api_timeout);
        let start = now();
        let deadline = Deadline::after(start, timeout);
        let state = ShardState::new(
            items,
            start,
            self.inner.policy,
            deadline,
            request.operation(),
            request.resend() == Resend::Allowed,
        );
        let state = Mutex::new(state);
        let mut stale_topics = BTreeSet::new();
        loop {
            if self.check_open().is_err() {
                let undecided = lock(&state).start_due(deadline.at());
                let closed = undecided.into_iter().map(|item| {
                    let failure = Failure::new(ClusterError::Closed).retriable(false);
                    (item, Attempted::from_failure(failure))
                });
                self.record(&state, request, closed, &mut stale_topics);
                break;
            }
            let now = now();
            if deadline.is_expired(now) {
                break;
            }
            let due = lock(&state).start_due(now);
            if due.is_empty() {
                let Some(wake) = lock(&state).next_wake() else {
                    break;
                };
                tokio::time::sleep_until(wake.min(deadline.at()).into()).await;
                continue;
            }
            let attempted = self
                .attempt(request, due, &state, &mut stale_topics, deadline)
                .await;
            self.record(&state, request, attempted, &mut stale_topics);
        }
        state
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .finish()
    }

    /// Sends `call`'s request to its target, retrying as its classifier says until it
    /// succeeds, fails for good, or its deadline passes.
    ///
    /// Lost connections and timeouts are retried too, unless the call says
    /// [`no_resend`](Call::no_resend): use it for requests that are safe to repeat, or read
    /// [`call_outcome`](Self::call_outcome)'s `may_have_applied`.
    pub async fn call<R, B, C>(&self, call: Call<R, B, C>) -> Result<R::Response, ClusterError>
    where
        Call<R, B, C>: ShardedRequest<Item = (), Request = R, Output = R::Response>,
        R: Request,
    {
        self.call_outcome(call).await.result
    }

    /// [`call`](Self::call), with the attempts it took and whether an attempt that got no
    /// answer may have applied.
    pub async fn call_outcome<R, B, C>(&self, call: Call<R, B, C>) -> ItemResult<R::Response>
    where
        Call<R, B, C>: ShardedRequest<Item = (), Request = R, Output = R::Response>,
        R: Request,
    {
        let timeout = call.timeout;
        let mut results = self.sharded(&call, [()], timeout).await;
        results.remove(&()).unwrap_or(ItemResult {
            result: Err(ClusterError::Closed),
            attempts: 0,
            may_have_applied: false,
        })
    }

    /// One attempt of every item of `due`: route, group by broker, send concurrently.
    async fn attempt<S: ShardedRequest>(
        &self,
        request: &S,
        due: Vec<S::Item>,
        state: &Mutex<ShardState<S::Item, S::Output>>,
        stale_topics: &mut BTreeSet<String>,
        deadline: Deadline,
    ) -> Vec<(S::Item, Attempted<S::Output>)> {
        let mut attempted = Vec::new();
        let routes: Vec<(S::Item, Target)> = due
            .into_iter()
            .map(|item| {
                let target = request.route(&item);
                (item, target)
            })
            .collect();
        let progress = Progress::new(Waiting::Metadata);
        let prepared = self
            .prepare_routes(&routes, stale_topics, &progress, deadline)
            .await;
        let mut shards: BTreeMap<i32, (BrokerAddress, Vec<S::Item>)> = BTreeMap::new();
        for (item, target) in routes {
            let resolved = match prepared.get(&target) {
                Some(Err(failure)) => Err(failure.clone()),
                _ => self.resolve(&target),
            };
            match resolved {
                Ok((broker_id, addr)) => shards
                    .entry(broker_id)
                    .or_insert((addr, Vec::new()))
                    .1
                    .push(item),
                Err(failure) => attempted.push((item, Attempted::from_failure(failure))),
            }
        }
        let sends: Vec<_> = shards
            .into_iter()
            .map(|(broker_id, (addr, items))| {
                self.send_shard(request, broker_id, addr, items, state, deadline)
            })
            .collect();
        for outcomes in join_all(sends).await {
            attempted.extend(outcomes);
        }
        attempted
    }

    /// Fetches what routing needs and the cache lacks: metadata for the topics of leader
    /// routes (missing, or stale after a leader error), and coordinators not cached. Returns
    /// the targets that could not be prepared, with why.
    async fn prepare_routes<K>(
        &self,
        routes: &[(K, Target)],
        stale_topics: &mut BTreeSet<String>,
        progress: &Progress,
        deadline: Deadline,
    ) -> BTreeMap<Target, Result<(), Failure>> {
        let mut prepared = BTreeMap::new();
        if let Err(failure) = self.ensure_metadata(progress, deadline).await {
            for (_, target) in routes {
                prepared.insert(target.clone(), Err(failure.clone()));
            }
            return prepared;
        }
        let cached = self.cached_metadata();
        let topics: BTreeSet<String> = routes
            .iter()
            .filter_map(|(_, target)| match target {
                Target::Leader { topic, .. }
                    if cached.topic(topic).is_none() || stale_topics.contains(topic) =>
                {
                    Some(topic.clone())
                }
                _ => None,
            })
            .collect();
        if !topics.is_empty() {
            let topics: Vec<String> = topics.into_iter().collect();
            match self.fetch_topics(&topics, progress, deadline).await {
                Ok(_) => {
                    for topic in &topics {
                        stale_topics.remove(topic);
                    }
                }
                Err(failure) => {
                    for (_, target) in routes {
                        if matches!(target, Target::Leader { topic, .. } if topics.contains(topic))
                        {
                            prepared.insert(target.clone(), Err(failure.clone()));
                        }
                    }
                }
            }
        }
        let mut keys: BTreeMap<CoordinatorType, BTreeSet<String>> = BTreeMap::new();
        for (_, target) in routes {
            if let Target::Coordinator(kind, key) = target {
                if self.inner.coordinators().get(*kind, key).is_none() {
                    keys.entry(*kind).or_default().insert(key.clone());
                }
            }
        }
        for (kind, keys) in keys {
            let keys: Vec<String> = keys.into_iter().collect();
            match self
                .find_coordinators(kind, &keys, progress, deadline)
                .await
            {
                Err(failure) => {
                    for key in keys {
                        let target = Target::Coordinator(kind, key);
                        prepared.insert(target, Err(failure.clone()));
                    }
                }
                Ok(found) => {
                    for (key, result) in found {
                        if let Err(failure) = result {
                            prepared.insert(Target::Coordinator(kind, key), Err(failure));
                        }
                    }
                }
            }
        }
        prepared
    }

    /// The broker of a target from the cache, which [`prepare_routes`](Self::prepare_routes)
    /// filled.
    fn resolve(&self, target: &Target) -> Result<(i32, BrokerAddress), Failure> {
        let metadata = self.cached_metadata();
        match target {
            Target::Any => self.least_loaded(),
            Target::Controller => match metadata.controller_id.and_then(|id| metadata.broker(id)) {
                Some(broker) => Ok((broker.id, broker.addr())),
                // No controller known (an election, or a KRaft broker that names none): any
                // broker forwards controller requests.
                None => self.least_loaded(),
            },
            Target::Broker(id) => match metadata.broker(*id) {
                Some(broker) => Ok((broker.id, broker.addr())),
                None => {
                    let error = ClusterError::UnknownBroker {
                        broker_id: *id,
                        known: metadata.broker_ids(),
                    };
                    // A broker we used before may be restarting (KRaft drops fenced brokers
                    // from metadata); an id never seen is a mistake worth reporting at once.
                    let seen = self.inner.pool.knows(*id);
                    Err(Failure::new(error).refresh().retriable(seen))
                }
            },
            Target::Leader { topic, partition } => leader_of(&metadata, topic, *partition),
            Target::Coordinator(kind, key) => {
                let Some(coordinator) = self.inner.coordinators().get(*kind, key).cloned() else {
                    let error = ClusterError::Kafka {
                        api: ApiKey::FindCoordinator,
                        broker_id: -1,
                        error_code: klamm_protocol::ErrorCode::CoordinatorNotAvailable,
                        message: Some("the answer did not name the key".into()),
                        resource: Some(format!("{kind} `{key}`")),
                    };
                    return Err(Failure::new(error));
                };
                let addr = metadata
                    .broker(coordinator.broker_id)
                    .map(|b| b.addr())
                    .unwrap_or_else(|| coordinator.addr());
                Ok((coordinator.broker_id, addr))
            }
        }
    }

    /// Sends the items of one broker (in as many requests as the version needs) and reads
    /// each item's outcome.
    async fn send_shard<S: ShardedRequest>(
        &self,
        request: &S,
        broker_id: i32,
        addr: BrokerAddress,
        items: Vec<S::Item>,
        state: &Mutex<ShardState<S::Item, S::Output>>,
        deadline: Deadline,
    ) -> Vec<(S::Item, Attempted<S::Output>)> {
        let api = <S::Request as Request>::API_KEY;
        let fail_all = |items: Vec<S::Item>, failure: Failure| {
            items
                .into_iter()
                .map(|item| (item, Attempted::from_failure(failure.clone())))
                .collect::<Vec<_>>()
        };
        for item in &items {
            lock(state).waiting(item, Waiting::Connect { broker_id });
        }
        let progress = Progress::new(Waiting::Connect { broker_id });
        let connection = match self.connect_to(broker_id, &addr, &progress, deadline).await {
            Ok((_, connection)) => connection,
            Err(failure) => return fail_all(items, failure),
        };
        let range = request.versions();
        let version = if range == api.versions() {
            connection.version_for(api)
        } else {
            connection.api_versions().choose_within(api, range)
        };
        let version = match version {
            Ok(version) => version,
            Err(source) => {
                let failure = Failure::new(ClusterError::request(api, broker_id, source));
                return fail_all(items, failure.retriable(false));
            }
        };
        for item in &items {
            lock(state).waiting(item, Waiting::Response { api, broker_id });
        }
        let chunks: Vec<Vec<S::Item>> = items
            .chunks(request.max_items(version).max(1))
            .map(<[S::Item]>::to_vec)
            .collect();
        let sends = chunks.into_iter().map(|chunk| {
            let connection = connection.clone();
            async move {
                let body = request.build(broker_id, version, &chunk);
                let options = self.request_options(deadline, Some(version));
                match connection.send_with(body, options).await {
                    Err(source) => {
                        let error = ClusterError::request(api, broker_id, source.clone());
                        fail_all(chunk, Failure::request(error, broker_id, &source))
                    }
                    Ok(response) => classified(request, response, version, chunk, api, broker_id),
                }
            }
        });
        join_all(sends.collect())
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Hands each item's fate to the state and forgets what the failures made stale.
    fn record<S: ShardedRequest>(
        &self,
        state: &Mutex<ShardState<S::Item, S::Output>>,
        request: &S,
        attempted: impl IntoIterator<Item = (S::Item, Attempted<S::Output>)>,
        stale_topics: &mut BTreeSet<String>,
    ) {
        let now = now();
        let mut state = lock(state);
        for (item, attempt) in attempted {
            match attempt {
                Attempted::Done(value) => state.succeeded(&item, value),
                Attempted::Failed {
                    failure,
                    invalidation,
                    broker_id,
                } => {
                    tracing::debug!(operation = %request.operation(), item = %request.describe(&item), error = %failure.error, "attempt failed");
                    let retried = state.failed(&item, failure, now, system_random());
                    if retried == Retried::Later {
                        self.invalidate(
                            invalidation,
                            &request.route(&item),
                            broker_id,
                            stale_topics,
                        );
                    }
                }
            }
        }
    }

    /// Forgets what a failure made stale: a leader error marks its topic for a metadata
    /// fetch, a coordinator error forgets the coordinator, a lost connection forgets every
    /// coordinator on that broker and refreshes the brokers, and so does an error that says
    /// the brokers changed (`NOT_CONTROLLER`). A topic's error on a request that was not
    /// routed by its leader refreshes nothing: it does not concern routing.
    fn invalidate(
        &self,
        invalidation: Invalidation,
        target: &Target,
        broker_id: Option<i32>,
        stale_topics: &mut BTreeSet<String>,
    ) {
        let lost_connection = invalidation == Invalidation::for_lost_connection();
        if invalidation.refresh_metadata {
            if let Target::Leader { topic, .. } = target {
                stale_topics.insert(topic.clone());
            }
            if lost_connection || invalidation.brokers_changed {
                self.inner.freshness().mark_stale();
            }
        }
        if invalidation.forget_coordinator {
            let mut cache = self.inner.coordinators();
            if let Target::Coordinator(kind, key) = target {
                cache.forget(*kind, key);
            }
            if let (true, Some(broker_id)) = (lost_connection, broker_id) {
                cache.forget_broker(broker_id);
            }
        }
    }
}

/// Each item's outcome in a response; items it does not mention are sent again.
fn classified<S: ShardedRequest>(
    request: &S,
    response: <S::Request as Request>::Response,
    version: i16,
    chunk: Vec<S::Item>,
    api: ApiKey,
    broker_id: i32,
) -> Vec<(S::Item, Attempted<S::Output>)> {
    let mut unmentioned: BTreeSet<S::Item> = chunk.iter().cloned().collect();
    let mut outcomes = Vec::new();
    for (item, outcome) in request.classify(response, version, &chunk) {
        if !unmentioned.remove(&item) {
            continue; // not asked for, or mentioned twice
        }
        let describe = || request.describe(&item);
        let failed = |error: ResponseError, retriable, forced_refresh: bool| {
            let mut invalidation = Invalidation::for_error(error.error_code);
            if forced_refresh {
                invalidation = Invalidation::for_lost_connection();
            }
            Attempted::Failed {
                failure: AttemptFailure {
                    error: item_error(api, broker_id, error, describe),
                    retriable,
                    retry_in: Duration::ZERO,
                    sent: false,
                },
                invalidation,
                broker_id: Some(broker_id),
            }
        };
        let attempted = match outcome {
            Outcome::Done(value) => Attempted::Done(value),
            Outcome::Retry(error) => failed(error, true, false),
            Outcome::RetryAfterRefresh(error) => failed(error, true, true),
            Outcome::Failed(error) => failed(error, false, false),
        };
        outcomes.push((item, attempted));
    }
    for item in unmentioned {
        let error = ClusterError::NotInResponse {
            api,
            broker_id,
            resource: request.describe(&item),
        };
        let failure = AttemptFailure {
            error,
            retriable: true,
            retry_in: Duration::ZERO,
            sent: false,
        };
        let attempted = Attempted::Failed {
            failure,
            invalidation: Invalidation::default(),
            broker_id: Some(broker_id),
        };
        outcomes.push((item, attempted));
    }
    outcomes
}

/// The leader of a partition from `metadata`.
fn leader_of(
    metadata: &crate::ClusterMetadata,
    topic: &str,
    partition: i32,
) -> Result<(i32, BrokerAddress), Failure> {
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `futures` concurrently in this task and returns their outputs in order.
pub(crate) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
