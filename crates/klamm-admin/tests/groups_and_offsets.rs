//! Consumer groups and offsets against the single broker: groups made by kafka-python
//! (a consumer that commits, a simple group that only commits), checked both ways.

mod common;

use std::collections::BTreeMap;

use common::{admin, oracle, run, single, unique};
use klamm_admin::{
    CreateTopicsOptions, DeleteTopicsOptions, ErrorCode, GroupOffsetsSpec,
    ListConsumerGroupsOptions, ListGroupOffsetsOptions, ListOffsetsOptions, NewTopic,
    OffsetAndMetadata, OffsetSpec, TopicPartition, TopicRef,
};

#[test]
fn group_offsets_lag_alter_and_delete_agree_with_kafka_python() {
    let env = single();
    let bootstrap = env.bootstrap_plaintext.as_str();
    let topic = unique("offsets");
    let consumer_group = unique("consumer-group");
    let simple_group = unique("simple-group");
    run(async {
        let admin = admin(env).await;
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        assert!(admin
            .create_topics(&[NewTopic::new(&topic, 2, 1)], options)
            .await
            .unwrap()
            .all_ok());
    });
    // kafka-python produces 10 records and consumes them in a group that commits.
    let produced = oracle(
        "kafka_oracle.py",
        "produce-consume",
        bootstrap,
        &[
            "--topic",
            &topic,
            "--group",
            &consumer_group,
            "--count",
            "10",
        ],
    );
    assert_eq!(produced["consumed"], 10, "{produced}");
    // A simple group that only commits offsets.
    let p0 = format!("{topic}:0=1");
    oracle(
        "admin_oracle.py",
        "commit-offsets",
        bootstrap,
        &["--group", &simple_group, "--offsets", &p0],
    );

    run(async {
        let admin = admin(env).await;
        let tp0 = TopicPartition::new(topic.clone(), 0);
        let tp1 = TopicPartition::new(topic.clone(), 1);

        // Both groups in one call; committed offsets cover all 10 records, lag 0.
        let missing_group = unique("no-such-group");
        let listed = admin
            .list_consumer_group_offsets(
                &[
                    GroupOffsetsSpec::all(&consumer_group),
                    GroupOffsetsSpec::all(&simple_group),
                    GroupOffsetsSpec::all(&missing_group),
                ],
                ListGroupOffsetsOptions::default(),
            )
            .await
            .unwrap();
        let consumer = listed[&consumer_group].as_ref().unwrap();
        assert_eq!(
            consumer
                .partitions
                .iter()
                .map(|p| p.offset.unwrap())
                .sum::<i64>(),
            10,
            "{consumer:?}"
        );
        assert_eq!(consumer.total_lag, Some(0));
        let log_ends: i64 = consumer
            .partitions
            .iter()
            .map(|p| p.log_end_offset.unwrap())
            .sum();
        assert_eq!(log_ends, 10);
        let simple = listed[&simple_group].as_ref().unwrap();
        assert_eq!(simple.partitions.len(), 1);
        assert_eq!(simple.partitions[0].offset, Some(1));
        // The oracle's producer sends the 10 records round robin: 5 to each partition.
        let end0 = simple.partitions[0].log_end_offset.unwrap();
        assert_eq!(end0, 5);
        assert_eq!(simple.partitions[0].lag, Some(end0 - 1));
        // A group with no commits has no partitions (Kafka answers with an empty list).
        assert!(listed[&missing_group]
            .as_ref()
            .unwrap()
            .partitions
            .is_empty());

        // Listing and describing.
        let groups = admin
            .list_consumer_groups(ListConsumerGroupsOptions::default())
            .await
            .unwrap();
        assert!(groups.errors.is_empty(), "{:?}", groups.errors);
        let consumer_listing = groups
            .groups
            .iter()
            .find(|g| g.group_id == consumer_group)
            .expect("listed");
        assert_eq!(
            consumer_listing.state.as_ref().map(|v| v.as_str()),
            Some("Empty")
        );
        assert_eq!(
            consumer_listing.group_type.as_ref().map(|v| v.as_str()),
            Some("classic")
        );
        assert!(groups.groups.iter().any(|g| g.group_id == simple_group));
        let empty_only = admin
            .list_consumer_groups(
                ListConsumerGroupsOptions::default().states(vec!["Stable".into()]),
            )
            .await
            .unwrap();
        assert!(!empty_only
            .groups
            .iter()
            .any(|g| g.group_id == consumer_group));

        let described = admin
            .describe_consumer_groups(
                &[consumer_group.clone(), missing_group.clone()],
                klamm_admin::DescribeConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        let description = described[&consumer_group].as_ref().unwrap();
        assert_eq!(description.group_type, "classic");
        assert_eq!(description.state, "Empty");
        assert!(description.members.is_empty());
        assert!(description.authorized_operations.is_some());
        // DescribeGroups v6 (Kafka 4.x) says GROUP_ID_NOT_FOUND; older versions say "Dead".
        match &described[&missing_group] {
            Ok(group) => assert_eq!(group.state, "Dead"),
            Err(error) => assert_eq!(
                error.error_code(),
                Some(ErrorCode::GroupIdNotFound),
                "{error}"
            ),
        }

        // Alter: rewind partition 0 of the consumer group; kafka-python sees it.
        let rewind = BTreeMap::from([(tp0.clone(), OffsetAndMetadata::new(0))]);
        let altered = admin
            .alter_consumer_group_offsets(
                &consumer_group,
                rewind.clone(),
                klamm_admin::AlterGroupOffsetsOptions::default(),
            )
            .await
            .unwrap();
        assert!(altered.all_ok(), "{altered:?}");
        let query = format!("{topic}:0=0,{topic}:1=0");
        let seen = oracle(
            "admin_oracle.py",
            "committed",
            bootstrap,
            &["--group", &consumer_group, "--offsets", &query],
        );
        assert_eq!(seen["offsets"][format!("{topic}:0")], 0, "{seen}");
        let after = admin
            .list_consumer_group_offsets(
                &[GroupOffsetsSpec {
                    group_id: consumer_group.clone(),
                    partitions: Some(vec![tp0.clone()]),
                }],
                ListGroupOffsetsOptions::default(),
            )
            .await
            .unwrap();
        let after = after[&consumer_group].as_ref().unwrap();
        assert_eq!(after.partitions.len(), 1);
        assert_eq!(after.total_lag, after.partitions[0].log_end_offset);

        // Offsets: earliest, latest, max timestamp, then delete records and read earliest again.
        let wanted = BTreeMap::from([
            (tp0.clone(), OffsetSpec::Earliest),
            (tp1.clone(), OffsetSpec::Latest),
        ]);
        let offsets = admin
            .list_offsets(wanted.clone(), ListOffsetsOptions::default())
            .await
            .unwrap();
        assert_eq!(offsets[&tp0].as_ref().unwrap().offset, Some(0));
        let end1 = offsets[&tp1].as_ref().unwrap().offset.unwrap();
        assert_eq!(end0 + end1, 10);
        let max = admin
            .list_offsets(
                BTreeMap::from([(tp0.clone(), OffsetSpec::MaxTimestamp)]),
                ListOffsetsOptions::default(),
            )
            .await
            .unwrap();
        // The first record carrying the largest timestamp: several records may share it.
        let max = max[&tp0].as_ref().unwrap();
        assert!(
            max.offset.is_some_and(|o| (0..end0).contains(&o)) && max.timestamp.is_some(),
            "{max:?}"
        );
        let future = admin
            .list_offsets(
                BTreeMap::from([(tp0.clone(), OffsetSpec::Timestamp(i64::MAX / 2))]),
                ListOffsetsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(future[&tp0].as_ref().unwrap().offset, None);
        let bad_partition = TopicPartition::new(topic.clone(), 7);
        let unknown = admin
            .list_offsets(
                BTreeMap::from([(bad_partition.clone(), OffsetSpec::Latest)]),
                ListOffsetsOptions::default().timeout(std::time::Duration::from_secs(3)),
            )
            .await
            .unwrap();
        assert_eq!(
            unknown[&bad_partition].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::UnknownTopicOrPartition)
        );

        if end0 >= 2 {
            let deleted = admin
                .delete_records(
                    BTreeMap::from([(tp0.clone(), 2)]),
                    klamm_admin::DeleteRecordsOptions::default(),
                )
                .await
                .unwrap();
            assert_eq!(*deleted[&tp0].as_ref().unwrap(), 2);
            let offsets = admin
                .list_offsets(
                    BTreeMap::from([(tp0.clone(), OffsetSpec::Earliest)]),
                    ListOffsetsOptions::default(),
                )
                .await
                .unwrap();
            assert_eq!(offsets[&tp0].as_ref().unwrap().offset, Some(2));
        }

        // Delete the simple group's offset, then the groups themselves.
        let removed = admin
            .delete_consumer_group_offsets(
                &simple_group,
                std::slice::from_ref(&tp0),
                klamm_admin::DeleteGroupOffsetsOptions::default(),
            )
            .await
            .unwrap();
        assert!(removed.all_ok(), "{removed:?}");
        let listed = admin
            .list_consumer_group_offsets(
                &[GroupOffsetsSpec::all(&simple_group)],
                ListGroupOffsetsOptions::default(),
            )
            .await
            .unwrap();
        assert!(listed[&simple_group]
            .as_ref()
            .unwrap()
            .partitions
            .is_empty());

        let deleted = admin
            .delete_consumer_groups(
                &[
                    consumer_group.clone(),
                    simple_group.clone(),
                    missing_group.clone(),
                ],
                klamm_admin::DeleteConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        assert!(
            deleted[&consumer_group].is_ok() && deleted[&simple_group].is_ok(),
            "{deleted:?}"
        );
        assert_eq!(
            deleted[&missing_group].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::GroupIdNotFound)
        );

        // A group whose topic was deleted still lists.
        let orphan = unique("orphan-group");
        let orphan_offsets = BTreeMap::from([(tp1.clone(), OffsetAndMetadata::new(3))]);
        assert!(admin
            .alter_consumer_group_offsets(
                &orphan,
                orphan_offsets.clone(),
                klamm_admin::AlterGroupOffsetsOptions::default()
            )
            .await
            .unwrap()
            .all_ok());
        admin
            .delete_topics(
                &[TopicRef::from(topic.as_str())],
                DeleteTopicsOptions::default().wait_until_gone(true),
            )
            .await
            .unwrap();
        let listed = admin
            .list_consumer_group_offsets(
                &[GroupOffsetsSpec::all(&orphan)],
                ListGroupOffsetsOptions::default(),
            )
            .await
            .unwrap();
        let orphaned = listed[&orphan]
            .as_ref()
            .expect("a deleted topic does not fail the group");
        assert!(
            orphaned.partitions.iter().all(|p| p.lag.is_none()),
            "{orphaned:?}"
        );
    });
}

/// Joins `group` as a classic `consumer` member subscribed to `topic` and assigns itself
/// partition 0, speaking JoinGroup/SyncGroup directly; returns the member id.
async fn join_as_classic_consumer(admin: &klamm_admin::Admin, group: &str, topic: &str) -> String {
    use bytes::{BufMut, BytesMut};
    use klamm_cluster::{Call, CoordinatorType, ResponseError, Target};
    use klamm_protocol::messages::consumer_protocol_assignment::TopicPartition as Assigned;
    use klamm_protocol::messages::join_group_request::JoinGroupRequestProtocol;
    use klamm_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
    use klamm_protocol::messages::{
        ConsumerProtocolAssignment, ConsumerProtocolSubscription, JoinGroupRequest,
        SyncGroupRequest,
    };
    use klamm_protocol::Encode;

    let versioned = |version: i16, message: &dyn Fn(&mut BytesMut)| {
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        message(&mut buf);
        buf.freeze()
    };
    let subscription = ConsumerProtocolSubscription::default().with_topics(vec![topic.into()]);
    let metadata = versioned(1, &|buf| subscription.encode(buf, 1).unwrap());
    let target = Target::Coordinator(CoordinatorType::Group, group.to_owned());
    let retry = |code: i16| match klamm_protocol::ErrorCode::from_code(code) {
        klamm_protocol::ErrorCode::MemberIdRequired => Ok(()),
        _ => ResponseError::check(code),
    };
    let mut member_id = String::new();
    let joined = loop {
        let request = JoinGroupRequest::default()
            .with_group_id(group.into())
            .with_session_timeout_ms(30_000)
            .with_rebalance_timeout_ms(10_000)
            .with_member_id(member_id.as_str().into())
            .with_protocol_type("consumer".into())
            .with_protocols(vec![JoinGroupRequestProtocol::default()
                .with_name("range".into())
                .with_metadata(metadata.clone())]);
        let response = admin
            .cluster()
            .call(
                Call::new(target.clone(), move |_| request.clone())
                    .classify(|r| retry(r.error_code)),
            )
            .await
            .unwrap();
        if response.error_code == 0 {
            break response;
        }
        member_id = response.member_id.to_string();
    };
    let assignment =
        ConsumerProtocolAssignment::default().with_assigned_partitions(vec![Assigned::default()
            .with_topic(topic.into())
            .with_partitions([0].into())]);
    let bytes = versioned(3, &|buf| assignment.encode(buf, 3).unwrap());
    let member = joined.member_id.to_string();
    let sync = SyncGroupRequest::default()
        .with_group_id(group.into())
        .with_generation_id(joined.generation_id)
        .with_member_id(member.as_str().into())
        .with_protocol_type(Some("consumer".into()))
        .with_protocol_name(Some("range".into()))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(member.as_str().into())
            .with_assignment(bytes)]);
    admin
        .cluster()
        .call(
            Call::new(target, move |_| sync.clone())
                .classify(|r| ResponseError::check(r.error_code)),
        )
        .await
        .unwrap();
    member
}

#[test]
fn live_classic_member_is_described_with_decoded_subscription_and_assignment_then_removed() {
    let env = single();
    run(async {
        let admin = admin(env).await;
        let topic = unique("members");
        let group = unique("live-group");
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        assert!(admin
            .create_topics(&[NewTopic::new(&topic, 1, 1)], options)
            .await
            .unwrap()
            .all_ok());
        let member_id = join_as_classic_consumer(&admin, &group, &topic).await;

        let described = admin
            .describe_consumer_groups(
                std::slice::from_ref(&group),
                klamm_admin::DescribeConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        let description = described[&group].as_ref().unwrap();
        assert_eq!(
            description.group_type, "classic",
            "ConsumerGroupDescribe fell back to DescribeGroups"
        );
        assert_eq!(description.state, "Stable");
        assert_eq!(description.assignor.as_deref(), Some("range"));
        let member = &description.members[0];
        assert_eq!(member.member_id, member_id);
        assert_eq!(member.subscribed_topics, vec![topic.clone()]);
        assert_eq!(member.subscription.as_ref().unwrap().version, 1);
        assert_eq!(member.assignment.len(), 1);
        assert_eq!(member.assignment[0].topic, topic);
        assert_eq!(member.assignment[0].partitions, vec![0]);
        assert!(member.decode_error.is_none());
        let listed = admin
            .list_consumer_groups(ListConsumerGroupsOptions::default())
            .await
            .unwrap();
        let listing = listed.groups.iter().find(|g| g.group_id == group).unwrap();
        assert_eq!(listing.state.as_ref().map(|v| v.as_str()), Some("Stable"));

        // Deleting a group with members fails for that group; removing the member empties it.
        let deleted = admin
            .delete_consumer_groups(
                std::slice::from_ref(&group),
                klamm_admin::DeleteConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            deleted[&group].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::NonEmptyGroup)
        );
        let ghost = klamm_admin::MemberToRemove::Dynamic("ghost".into());
        let who = klamm_admin::MemberToRemove::Dynamic(member_id.clone());
        let removed = admin
            .remove_members_from_consumer_group(
                &group,
                &[who.clone(), ghost.clone()],
                klamm_admin::RemoveMembersOptions::default(),
            )
            .await
            .unwrap();
        assert!(removed[&who].is_ok(), "{removed:?}");
        assert_eq!(
            removed[&ghost].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::UnknownMemberId)
        );
        let described = admin
            .describe_consumer_groups(
                std::slice::from_ref(&group),
                klamm_admin::DescribeConsumerGroupsOptions::default(),
            )
            .await
            .unwrap();
        assert!(described[&group].as_ref().unwrap().members.is_empty());
        let json = serde_json::to_value(&described).unwrap();
        assert_eq!(json[0]["ok"]["group_type"], "classic");
        admin
            .delete_topics(
                &[TopicRef::from(topic.as_str())],
                DeleteTopicsOptions::default(),
            )
            .await
            .unwrap();
    });
}
