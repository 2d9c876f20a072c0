//! Counters of one connection: requests, responses, timeouts and latency per API, bytes each
//! way. The connection updates them under the lock it already takes per request; callers read
//! a [`MetricsSnapshot`].

use std::collections::BTreeMap;
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

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    snapshot: MetricsSnapshot,
}

impl Metrics {
    pub(crate) fn record_sent(&mut self, api: ApiKey, bytes: usize) {
        self.snapshot.bytes_sent += bytes as u64;
        self.snapshot.apis.entry(api).or_default().requests += 1;
    }

    pub(crate) fn record_received_bytes(&mut self, bytes: usize) {
        self.snapshot.bytes_received += bytes as u64;
    }

    pub(crate) fn record_response(&mut self, api: ApiKey, latency: Duration) {
        let entry = self.snapshot.apis.entry(api).or_default();
        entry.responses += 1;
        entry.latency_total += latency;
        entry.latency_max = entry.latency_max.max(latency);
    }

    pub(crate) fn record_timeout(&mut self, api: ApiKey) {
        self.snapshot.apis.entry(api).or_default().timeouts += 1;
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
}
