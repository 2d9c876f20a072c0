//! `describe_cluster`: brokers, cluster id, controller and the caller's cluster-level
//! authorized operations, from the DescribeCluster API (Kafka 2.8+), falling back to Metadata
//! for older brokers.

use klamm_cluster::{Call, ResponseError, Target};
use klamm_protocol::messages::{DescribeClusterRequest, MetadataRequest};

use crate::options::options;
use crate::{AclOperation, Admin, AdminError};

options! {
    /// Options of [`Admin::describe_cluster`].
    pub struct DescribeClusterOptions {
        /// Ask for the caller's authorized operations on the cluster.
        include_authorized_operations: bool = true,
        /// List fenced brokers too (DescribeCluster v2+, Kafka 3.7+).
        include_fenced_brokers: bool = true,
    }
}

/// One broker of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BrokerDescription {
    /// Node id.
    pub id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// Rack, if configured.
    pub rack: Option<String>,
    /// Whether the controller has fenced it (DescribeCluster v2+ lists fenced brokers).
    pub is_fenced: bool,
}

/// The cluster as DescribeCluster reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ClusterDescription {
    /// The cluster id.
    pub cluster_id: Option<String>,
    /// The controller id exactly as the API reports it, `None` when it reports none (-1).
    ///
    /// On KRaft clusters a broker answers with a random live broker here (which forwards
    /// controller requests), not the active quorum controller: Klamm does not guess which node that is.
    pub controller_id: Option<i32>,
    /// Brokers, by id.
    pub brokers: Vec<BrokerDescription>,
    /// What the caller may do on the cluster resource, `None` if not sent.
    pub authorized_operations: Option<Vec<AclOperation>>,
    /// Which API answered: `describe_cluster` or `metadata` (brokers before 2.8).
    pub source: &'static str,
}

impl Admin {
    /// Describes the cluster: id, brokers (fenced ones included where the broker can say),
    /// controller as the API reports it, and cluster-level authorized operations.
    ///
    /// ```no_run
    /// # async fn demo(admin: klamm_admin::Admin) -> Result<(), klamm_admin::AdminError> {
    /// let cluster = admin.describe_cluster(klamm_admin::DescribeClusterOptions::default()).await?;
    /// println!("{:?}: {} brokers", cluster.cluster_id, cluster.brokers.len());
    /// # Ok(()) }
    /// ```
    pub async fn describe_cluster(
        &self,
        options: DescribeClusterOptions,
    ) -> Result<ClusterDescription, AdminError> {
        let timeout = Some(self.timeout(options.timeout));
        let (operations, fenced) = (
            options.include_authorized_operations,
            options.include_fenced_brokers,
        );
        let described = self
            .cluster
            .call(
                Call::new(Target::Any, move |_| {
                    DescribeClusterRequest::default()
                        .with_include_cluster_authorized_operations(operations)
                        .with_include_fenced_brokers(fenced)
                })
                .classify(|response| {
                    ResponseError::check(response.error_code)
                        .map_err(|e| e.with_message(response.error_message.as_ref()))
                })
                .timeout(timeout),
            )
            .await;
        match described {
            Ok(response) => {
                let mut brokers: Vec<BrokerDescription> = response
                    .brokers
                    .iter()
                    .map(|b| BrokerDescription {
                        id: b.broker_id,
                        host: b.host.to_string(),
                        port: b.port,
                        rack: b.rack.as_ref().map(|r| r.to_string()),
                        is_fenced: b.is_fenced,
                    })
                    .collect();
                brokers.sort_by_key(|b| b.id);
                Ok(ClusterDescription {
                    cluster_id: Some(response.cluster_id.to_string()),
                    controller_id: (response.controller_id >= 0).then_some(response.controller_id),
                    brokers,
                    authorized_operations: AclOperation::from_bitfield(
                        response.cluster_authorized_operations,
                    ),
                    source: "describe_cluster",
                })
            }
            Err(error) if crate::client::is_unsupported(&error) => {
                let response = self
                    .cluster
                    .call(
                        Call::new(Target::Any, move |_| {
                            MetadataRequest::default()
                                .with_topics(Some(vec![]))
                                .with_include_cluster_authorized_operations(operations)
                        })
                        .timeout(timeout),
                    )
                    .await?;
                let mut brokers: Vec<BrokerDescription> = response
                    .brokers
                    .iter()
                    .map(|b| BrokerDescription {
                        id: b.node_id,
                        host: b.host.to_string(),
                        port: b.port,
                        rack: b.rack.as_ref().map(|r| r.to_string()),
                        is_fenced: false,
                    })
                    .collect();
                brokers.sort_by_key(|b| b.id);
                Ok(ClusterDescription {
                    cluster_id: response.cluster_id.as_ref().map(|c| c.to_string()),
                    controller_id: (response.controller_id >= 0).then_some(response.controller_id),
                    brokers,
                    authorized_operations: AclOperation::from_bitfield(
                        response.cluster_authorized_operations,
                    ),
                    source: "metadata",
                })
            }
            Err(error) => Err(error.into()),
        }
    }
}
