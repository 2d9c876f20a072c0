//! `cluster_health`: one report of what is wrong with partitions and leadership (for
//! `klamm cluster health`): under-replicated, offline and leaderless partitions, replicas on
//! brokers the metadata no longer lists, and leader skew per broker. The computation
//! ([`HealthReport::from_metadata`]) is pure and unit-tested.

use std::collections::BTreeMap;

use klamm_cluster::ClusterMetadata;

use crate::options::options;
use crate::{Admin, AdminError};

/// A partition the report flags.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PartitionHealth {
    /// Topic.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// Leader, if any.
    pub leader: Option<i32>,
    /// Replicas.
    pub replicas: Vec<i32>,
    /// In-sync replicas.
    pub isr: Vec<i32>,
}

/// Leadership on one broker.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BrokerLeadership {
    /// Broker id.
    pub broker_id: i32,
    /// Partitions it leads.
    pub leaders: usize,
    /// Partitions whose preferred (first) replica it is.
    pub preferred_leaders: usize,
    /// Replicas it hosts.
    pub replicas: usize,
    /// `leaders / (total leaders / brokers)`: 1.0 is an even share.
    pub leader_share: f64,
}

/// What is wrong with the cluster's partitions, from one metadata snapshot.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HealthReport {
    /// Brokers in the metadata.
    pub brokers: Vec<i32>,
    /// Topics looked at (internal ones included).
    pub topics: usize,
    /// Partitions looked at.
    pub partitions: usize,
    /// Fewer in-sync replicas than replicas.
    pub under_replicated: Vec<PartitionHealth>,
    /// No leader and no in-sync replica on a live broker: unavailable until a replica returns.
    pub offline: Vec<PartitionHealth>,
    /// No leader right now (an election pending), though an in-sync replica is alive.
    pub leaderless: Vec<PartitionHealth>,
    /// Led by a broker other than their preferred replica (run a preferred election).
    pub not_on_preferred_leader: Vec<PartitionHealth>,
    /// Replicas assigned to broker ids the metadata does not list.
    pub replicas_on_missing_brokers: Vec<PartitionHealth>,
    /// Leadership per broker.
    pub leadership: Vec<BrokerLeadership>,
    /// Largest `leader_share` minus smallest (0 when perfectly even).
    pub leader_skew: f64,
}

impl HealthReport {
    /// Computes the report from a metadata snapshot.
    pub fn from_metadata(metadata: &ClusterMetadata) -> HealthReport {
        let brokers = metadata.broker_ids();
        let mut report = HealthReport {
            brokers: brokers.clone(),
            topics: metadata.topics.len(),
            partitions: 0,
            under_replicated: Vec::new(),
            offline: Vec::new(),
            leaderless: Vec::new(),
            not_on_preferred_leader: Vec::new(),
            replicas_on_missing_brokers: Vec::new(),
            leadership: Vec::new(),
            leader_skew: 0.0,
        };
        let mut leaders: BTreeMap<i32, (usize, usize, usize)> =
            brokers.iter().map(|id| (*id, (0, 0, 0))).collect();
        for topic in metadata.topics.values() {
            for partition in topic.partitions.values() {
                report.partitions += 1;
                let health = PartitionHealth {
                    topic: topic.name.clone(),
                    partition: partition.partition,
                    leader: partition.leader,
                    replicas: partition.replicas.clone(),
                    isr: partition.isr.clone(),
                };
                if partition.is_under_replicated() {
                    report.under_replicated.push(health.clone());
                }
                match partition.leader {
                    None => {
                        if partition.isr.iter().any(|id| brokers.contains(id)) {
                            report.leaderless.push(health.clone());
                        } else {
                            report.offline.push(health.clone());
                        }
                    }
                    Some(leader) => {
                        leaders.entry(leader).or_default().0 += 1;
                        if partition.replicas.first().is_some_and(|p| *p != leader) {
                            report.not_on_preferred_leader.push(health.clone());
                        }
                    }
                }
                if let Some(preferred) = partition.replicas.first() {
                    leaders.entry(*preferred).or_default().1 += 1;
                }
                for replica in &partition.replicas {
                    leaders.entry(*replica).or_default().2 += 1;
                }
                if partition.replicas.iter().any(|id| !brokers.contains(id)) {
                    report.replicas_on_missing_brokers.push(health);
                }
            }
        }
        let total: usize = leaders.values().map(|(l, _, _)| l).sum();
        let live = brokers.len().max(1) as f64;
        let even = total as f64 / live;
        report.leadership = leaders
            .into_iter()
            .filter(|(id, _)| brokers.contains(id))
            .map(
                |(broker_id, (leaders, preferred_leaders, replicas))| BrokerLeadership {
                    broker_id,
                    leaders,
                    preferred_leaders,
                    replicas,
                    leader_share: if even > 0.0 {
                        leaders as f64 / even
                    } else {
                        0.0
                    },
                },
            )
            .collect();
        let shares = report.leadership.iter().map(|b| b.leader_share);
        let max = shares.clone().fold(f64::NAN, f64::max);
        let min = shares.fold(f64::NAN, f64::min);
        report.leader_skew = if max.is_nan() { 0.0 } else { max - min };
        report
    }

    /// No under-replicated, offline, leaderless partitions or replicas on missing brokers.
    pub fn is_healthy(&self) -> bool {
        self.under_replicated.is_empty()
            && self.offline.is_empty()
            && self.leaderless.is_empty()
            && self.replicas_on_missing_brokers.is_empty()
    }

    /// One line, e.g. `3 brokers, 120 partitions: 2 under-replicated, 0 offline, …`.
    pub fn summary(&self) -> String {
        format!(
            "{} brokers, {} partitions: {} under-replicated, {} offline, {} leaderless, {} not on preferred leader, leader skew {:.2}",
            self.brokers.len(),
            self.partitions,
            self.under_replicated.len(),
            self.offline.len(),
            self.leaderless.len(),
            self.not_on_preferred_leader.len(),
            self.leader_skew
        )
    }
}

options! {
    /// Options of [`Admin::cluster_health`].
    pub struct ClusterHealthOptions {}
}

impl Admin {
    /// A health report from fresh metadata of every topic.
    ///
    /// ```no_run
    /// # async fn demo(admin: klamm_admin::Admin) -> Result<(), klamm_admin::AdminError> {
    /// let report = admin.cluster_health(Default::default()).await?;
    /// if !report.is_healthy() {
    ///     eprintln!("{}", report.summary());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn cluster_health(
        &self,
        options: ClusterHealthOptions,
    ) -> Result<HealthReport, AdminError> {
        let timeout = self.timeout(options.timeout);
        let metadata = tokio::time::timeout(timeout, self.cluster.refresh_metadata())
            .await
            .map_err(|_| {
                AdminError::Cluster(klamm_cluster::ClusterError::DeadlineExceeded {
                    operation: "cluster health".into(),
                    waiting: klamm_cluster::Waiting::Metadata,
                    timeout,
                    attempts: 1,
                    last_error: None,
                    may_have_applied: false,
                })
            })??;
        Ok(HealthReport::from_metadata(&metadata))
    }
}

#[cfg(test)]
mod tests {
    use klamm_cluster::{BrokerInfo, PartitionMetadata, TopicMetadata};

    use super::*;

    fn partition(
        index: i32,
        leader: Option<i32>,
        replicas: &[i32],
        isr: &[i32],
    ) -> PartitionMetadata {
        PartitionMetadata {
            partition: index,
            leader,
            leader_epoch: None,
            replicas: replicas.to_vec(),
            isr: isr.to_vec(),
            offline_replicas: vec![],
            error: None,
        }
    }

    fn metadata(partitions: Vec<PartitionMetadata>, brokers: &[i32]) -> ClusterMetadata {
        let mut metadata = ClusterMetadata::empty();
        for id in brokers {
            metadata.brokers.insert(
                *id,
                BrokerInfo {
                    id: *id,
                    host: "h".into(),
                    port: 9092,
                    rack: None,
                },
            );
        }
        metadata.topics.insert(
            "t".into(),
            TopicMetadata {
                name: "t".into(),
                id: None,
                is_internal: false,
                partitions: partitions.into_iter().map(|p| (p.partition, p)).collect(),
                error: None,
            },
        );
        metadata
    }

    #[test]
    fn healthy_even_cluster_has_no_findings_and_no_skew() {
        let report = HealthReport::from_metadata(&metadata(
            vec![
                partition(0, Some(1), &[1, 2], &[1, 2]),
                partition(1, Some(2), &[2, 1], &[2, 1]),
            ],
            &[1, 2],
        ));
        assert!(report.is_healthy(), "{report:?}");
        assert_eq!(report.leader_skew, 0.0);
        assert_eq!(report.partitions, 2);
    }

    #[test]
    fn findings_are_classified() {
        let report = HealthReport::from_metadata(&metadata(
            vec![
                partition(0, Some(1), &[1, 2], &[1]),
                partition(1, None, &[3], &[3]),
                partition(2, None, &[2, 1], &[2]),
                partition(3, Some(1), &[2, 1], &[2, 1]),
            ],
            &[1, 2],
        ));
        let ids = |list: &[PartitionHealth]| list.iter().map(|p| p.partition).collect::<Vec<_>>();
        assert_eq!(ids(&report.under_replicated), vec![0, 2]);
        assert_eq!(ids(&report.offline), vec![1]);
        assert_eq!(ids(&report.leaderless), vec![2]);
        assert_eq!(ids(&report.not_on_preferred_leader), vec![3]);
        assert_eq!(ids(&report.replicas_on_missing_brokers), vec![1]);
        assert!(!report.is_healthy());
        // Broker 1 leads both led partitions, broker 2 none: share 2.0 vs 0.0.
        assert_eq!(report.leader_skew, 2.0);
    }
}
