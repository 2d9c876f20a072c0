//! [`ClusterConfig`]: the cluster-level settings of kafka-python's `KafkaAdminClient`
//! (`bootstrap_servers`, `metadata_max_age_ms`, `retry_backoff_ms`) and the Java client's
//! `default.api.timeout.ms` and `retry.backoff.max.ms`, plus the per-connection settings of
//! [`klamm_net::ConnectionConfig`]. Built with [`ClusterConfigBuilder`].

use std::time::Duration;

use klamm_net::ConnectionConfig;

use crate::{BootstrapServers, ClusterError};

/// Every setting of a [`Cluster`](crate::Cluster). Defaults are kafka-python's (and Java's).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Brokers to ask for the first metadata (default `localhost:9092`).
    pub bootstrap_servers: BootstrapServers,
    /// Settings of each broker connection (client id, timeouts, TLS, SASL, reconnect backoff…).
    pub connection: ConnectionConfig,
    /// Metadata older than this is refreshed before use (`metadata_max_age_ms`, 300 000 ms).
    pub metadata_max_age: Duration,
    /// Pause before the first retry (`retry_backoff_ms`, 100 ms).
    pub retry_backoff: Duration,
    /// Longest pause between retries; the pause doubles from `retry_backoff` up to this, with
    /// ±20 % jitter (Java's `retry.backoff.max.ms`, 1000 ms). Set it equal to `retry_backoff`
    /// for kafka-python's fixed pause.
    pub retry_backoff_max: Duration,
    /// Deadline of each operation, covering metadata, connecting and retries, unless the
    /// operation passes its own (Java's `default.api.timeout.ms`, 60 000 ms).
    pub default_api_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            bootstrap_servers: BootstrapServers::default(),
            connection: ConnectionConfig::default(),
            metadata_max_age: Duration::from_millis(300_000),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            default_api_timeout: Duration::from_millis(60_000),
        }
    }
}

impl ClusterConfig {
    /// A builder starting from the defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use klamm_cluster::ClusterConfig;
    /// use klamm_net::ConnectionConfig;
    ///
    /// let config = ClusterConfig::builder()
    ///     .bootstrap_servers("kafka-1:9092,kafka-2:9092")
    ///     .connection(ConnectionConfig::builder().client_id("ops").build()?)
    ///     .default_api_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// assert_eq!(config.bootstrap_servers.addresses().len(), 2);
    /// assert_eq!(config.metadata_max_age, Duration::from_secs(300));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> ClusterConfigBuilder {
        ClusterConfigBuilder::default()
    }

    /// Checks that the settings fit together.
    pub fn validate(&self) -> Result<(), ClusterError> {
        self.connection
            .validate()
            .map_err(|error| ClusterError::InvalidConfig {
                reason: error.to_string(),
            })?;
        if self.default_api_timeout.is_zero() {
            return Err(ClusterError::InvalidConfig {
                reason: "default_api_timeout must be positive".into(),
            });
        }
        if self.retry_backoff_max < self.retry_backoff {
            return Err(ClusterError::InvalidConfig {
                reason: "retry_backoff_max must not be below retry_backoff".into(),
            });
        }
        Ok(())
    }
}

/// Builds a [`ClusterConfig`]; setter names follow kafka-python's settings.
#[derive(Debug, Default)]
pub struct ClusterConfigBuilder {
    config: ClusterConfig,
    bootstrap: Option<Vec<String>>,
}

impl ClusterConfigBuilder {
    /// `bootstrap_servers` as one comma-separated string.
    pub fn bootstrap_servers(mut self, servers: impl Into<String>) -> Self {
        self.bootstrap = Some(vec![servers.into()]);
        self
    }

    /// `bootstrap_servers` as a list of `host[:port]` entries.
    pub fn bootstrap_server_list<I, S>(mut self, servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.bootstrap = Some(servers.into_iter().map(Into::into).collect());
        self
    }

    /// The settings of each broker connection.
    pub fn connection(mut self, connection: ConnectionConfig) -> Self {
        self.config.connection = connection;
        self
    }

    /// `metadata_max_age_ms`.
    pub fn metadata_max_age(mut self, age: Duration) -> Self {
        self.config.metadata_max_age = age;
        self
    }

    /// `retry_backoff_ms`.
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.config.retry_backoff = backoff;
        self
    }

    /// `retry.backoff.max.ms`.
    pub fn retry_backoff_max(mut self, backoff: Duration) -> Self {
        self.config.retry_backoff_max = backoff;
        self
    }

    /// `default.api.timeout.ms`.
    pub fn default_api_timeout(mut self, timeout: Duration) -> Self {
        self.config.default_api_timeout = timeout;
        self
    }

    /// Parses the bootstrap list and checks the settings.
    pub fn build(mut self) -> Result<ClusterConfig, ClusterError> {
        if let Some(entries) = self.bootstrap.take() {
            self.config.bootstrap_servers = BootstrapServers::parse(entries)?;
        }
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_kafka_python_and_java() {
        let config = ClusterConfig::default();
        assert_eq!(config.metadata_max_age, Duration::from_millis(300_000));
        assert_eq!(config.retry_backoff, Duration::from_millis(100));
        assert_eq!(config.retry_backoff_max, Duration::from_millis(1000));
        assert_eq!(config.default_api_timeout, Duration::from_millis(60_000));
        assert_eq!(config.bootstrap_servers.to_string(), "localhost:9092");
        assert_eq!(
            config.connection.request_timeout,
            Duration::from_millis(30_000)
        );
    }

    #[test]
    fn builder_parses_list_and_rejects_inconsistent_backoff() {
        let config = ClusterConfig::builder()
            .bootstrap_server_list(["a:1", "b"])
            .build()
            .unwrap();
        assert_eq!(config.bootstrap_servers.to_string(), "a:1,b:9092");
        let error = ClusterConfig::builder()
            .retry_backoff(Duration::from_secs(2))
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("retry_backoff_max"), "{error}");
        assert!(ClusterConfig::builder()
            .bootstrap_servers("ok:1,[::1")
            .build()
            .is_err());
    }
}
