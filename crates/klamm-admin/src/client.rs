//! [`Admin`]: the client. Holds a [`Cluster`] (metadata, connections, routing, retries); each
//! operation family adds its methods in its own module (`topics`, `configs`, `acls`, `groups`,
//! `offsets`, `health`).

use std::time::Duration;

use klamm_cluster::Cluster;

use crate::{AdminConfig, AdminError};

/// An async Kafka admin client.
///
/// Cheap to clone; clones share connections and metadata. Every operation has a deadline (its
/// `timeout` option, else `default_api_timeout`) covering metadata, connecting and retries.
/// Batch operations return one result per resource ([`Results`](crate::Results)).
///
/// ```no_run
/// use klamm_admin::{Admin, AdminConfig, CreateTopicsOptions, NewTopic};
///
/// # async fn demo() -> Result<(), klamm_admin::AdminError> {
/// let admin = Admin::connect(AdminConfig::builder().bootstrap_servers("kafka-1:9092").build()?).await?;
/// let created = admin
///     .create_topics(&[NewTopic::new("orders", 6, 3)], CreateTopicsOptions::default())
///     .await?;
/// for (topic, result) in created.iter() {
///     match result {
///         Ok(topic) => println!("created {} with id {:?}", topic.name, topic.topic_id),
///         Err(error) => println!("{topic}: {error}"),
///     }
/// }
/// admin.close();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Admin {
    pub(crate) cluster: Cluster,
    pub(crate) config: AdminConfig,
}

impl Admin {
    /// Connects to the bootstrap servers and fetches the cluster metadata (retrying until
    /// `default_api_timeout`). Broker connections are opened when first needed.
    pub async fn connect(config: AdminConfig) -> Result<Admin, AdminError> {
        let cluster = Cluster::connect(config.cluster.clone()).await?;
        Ok(Admin { cluster, config })
    }

    /// An admin client on an existing cluster client (sharing its connections).
    pub fn from_cluster(cluster: Cluster) -> Admin {
        let config = AdminConfig::from(cluster.config().clone());
        Admin { cluster, config }
    }

    /// The cluster client underneath, for requests this API does not cover.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The settings.
    pub fn config(&self) -> &AdminConfig {
        &self.config
    }

    /// Closes every connection; later operations fail with `ClusterError::Closed`.
    pub fn close(&self) {
        self.cluster.close();
    }

    pub(crate) fn timeout(&self, timeout: Option<Duration>) -> Duration {
        timeout.unwrap_or(self.config.cluster.default_api_timeout)
    }
}

/// `i32` milliseconds for a request's `timeout_ms` field.
pub(crate) fn timeout_ms(timeout: Duration) -> i32 {
    i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX)
}

/// Whether the broker cannot speak any version of the API we need (nothing was sent).
pub(crate) fn is_unsupported(error: &klamm_cluster::ClusterError) -> bool {
    matches!(
        error,
        klamm_cluster::ClusterError::UnsupportedByBroker { .. }
    ) || matches!(
        error.net_error(),
        Some(klamm_net::NetError::UnsupportedVersion { .. })
    )
}
