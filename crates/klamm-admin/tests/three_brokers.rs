//! klamm-admin against the harness's three-broker cluster: per-broker config routing,
//! manual assignments, fan-out listing, groups on several coordinators.

mod common;

use std::collections::BTreeMap;

use common::{admin, run, three, unique};
use klamm_admin::{
    AlterConfigOp, AlterConfigsOptions, ConfigResource, ConfigSource, CreatePartitionsOptions,
    CreateTopicsOptions, DeleteTopicsOptions, DescribeConfigsOptions, GroupOffsetsSpec,
    ListConsumerGroupsOptions, ListGroupOffsetsOptions, NewPartitions, NewTopic, OffsetAndMetadata,
    TopicPartition, TopicRef,
};
use klamm_admin::{ElectionOutcome, ElectionType};

#[test]
fn broker_config_change_reaches_the_named_broker_only() {
    let env = three();
    run(async {
        let admin = admin(env).await;
        let key = "log.cleaner.threads";
        let names = DescribeConfigsOptions::default()
            .names(Some(vec![key.into()]))
            .include_synonyms(true);
        let brokers: Vec<ConfigResource> =
            [1, 2, 3].into_iter().map(ConfigResource::broker).collect();
        let set = vec![(
            ConfigResource::broker(2),
            vec![AlterConfigOp::set(key, "2")],
        )];
        let altered = admin
            .incremental_alter_configs(set.clone(), AlterConfigsOptions::default())
            .await
            .unwrap();
        assert!(altered.all_ok(), "{altered:?}");

        // Each broker is asked about itself: only broker 2 has the dynamic value (once it has
        // replayed the change from the metadata log: KRaft applies it asynchronously).
        let mut described = admin
            .describe_configs(&brokers, names.clone())
            .await
            .unwrap();
        for _ in 0..50 {
            let on_two = described[&ConfigResource::broker(2)].as_ref().unwrap()[0]
                .value
                .clone();
            if on_two.as_deref() == Some("2") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            described = admin
                .describe_configs(&brokers, names.clone())
                .await
                .unwrap();
        }
        for (resource, entries) in described.iter() {
            let entry = entries
                .as_ref()
                .unwrap()
                .iter()
                .find(|e| e.name == key)
                .unwrap()
                .clone();
            if resource.name == "2" {
                assert_eq!(entry.value.as_deref(), Some("2"), "{entry:?}");
                assert_eq!(entry.source, ConfigSource::DynamicBrokerConfig);
                assert!(
                    entry.synonyms.len() >= 2,
                    "dynamic and static/default synonyms: {entry:?}"
                );
            } else {
                assert_ne!(
                    entry.source,
                    ConfigSource::DynamicBrokerConfig,
                    "{resource}: {entry:?}"
                );
                assert_eq!(entry.value.as_deref(), Some("1"), "{resource}: {entry:?}");
            }
        }
        // Broker loggers are per broker too.
        let loggers = admin
            .describe_configs(
                &[ConfigResource::broker_logger(3)],
                DescribeConfigsOptions::default(),
            )
            .await
            .unwrap();
        assert!(!loggers[&ConfigResource::broker_logger(3)]
            .as_ref()
            .unwrap()
            .is_empty());

        let reset = vec![(ConfigResource::broker(2), vec![AlterConfigOp::delete(key)])];
        assert!(admin
            .incremental_alter_configs(reset.clone(), AlterConfigsOptions::default())
            .await
            .unwrap()
            .all_ok());
        // The broker drops the dynamic source a moment before its reconfigured value shows, so
        // wait for both to settle.
        let mut current = None;
        for _ in 0..50 {
            let described = admin
                .describe_configs(&[ConfigResource::broker(2)], names.clone())
                .await
                .unwrap();
            let entry = described[&ConfigResource::broker(2)].as_ref().unwrap()[0].clone();
            let settled = entry.source != ConfigSource::DynamicBrokerConfig
                && entry.value.as_deref() == Some("1");
            current = Some(entry);
            if settled {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let current = current.expect("broker 2 was described");
        assert_eq!(current.value.as_deref(), Some("1"), "{current:?}");
        assert!(
            matches!(
                current.source,
                ConfigSource::DefaultConfig | ConfigSource::StaticBrokerConfig
            ),
            "{current:?}"
        );
    });
}

#[test]
fn manual_assignments_and_partitions_on_three_brokers() {
    let env = three();
    run(async {
        let admin = admin(env).await;
        let cluster = admin
            .describe_cluster(klamm_admin::DescribeClusterOptions::default())
            .await
            .unwrap();
        assert_eq!(
            cluster.brokers.iter().map(|b| b.id).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(cluster.cluster_id.as_deref(), Some(env.cluster_id.as_str()));

        let name = unique("assigned");
        let topic = NewTopic::with_broker_defaults(&name)
            .assign(0, vec![3, 1, 2])
            .config("min.insync.replicas", "2");
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        let created = admin.create_topics(&[topic], options).await.unwrap();
        assert!(created.all_ok(), "{created:?}");
        let grow = BTreeMap::from([(
            name.clone(),
            NewPartitions {
                total_count: 2,
                assignments: vec![vec![2, 3, 1]],
            },
        )]);
        assert!(admin
            .create_partitions(grow.clone(), CreatePartitionsOptions::default())
            .await
            .unwrap()
            .all_ok());
        // Partition 1's leader can take a moment to be elected.
        let mut description = None;
        for _ in 0..50 {
            let described = admin
                .describe_topics(
                    &[TopicRef::from(name.as_str())],
                    klamm_admin::DescribeTopicsOptions::default(),
                )
                .await
                .unwrap();
            let d = described[&TopicRef::from(name.as_str())]
                .as_ref()
                .unwrap()
                .clone();
            if d.partitions.len() == 2
                && d.partitions
                    .iter()
                    .all(|p| p.leader.is_some() && p.isr.len() == 3)
            {
                description = Some(d);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let description = description.expect("both partitions led and fully in sync");
        assert_eq!(description.partitions[0].replicas, vec![3, 1, 2]);
        assert_eq!(description.partitions[0].leader, Some(3));
        assert_eq!(description.partitions[1].replicas, vec![2, 3, 1]);

        let health = admin
            .cluster_health(klamm_admin::ClusterHealthOptions::default())
            .await
            .unwrap();
        assert!(
            !health.under_replicated.iter().any(|p| p.topic == name),
            "{}",
            health.summary()
        );
        assert!(health
            .leadership
            .iter()
            .any(|b| b.broker_id == 3 && b.leaders >= 1));

        admin
            .delete_topics(
                &[TopicRef::from(name.as_str())],
                DeleteTopicsOptions::default().wait_until_gone(true),
            )
            .await
            .unwrap();
    });
}

#[test]
fn groups_on_several_coordinators_are_listed_and_fetched_together() {
    let env = three();
    run(async {
        let admin = admin(env).await;
        let topic = unique("group-topic");
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        assert!(admin
            .create_topics(&[NewTopic::new(&topic, 3, 3)], options)
            .await
            .unwrap()
            .all_ok());
        let groups: Vec<String> = (0..6).map(|i| unique(&format!("g{i}"))).collect();
        for (i, group) in groups.iter().enumerate() {
            let offsets = BTreeMap::from([(
                TopicPartition::new(topic.clone(), (i % 3) as i32),
                OffsetAndMetadata::new(0),
            )]);
            let committed = admin
                .alter_consumer_group_offsets(
                    group,
                    offsets.clone(),
                    klamm_admin::AlterGroupOffsetsOptions::default(),
                )
                .await
                .unwrap();
            assert!(committed.all_ok(), "{committed:?}");
        }
        let listing = admin
            .list_consumer_groups(ListConsumerGroupsOptions::default())
            .await
            .unwrap();
        assert!(listing.errors.is_empty(), "{:?}", listing.errors);
        let coordinators: std::collections::BTreeSet<i32> = listing
            .groups
            .iter()
            .filter(|g| groups.contains(&g.group_id))
            .map(|g| g.coordinator)
            .collect();
        assert_eq!(
            listing
                .groups
                .iter()
                .filter(|g| groups.contains(&g.group_id))
                .count(),
            6
        );
        assert!(!coordinators.is_empty());

        let specs: Vec<GroupOffsetsSpec> = groups.iter().map(GroupOffsetsSpec::all).collect();
        let offsets = admin
            .list_consumer_group_offsets(&specs, ListGroupOffsetsOptions::default())
            .await
            .unwrap();
        for (i, group) in groups.iter().enumerate() {
            let group_offsets = offsets[group].as_ref().unwrap();
            assert_eq!(group_offsets.partitions.len(), 1, "{group_offsets:?}");
            assert_eq!(group_offsets.partitions[0].partition, (i % 3) as i32);
            assert_eq!(group_offsets.total_lag, Some(0));
        }
        assert!(admin
            .delete_consumer_groups(&groups, klamm_admin::DeleteConsumerGroupsOptions::default())
            .await
            .unwrap()
            .all_ok());
        admin
            .delete_topics(
                &[TopicRef::from(topic.as_str())],
                DeleteTopicsOptions::default(),
            )
            .await
            .unwrap();
    });
}

#[test]
fn reassignment_moves_replicas_then_preferred_election_and_log_dirs_follow() {
    let env = three();
    run(async {
        let admin = admin(env).await;
        let name = unique("moved");
        let tp = TopicPartition::new(name.clone(), 0);
        let topic = NewTopic::with_broker_defaults(&name).assign(0, vec![1, 2]);
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        assert!(admin
            .create_topics(&[topic], options)
            .await
            .unwrap()
            .all_ok());

        let moves = BTreeMap::from([(tp.clone(), Some(vec![3, 2]))]);
        let started = admin
            .alter_partition_reassignments(
                moves.clone(),
                klamm_admin::AlterReassignmentsOptions::default(),
            )
            .await
            .unwrap();
        assert!(started.all_ok(), "{started:?}");
        // Listing every partition (none named) includes ours while it moves, or it is done.
        let mut replicas = Vec::new();
        for _ in 0..100 {
            let ongoing = admin
                .list_partition_reassignments(
                    klamm_admin::Selection::All,
                    klamm_admin::ListReassignmentsOptions::default(),
                )
                .await
                .unwrap();
            let described = admin
                .describe_topics(
                    &[TopicRef::from(name.as_str())],
                    klamm_admin::DescribeTopicsOptions::default(),
                )
                .await
                .unwrap();
            replicas = described[&TopicRef::from(name.as_str())]
                .as_ref()
                .unwrap()
                .partitions[0]
                .replicas
                .clone();
            if !ongoing.contains_key(&tp) && replicas == vec![3, 2] {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(replicas, vec![3, 2]);

        let elected = admin
            .elect_leaders(
                ElectionType::Preferred,
                [tp.clone()],
                klamm_admin::ElectLeadersOptions::default(),
            )
            .await
            .unwrap();
        let outcome = elected[&tp].as_ref().unwrap();
        assert!(
            matches!(
                outcome,
                ElectionOutcome::Elected | ElectionOutcome::NotNeeded
            ),
            "{outcome:?}"
        );
        let described = admin
            .describe_topics(
                &[TopicRef::from(name.as_str())],
                klamm_admin::DescribeTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            described[&TopicRef::from(name.as_str())]
                .as_ref()
                .unwrap()
                .partitions[0]
                .leader,
            Some(3)
        );
        let unknown = TopicPartition::new(unique("nothing"), 0);
        let elected = admin
            .elect_leaders(
                ElectionType::Preferred,
                [unknown.clone()],
                klamm_admin::ElectLeadersOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            elected[&unknown].as_ref().unwrap_err().error_code(),
            Some(klamm_admin::ErrorCode::UnknownTopicOrPartition)
        );

        let dirs = admin
            .describe_log_dirs(
                klamm_admin::Selection::All,
                klamm_admin::DescribeLogDirsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(dirs.len(), 3);
        let hosts: Vec<i32> = dirs
            .iter()
            .filter(|(_, result)| {
                result
                    .as_ref()
                    .unwrap()
                    .iter()
                    .any(|dir| dir.replicas.iter().any(|r| r.topic == name))
            })
            .map(|(broker, _)| *broker)
            .collect();
        assert_eq!(hosts, vec![2, 3]);
        assert!(dirs[&1]
            .as_ref()
            .unwrap()
            .iter()
            .all(|d| d.error.is_none() && d.total_bytes.is_some()));
        admin
            .delete_topics(
                &[TopicRef::from(name.as_str())],
                DeleteTopicsOptions::default(),
            )
            .await
            .unwrap();
    });
}
