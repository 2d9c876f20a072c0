//! KIP-848 ("consumer" protocol) groups against the single broker: a member made with raw
//! ConsumerGroupHeartbeat requests, then seen through `describe_consumer_groups` and
//! `list_consumer_groups`.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{admin, run, single, unique};
use klamm_admin::{
    Admin, CreateTopicsOptions, DeleteTopicsOptions, ListConsumerGroupsOptions, NewTopic, TopicRef,
};
use klamm_cluster::{Call, CoordinatorType, ResponseError, Target};
use klamm_protocol::messages::{ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse};
use klamm_protocol::primitives::Uuid;
use klamm_protocol::ErrorCode;

/// A fresh member id: the 22-character base64 form of a (pseudo-random) Uuid, as the Java
/// consumer generates it.
fn member_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(nanos as u64).to_be_bytes());
    bytes[8..12].copy_from_slice(&std::process::id().to_be_bytes());
    bytes[12..].copy_from_slice(&((nanos >> 64) as u32 ^ 0x5a5a_a5a5).to_be_bytes());
    let id = Uuid::from_bytes(bytes).to_string();
    assert_eq!(id.len(), 22, "{id}");
    id
}

async fn heartbeat(
    admin: &Admin,
    request: ConsumerGroupHeartbeatRequest,
) -> ConsumerGroupHeartbeatResponse {
    let group = request.group_id.to_string();
    // Coordinator errors (a coordinator still loading, or moved) are retried by `call`.
    let response = admin
        .cluster()
        .call(
            Call::new(
                Target::Coordinator(CoordinatorType::Group, group),
                move |_| request.clone(),
            )
            .classify(|response: &ConsumerGroupHeartbeatResponse| {
                match ErrorCode::from_code(response.error_code) {
                    code @ (ErrorCode::NotCoordinator
                    | ErrorCode::CoordinatorNotAvailable
                    | ErrorCode::CoordinatorLoadInProgress) => Err(ResponseError::new(code)),
                    _ => Ok(()),
                }
            })
            .timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("ConsumerGroupHeartbeat is answered");
    assert_eq!(
        ErrorCode::from_code(response.error_code),
        ErrorCode::None,
        "heartbeat failed: {:?}",
        response.error_message
    );
    response
}

#[test]
fn a_kip_848_member_is_described_and_listed() {
    let env = single();
    let topic = unique("kip848");
    let group = unique("kip848-group");
    let member = member_id();
    run(async {
        let admin = admin(env).await;
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        assert!(admin
            .create_topics(&[NewTopic::new(&topic, 3, 1)], options)
            .await
            .unwrap()
            .all_ok());

        // Join (epoch 0) with a subscription, then heartbeat until the member owns all 3
        // partitions (a single member is given everything by the server assignor).
        let join = ConsumerGroupHeartbeatRequest::default()
            .with_group_id(group.as_str().into())
            .with_member_id(member.as_str().into())
            .with_member_epoch(0)
            .with_rebalance_timeout_ms(30_000)
            .with_subscribed_topic_names(Some(vec![topic.as_str().into()]))
            .with_server_assignor(Some("uniform".into()))
            .with_topic_partitions(Some(vec![]));
        let joined = heartbeat(&admin, join).await;
        let mut epoch = joined.member_epoch;
        assert!(epoch > 0, "joined with epoch {epoch}");
        if let Some(id) = &joined.member_id {
            assert_eq!(id.to_string(), member);
        }
        let mut owned: Vec<i32> = Vec::new();
        let mut owned_raw = Vec::new();
        let mut assignment = joined.assignment.clone();
        for _ in 0..20 {
            if let Some(a) = &assignment {
                owned = a
                    .topic_partitions
                    .iter()
                    .flat_map(|tp| tp.partitions.clone())
                    .collect();
                owned.sort_unstable();
                owned_raw = a
                    .topic_partitions
                    .iter()
                    .map(|tp| klamm_protocol::messages::consumer_group_heartbeat_request::TopicPartitions::default().with_topic_id(tp.topic_id).with_partitions(tp.partitions.clone()))
                    .collect();
            }
            if owned == vec![0, 1, 2] {
                // Acknowledge the assignment with one more heartbeat carrying it.
                let ack = heartbeat(
                    &admin,
                    ConsumerGroupHeartbeatRequest::default()
                        .with_group_id(group.as_str().into())
                        .with_member_id(member.as_str().into())
                        .with_member_epoch(epoch)
                        .with_topic_partitions(Some(owned_raw.clone())),
                )
                .await;
                assert!(
                    ack.member_epoch >= epoch,
                    "epoch went back: {}",
                    ack.member_epoch
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let beat = heartbeat(
                &admin,
                ConsumerGroupHeartbeatRequest::default()
                    .with_group_id(group.as_str().into())
                    .with_member_id(member.as_str().into())
                    .with_member_epoch(epoch)
                    .with_topic_partitions(Some(owned_raw.clone())),
            )
            .await;
            epoch = beat.member_epoch;
            if beat.assignment.is_some() {
                assignment = beat.assignment;
            }
        }
        assert_eq!(owned, vec![0, 1, 2], "the member never got the partitions");

        // Described through ConsumerGroupDescribe.
        let described = admin
            .describe_consumer_groups(
                std::slice::from_ref(&group),
                klamm_admin::DescribeConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        let description = described[&group].as_ref().unwrap();
        assert_eq!(description.group_id, group);
        assert_eq!(description.group_type, "consumer", "{description:?}");
        assert_eq!(description.protocol_type.as_deref(), Some("consumer"));
        assert_ne!(description.state, "Dead", "{description:?}");
        assert!(!description.state.as_str().is_empty(), "{description:?}");
        assert_eq!(description.assignor.as_deref(), Some("uniform"));
        assert!(description.group_epoch.unwrap_or(0) > 0, "{description:?}");
        assert!(!description.is_simple_consumer_group);
        assert_eq!(description.members.len(), 1, "{description:?}");
        let m = &description.members[0];
        assert_eq!(m.member_id, member);
        assert_eq!(m.client_id, "klamm-admin-tests");
        assert!(!m.client_host.is_empty(), "{m:?}");
        assert_eq!(m.subscribed_topics, vec![topic.clone()]);
        assert_eq!(m.subscribed_topic_regex, None);
        assert!(m.member_epoch.unwrap_or(0) > 0, "{m:?}");
        assert_eq!(m.assignment.len(), 1, "{m:?}");
        assert_eq!(m.assignment[0].topic, topic);
        let mut partitions = m.assignment[0].partitions.clone();
        partitions.sort_unstable();
        assert_eq!(partitions, vec![0, 1, 2]);
        let target = m.target_assignment.as_ref().expect("target assignment");
        assert_eq!(target.len(), 1, "{m:?}");
        assert_eq!(target[0].topic, topic);
        assert_eq!(m.subscription, None);
        assert_eq!(m.decode_error, None);

        // Listed with its type.
        let listing = admin
            .list_consumer_groups(ListConsumerGroupsOptions::default())
            .await
            .unwrap();
        assert!(listing.errors.is_empty(), "{:?}", listing.errors);
        let listed = listing
            .groups
            .iter()
            .find(|g| g.group_id == group)
            .unwrap_or_else(|| panic!("{group} not in {:?}", listing.groups));
        assert_eq!(
            listed.group_type.as_ref().map(|v| v.as_str()),
            Some("consumer"),
            "{listed:?}"
        );
        assert_eq!(listed.protocol_type, "consumer", "{listed:?}");
        assert_ne!(
            listed.state.as_ref().map(|v| v.as_str()),
            Some("Dead"),
            "{listed:?}"
        );
        // Filtering by type finds it too, and `classic` does not.
        let consumer_only = admin
            .list_consumer_groups(
                ListConsumerGroupsOptions::default().types(vec!["consumer".into()]),
            )
            .await
            .unwrap();
        assert!(consumer_only.groups.iter().any(|g| g.group_id == group));
        let classic_only = admin
            .list_consumer_groups(
                ListConsumerGroupsOptions::default().types(vec!["classic".into()]),
            )
            .await
            .unwrap();
        assert!(!classic_only.groups.iter().any(|g| g.group_id == group));

        // Leave (epoch -1): the group is then empty.
        let left = heartbeat(
            &admin,
            ConsumerGroupHeartbeatRequest::default()
                .with_group_id(group.as_str().into())
                .with_member_id(member.as_str().into())
                .with_member_epoch(-1),
        )
        .await;
        assert_eq!(left.member_epoch, -1);
        let described = admin
            .describe_consumer_groups(
                std::slice::from_ref(&group),
                klamm_admin::DescribeConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        let description = described[&group].as_ref().unwrap();
        assert_eq!(description.group_type, "consumer");
        assert!(description.members.is_empty(), "{description:?}");
        assert_eq!(description.state, "Empty", "{description:?}");

        // Clean up.
        let deleted = admin
            .delete_consumer_groups(
                std::slice::from_ref(&group),
                klamm_admin::DeleteConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        assert!(deleted.all_ok(), "{deleted:?}");
        let deleted = admin
            .delete_topics(
                &[TopicRef::from(topic.as_str())],
                DeleteTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert!(deleted.all_ok(), "{deleted:?}");
        admin.close();
    });
}
