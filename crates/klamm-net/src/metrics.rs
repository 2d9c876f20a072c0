//! Counters of one connection: requests, responses, timeouts and latency per API, bytes each
//! way. The connection updates them under the lock it already takes per request; callers read
//! a [`MetricsSnapshot`].
//!
//! kafka-python takes a `metrics` instance that captures network I/O stats; Klamm's equivalent
//! is a [`MetricsRecorder`] in the connection settings (`ConnectionConfigBuilder::metrics`),
//! told of every update of every connection as it happens, with the broker it concerns.
//! [`ClientMetrics`] is a ready one that keeps a [`MetricsSnapshot`] per broker.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use klamm_protocol::ApiKey;

/// Counters of one API on one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiMetrics {
    /// Requests written.
    pub requests: u64,
    /// Responses received (including late ones whose caller had given up).
    pub responses: u64,
    /// Requests whose deadline passed before the response came.
    pub timeouts: u64,
    /// Sum of the latencies of `responses`.
    pub latency_total: Duration,
    /// Largest latency seen.
    pub latency_max: Duration,
}

impl ApiMetrics {
    /// Mean latency of the responses received, `None` before the first one.
    pub fn latency_mean(&self) -> Option<Duration> {
        (self.responses > 0).then(|| self.latency_total / self.responses as u32)
    }
}

/// A copy of a connection's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Bytes written to the socket (frames, including length prefixes; before TLS).
    pub bytes_sent: u64,
    /// Bytes read from the socket (after TLS).
    pub bytes_received: u64,
    /// Requests in flight now.
    pub in_flight: usize,
    /// Per-API counters.
    pub apis: BTreeMap<ApiKey, ApiMetrics>,
}

impl MetricsSnapshot {
    /// Requests written, all APIs together.
    pub fn requests(&self) -> u64 {
        self.apis.values().map(|api| api.requests).sum()
    }

    /// The counters of `api` (zeros if it was never used).
    pub fn api(&self, api: ApiKey) -> ApiMetrics {
        self.apis.get(&api).copied().unwrap_or_default()
    }
}

impl MetricsSnapshot {
    fn add_sent(&mut self, api: ApiKey, bytes: usize) {
        self.bytes_sent += bytes as u64;
        self.apis.entry(api).or_default().requests += 1;
    }

    fn add_response(&mut self, api: ApiKey, latency: Duration) {
        let entry = self.apis.entry(api).or_default();
        entry.responses += 1;
        entry.latency_total += latency;
        entry.latency_max = entry.latency_max.max(latency);
    }
}

/// Told of every counter update of every connection it is configured on (kafka-python's
/// `metrics`), to feed a metrics system. Each method has an empty default.
///
/// The calls are made with the connection's lock held, on the task that runs it: keep them
/// quick (an atomic add, a short lock) and never block.
pub trait MetricsRecorder: Send + Sync + 'static {
    /// A request of `bytes` (its whole frame) was written to `broker`.
    fn request_sent(&self, broker: &str, api: ApiKey, bytes: usize) {
        let _ = (broker, api, bytes);
    }

    /// `bytes` were read from `broker`.
    fn bytes_received(&self, broker: &str, bytes: usize) {
        let _ = (broker, bytes);
    }

    /// A response came, `latency` after its request was written.
    fn response_received(&self, broker: &str, api: ApiKey, latency: Duration) {
        let _ = (broker, api, latency);
    }

    /// A request's deadline passed before its response came.
    fn request_timed_out(&self, broker: &str, api: ApiKey) {
        let _ = (broker, api);
    }
}

/// A [`MetricsRecorder`] keeping one [`MetricsSnapshot`] per broker address, summed over every
/// connection to it (reconnects included); share it with an `Arc` and read it any time.
///
/// ```
/// use std::sync::Arc;
/// use klamm_net::{ClientMetrics, ConnectionConfig};
///
/// let metrics = Arc::new(ClientMetrics::default());
/// let config = ConnectionConfig::builder().metrics(metrics.clone()).build()?;
/// // … connections made with `config` …
/// assert_eq!(metrics.total().requests(), 0);
/// # Ok::<(), klamm_net::NetError>(())
/// ```
#[derive(Debug, Default)]
pub struct ClientMetrics {
    brokers: Mutex<BTreeMap<String, MetricsSnapshot>>,
}

impl ClientMetrics {
    /// The counters of each broker so far (`in_flight` is not tracked here: always 0).
    pub fn per_broker(&self) -> BTreeMap<String, MetricsSnapshot> {
        self.lock().clone()
    }

    /// The counters of every broker added up.
    pub fn total(&self) -> MetricsSnapshot {
        let mut total = MetricsSnapshot::default();
        for snapshot in self.lock().values() {
            total.bytes_sent += snapshot.bytes_sent;
            total.bytes_received += snapshot.bytes_received;
            for (api, metrics) in &snapshot.apis {
                let entry = total.apis.entry(*api).or_default();
                entry.requests += metrics.requests;
                entry.responses += metrics.responses;
                entry.timeouts += metrics.timeouts;
                entry.latency_total += metrics.latency_total;
                entry.latency_max = entry.latency_max.max(metrics.latency_max);
            }
        }
        total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, MetricsSnapshot>> {
        // The map stays consistent whatever a panicking holder did: every update is one step.
        self.brokers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update(&self, broker: &str, update: impl FnOnce(&mut MetricsSnapshot)) {
        let mut brokers = self.lock();
        match brokers.get_mut(broker) {
            Some(snapshot) => update(snapshot),
            None => update(brokers.entry(broker.to_owned()).or_default()),
        }
    }
}

impl MetricsRecorder for ClientMetrics {
    fn request_sent(&self, broker: &str, api: ApiKey, bytes: usize) {
        self.update(broker, |snapshot| snapshot.add_sent(api, bytes));
    }

    fn bytes_received(&self, broker: &str, bytes: usize) {
        self.update(broker, |snapshot| snapshot.bytes_received += bytes as u64);
    }

    fn response_received(&self, broker: &str, api: ApiKey, latency: Duration) {
        self.update(broker, |snapshot| snapshot.add_response(api, latency));
    }

    fn request_timed_out(&self, broker: &str, api: ApiKey) {
        self.update(broker, |snapshot| {
            snapshot.apis.entry(api).or_default().timeouts += 1;
        });
    }
}

/// The recorder of a connection's settings, shared by its connections.
#[derive(Clone)]
pub struct MetricsHook(pub(crate) Arc<dyn MetricsRecorder>);

impl fmt::Debug for MetricsHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsHook(..)")
    }
}

/// The live counters, and the recorder told of each update.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    snapshot: MetricsSnapshot,
    recorder: Option<(String, MetricsHook)>,
}

impl Metrics {
    /// Counters of the connection to `broker`, reported to `recorder` too.
    pub(crate) fn new(broker: &str, recorder: Option<MetricsHook>) -> Self {
        Metrics {
            snapshot: MetricsSnapshot::default(),
            recorder: recorder.map(|hook| (broker.to_owned(), hook)),
        }
    }

    pub(crate) fn record_sent(&mut self, api: ApiKey, bytes: usize) {
        self.snapshot.add_sent(api, bytes);
        if let Some((broker, hook)) = &self.recorder {
            hook.0.request_sent(broker, api, bytes);
        }
    }

    pub(crate) fn record_received_bytes(&mut self, bytes: usize) {
        self.snapshot.bytes_received += bytes as u64;
        if let Some((broker, hook)) = &self.recorder {
            hook.0.bytes_received(broker, bytes);
        }
    }

    pub(crate) fn record_response(&mut self, api: ApiKey, latency: Duration) {
        self.snapshot.add_response(api, latency);
        if let Some((broker, hook)) = &self.recorder {
            hook.0.response_received(broker, api, latency);
        }
    }

    pub(crate) fn record_timeout(&mut self, api: ApiKey) {
        self.snapshot.apis.entry(api).or_default().timeouts += 1;
        if let Some((broker, hook)) = &self.recorder {
            hook.0.request_timed_out(broker, api);
        }
    }

    pub(crate) fn snapshot(&self, in_flight: usize) -> MetricsSnapshot {
        MetricsSnapshot {
            in_flight,
            ..self.snapshot.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_and_counts_accumulate_per_api() {
        let mut metrics = Metrics::default();
        metrics.record_sent(ApiKey::Metadata, 40);
        metrics.record_sent(ApiKey::Metadata, 40);
        metrics.record_sent(ApiKey::ApiVersions, 20);
        metrics.record_received_bytes(300);
        metrics.record_response(ApiKey::Metadata, Duration::from_millis(10));
        metrics.record_response(ApiKey::Metadata, Duration::from_millis(30));
        metrics.record_timeout(ApiKey::ApiVersions);
        let snapshot = metrics.snapshot(1);
        assert_eq!(snapshot.bytes_sent, 100);
        assert_eq!(snapshot.bytes_received, 300);
        assert_eq!(snapshot.requests(), 3);
        let metadata = snapshot.api(ApiKey::Metadata);
        assert_eq!(metadata.latency_mean(), Some(Duration::from_millis(20)));
        assert_eq!(metadata.latency_max, Duration::from_millis(30));
        assert_eq!(snapshot.api(ApiKey::ApiVersions).timeouts, 1);
        assert_eq!(snapshot.api(ApiKey::Fetch).latency_mean(), None);
    }

    #[test]
    fn recorder_sees_every_update_with_its_broker() {
        let recorder = Arc::new(ClientMetrics::default());
        let hook = || Some(MetricsHook(recorder.clone()));
        let mut first = Metrics::new("b1:9092", hook());
        let mut second = Metrics::new("b2:9092", hook());
        first.record_sent(ApiKey::Metadata, 40);
        first.record_response(ApiKey::Metadata, Duration::from_millis(10));
        first.record_received_bytes(100);
        second.record_sent(ApiKey::Metadata, 50);
        second.record_timeout(ApiKey::Metadata);
        // A reconnect to b1 adds to b1's counters.
        let mut again = Metrics::new("b1:9092", hook());
        again.record_sent(ApiKey::ApiVersions, 20);

        let brokers = recorder.per_broker();
        assert_eq!(brokers["b1:9092"].requests(), 2);
        assert_eq!(brokers["b1:9092"].bytes_received, 100);
        assert_eq!(brokers["b2:9092"].api(ApiKey::Metadata).timeouts, 1);
        let total = recorder.total();
        assert_eq!(total.bytes_sent, 110);
        assert_eq!(total.api(ApiKey::Metadata).requests, 2);
        assert_eq!(
            total.api(ApiKey::Metadata).latency_max,
            Duration::from_millis(10)
        );
        // The connection's own counters are unchanged by the recorder.
        assert_eq!(first.snapshot(0).requests(), 1);
    }
}
