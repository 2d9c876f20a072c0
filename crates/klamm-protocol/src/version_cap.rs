//! The highest version of each API that negotiation may pick, reviewed by hand.
//!
//! [`ApiKey::versions`] is what the specs of the pinned kafka-clients release can encode; a
//! newer release usually adds versions. Regenerating from it must not move a running operation
//! onto a wire version nobody has tested, so negotiation (in `klamm-net`) picks at most the
//! cap recorded here, and each entry also records the spec's highest version when the cap was
//! last reviewed. A spec bump that changes an API's highest version fails
//! `caps_were_reviewed_against_the_generated_specs`, naming the API, until someone has looked
//! at the new versions (tests, conformance, what changed in the KIP) and updated the entry:
//! raising the cap, or keeping it and only moving the reviewed version.
//!
//! ```
//! use klamm_protocol::{ApiKey, VersionRange};
//!
//! assert_eq!(ApiKey::Metadata.version_cap(), Some(13));
//! assert_eq!(ApiKey::Metadata.negotiable_versions(), Some(VersionRange::new(0, 13)));
//! ```

use crate::{ApiKey, VersionRange};

/// Per API: the highest version Klamm may negotiate, and the highest version the generated
/// specs had when that cap was last reviewed (kafka-clients 4.4.0 for every entry today).
const REVIEWED_CAPS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 13, 13),
    (ApiKey::Fetch, 18, 18),
    (ApiKey::ListOffsets, 11, 11),
    (ApiKey::Metadata, 13, 13),
    (ApiKey::OffsetCommit, 10, 10),
    (ApiKey::OffsetFetch, 10, 10),
    (ApiKey::FindCoordinator, 6, 6),
    (ApiKey::JoinGroup, 9, 9),
    (ApiKey::Heartbeat, 4, 4),
    (ApiKey::LeaveGroup, 5, 5),
    (ApiKey::SyncGroup, 5, 5),
    (ApiKey::DescribeGroups, 6, 6),
    (ApiKey::ListGroups, 5, 5),
    (ApiKey::SaslHandshake, 1, 1),
    (ApiKey::ApiVersions, 5, 5),
    (ApiKey::CreateTopics, 7, 7),
    (ApiKey::DeleteTopics, 6, 6),
    (ApiKey::DeleteRecords, 2, 2),
    (ApiKey::InitProducerId, 6, 6),
    (ApiKey::OffsetForLeaderEpoch, 4, 4),
    (ApiKey::AddPartitionsToTxn, 5, 5),
    (ApiKey::AddOffsetsToTxn, 4, 4),
    (ApiKey::EndTxn, 5, 5),
    (ApiKey::WriteTxnMarkers, 2, 2),
    (ApiKey::TxnOffsetCommit, 6, 6),
    (ApiKey::DescribeAcls, 3, 3),
    (ApiKey::CreateAcls, 3, 3),
    (ApiKey::DeleteAcls, 3, 3),
    (ApiKey::DescribeConfigs, 4, 4),
    (ApiKey::AlterConfigs, 2, 2),
    (ApiKey::AlterReplicaLogDirs, 2, 2),
    (ApiKey::DescribeLogDirs, 5, 5),
    (ApiKey::SaslAuthenticate, 2, 2),
    (ApiKey::CreatePartitions, 3, 3),
    (ApiKey::CreateDelegationToken, 3, 3),
    (ApiKey::RenewDelegationToken, 2, 2),
    (ApiKey::ExpireDelegationToken, 2, 2),
    (ApiKey::DescribeDelegationToken, 3, 3),
    (ApiKey::DeleteGroups, 3, 3),
    (ApiKey::ElectLeaders, 2, 2),
    (ApiKey::IncrementalAlterConfigs, 1, 1),
    (ApiKey::AlterPartitionReassignments, 1, 1),
    (ApiKey::ListPartitionReassignments, 0, 0),
    (ApiKey::OffsetDelete, 0, 0),
    (ApiKey::DescribeClientQuotas, 1, 1),
    (ApiKey::AlterClientQuotas, 1, 1),
    (ApiKey::DescribeUserScramCredentials, 0, 0),
    (ApiKey::AlterUserScramCredentials, 0, 0),
    (ApiKey::Vote, 2, 2),
    (ApiKey::BeginQuorumEpoch, 1, 1),
    (ApiKey::EndQuorumEpoch, 1, 1),
    (ApiKey::DescribeQuorum, 2, 2),
    (ApiKey::AlterPartition, 3, 3),
    (ApiKey::UpdateFeatures, 2, 2),
    (ApiKey::Envelope, 0, 0),
    (ApiKey::FetchSnapshot, 1, 1),
    (ApiKey::DescribeCluster, 2, 2),
    (ApiKey::DescribeProducers, 0, 0),
    (ApiKey::BrokerRegistration, 4, 4),
    (ApiKey::BrokerHeartbeat, 2, 2),
    (ApiKey::UnregisterBroker, 0, 0),
    (ApiKey::DescribeTransactions, 0, 0),
    (ApiKey::ListTransactions, 2, 2),
    (ApiKey::AllocateProducerIds, 0, 0),
    (ApiKey::ConsumerGroupHeartbeat, 1, 1),
    (ApiKey::ConsumerGroupDescribe, 1, 1),
    (ApiKey::ControllerRegistration, 0, 0),
    (ApiKey::GetTelemetrySubscriptions, 0, 0),
    (ApiKey::PushTelemetry, 0, 0),
    (ApiKey::AssignReplicasToDirs, 0, 0),
    (ApiKey::ListConfigResources, 1, 1),
    (ApiKey::DescribeTopicPartitions, 0, 0),
    (ApiKey::ShareGroupHeartbeat, 1, 1),
    (ApiKey::ShareGroupDescribe, 1, 1),
    (ApiKey::ShareFetch, 2, 2),
    (ApiKey::ShareAcknowledge, 2, 2),
    (ApiKey::AddRaftVoter, 1, 1),
    (ApiKey::RemoveRaftVoter, 0, 0),
    (ApiKey::UpdateRaftVoter, 0, 0),
    (ApiKey::InitializeShareGroupState, 0, 0),
    (ApiKey::ReadShareGroupState, 0, 0),
    (ApiKey::WriteShareGroupState, 1, 1),
    (ApiKey::DeleteShareGroupState, 0, 0),
    (ApiKey::ReadShareGroupStateSummary, 1, 1),
    (ApiKey::StreamsGroupHeartbeat, 1, 1),
    (ApiKey::StreamsGroupDescribe, 1, 1),
    (ApiKey::DescribeShareGroupOffsets, 1, 1),
    (ApiKey::AlterShareGroupOffsets, 0, 0),
    (ApiKey::DeleteShareGroupOffsets, 0, 0),
    (ApiKey::StreamsGroupTopologyDescriptionUpdate, 0, 0),
    (ApiKey::UnregisterController, 0, 0),
];

impl ApiKey {
    /// The highest version of this API that negotiation may pick, as last reviewed; `None` for
    /// an API not reviewed yet (which is then not negotiated at all).
    pub fn version_cap(self) -> Option<i16> {
        REVIEWED_CAPS
            .iter()
            .find(|(api, _, _)| *api == self)
            .map(|(_, cap, _)| *cap)
    }

    /// The versions negotiation may pick: this build's [`versions`](Self::versions) up to the
    /// reviewed [`version_cap`](Self::version_cap).
    pub fn negotiable_versions(self) -> Option<VersionRange> {
        let cap = self.version_cap()?;
        self.versions().intersect(VersionRange::new(i16::MIN, cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_were_reviewed_against_the_generated_specs() {
        let mut stale = Vec::new();
        for &api in ApiKey::ALL {
            match REVIEWED_CAPS.iter().find(|(known, _, _)| *known == api) {
                None => stale.push(format!(
                    "{api}: no reviewed cap (spec max {})",
                    api.versions().max
                )),
                Some(&(_, _, reviewed)) if reviewed != api.versions().max => stale.push(format!(
                    "{api}: spec max is now {}, the cap was reviewed at {reviewed}",
                    api.versions().max
                )),
                Some(_) => {}
            }
        }
        assert!(
            stale.is_empty(),
            "review the version caps in version_cap.rs:\n  {}",
            stale.join("\n  ")
        );
    }

    #[test]
    fn every_cap_is_a_version_this_build_can_write() {
        for &(api, cap, _) in REVIEWED_CAPS {
            assert!(
                api.versions().contains(cap),
                "{api}: cap {cap} outside {}",
                api.versions()
            );
        }
    }

    #[test]
    fn each_api_is_reviewed_once() {
        for (index, (api, _, _)) in REVIEWED_CAPS.iter().enumerate() {
            assert!(
                !REVIEWED_CAPS[..index]
                    .iter()
                    .any(|(other, _, _)| other == api),
                "{api} listed twice"
            );
        }
    }
}
