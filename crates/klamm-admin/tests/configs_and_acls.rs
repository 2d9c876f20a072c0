//! Configs, ACLs and authorization against the harness's single broker, with kafka-python
//! as the independent check for ACLs.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{admin, oracle, run, single, unique};
use klamm_admin::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AclResourceType, Admin,
    AdminConfig, AdminError, AlterConfigOp, AlterConfigsOptions, ConfigEntry, ConfigResource,
    ConfigSource, CreateTopicsOptions, DeleteTopicsOptions, DescribeConfigsOptions, ErrorCode,
    NewTopic, PatternType, TopicRef,
};

#[test]
fn topic_configs_are_described_altered_and_reset_per_resource() {
    let env = single();
    run(async {
        let admin = admin(env).await;
        let name = unique("configs");
        let options = CreateTopicsOptions::default().wait_for_metadata(true);
        admin
            .create_topics(
                &[NewTopic::new(&name, 1, 1).config("retention.ms", "3600000")],
                options,
            )
            .await
            .unwrap();
        let topic = ConfigResource::topic(&name);
        let missing = ConfigResource::topic(unique("no-such-topic"));

        let described = admin
            .describe_configs(
                &[topic.clone(), missing.clone()],
                DescribeConfigsOptions::default()
                    .include_synonyms(true)
                    .include_documentation(true),
            )
            .await
            .unwrap();
        let entries = described[&topic].as_ref().unwrap();
        let retention = entries.iter().find(|e| e.name == "retention.ms").unwrap();
        assert_eq!(retention.value.as_deref(), Some("3600000"));
        assert_eq!(retention.source, ConfigSource::DynamicTopicConfig);
        assert!(!retention.synonyms.is_empty());
        assert!(retention.documentation.is_some());
        assert!(retention.config_type.is_some());
        assert_eq!(
            described[&missing].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::UnknownTopicOrPartition)
        );

        // Incremental: set one key, the other stays; an invalid value fails only its resource.
        let changes = vec![
            (
                topic.clone(),
                vec![AlterConfigOp::set("segment.ms", "7200000")],
            ),
            (missing.clone(), vec![AlterConfigOp::set("segment.ms", "1")]),
        ];
        let altered = admin
            .incremental_alter_configs(changes.clone(), AlterConfigsOptions::default())
            .await
            .unwrap();
        assert!(altered[&topic].is_ok(), "{altered:?}");
        assert!(altered[&missing].is_err());
        let invalid = vec![(
            topic.clone(),
            vec![AlterConfigOp::set("cleanup.policy", "sometimes")],
        )];
        let refused = admin
            .incremental_alter_configs(invalid.clone(), AlterConfigsOptions::default())
            .await
            .unwrap();
        assert_eq!(
            refused[&topic].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::InvalidConfig)
        );

        let filtered = DescribeConfigsOptions::default()
            .names(Some(vec!["retention.ms".into(), "segment.ms".into()]));
        let entries = configs_settled(&admin, &topic, &filtered, |entries| {
            entries
                .iter()
                .all(|e| e.source == ConfigSource::DynamicTopicConfig)
        })
        .await;
        assert_eq!(entries.len(), 2);
        assert!(
            entries
                .iter()
                .all(|e| e.source == ConfigSource::DynamicTopicConfig),
            "{entries:?}"
        );

        // Delete one override: back to the default.
        let delete = vec![(topic.clone(), vec![AlterConfigOp::delete("segment.ms")])];
        assert!(admin
            .incremental_alter_configs(delete.clone(), AlterConfigsOptions::default())
            .await
            .unwrap()
            .all_ok());
        // Legacy alter_configs replaces everything: retention.ms, not named, is reset.
        let replace = vec![(
            topic.clone(),
            BTreeMap::from([("segment.ms".to_owned(), "3600000".to_owned())]),
        )];
        assert!(admin
            .alter_configs(replace.clone(), AlterConfigsOptions::default())
            .await
            .unwrap()
            .all_ok());
        let entries = configs_settled(&admin, &topic, &filtered, |entries| {
            entries
                .iter()
                .any(|e| e.name == "retention.ms" && e.source == ConfigSource::DefaultConfig)
        })
        .await;
        let source = |name: &str| entries.iter().find(|e| e.name == name).unwrap().source;
        assert_eq!(source("segment.ms"), ConfigSource::DynamicTopicConfig);
        assert_eq!(
            source("retention.ms"),
            ConfigSource::DefaultConfig,
            "the legacy call resets unnamed keys"
        );

        // A broker resource goes to that broker.
        let broker = ConfigResource::broker(1);
        let described = admin
            .describe_configs(
                std::slice::from_ref(&broker),
                DescribeConfigsOptions::default().names(Some(vec!["log.cleaner.threads".into()])),
            )
            .await
            .unwrap();
        assert_eq!(described[&broker].as_ref().unwrap().len(), 1);
        let unknown_broker = ConfigResource::broker(99);
        let described = admin
            .describe_configs(
                std::slice::from_ref(&unknown_broker),
                DescribeConfigsOptions::default().timeout(Duration::from_secs(3)),
            )
            .await
            .unwrap();
        assert!(
            matches!(described[&unknown_broker], Err(AdminError::Cluster(_))),
            "{described:?}"
        );
    });
}

#[test]
fn acls_round_trip_and_kafka_python_agrees() {
    let env = single();
    run(async {
        let admin = admin(env).await;
        let topic = unique("acl");
        let principal = format!("User:{}", unique("alice"));
        let read = AclBinding::allow(
            AclResourceType::Topic,
            &topic,
            &principal,
            AclOperation::Read,
        );
        let write = AclBinding {
            operation: AclOperation::Write,
            ..read.clone()
        };
        let prefixed = AclBinding {
            pattern_type: PatternType::Prefixed,
            operation: AclOperation::Describe,
            ..read.clone()
        };
        let invalid = AclBinding {
            pattern_type: PatternType::Match,
            ..read.clone()
        };
        let created = admin
            .create_acls(
                &[
                    read.clone(),
                    write.clone(),
                    prefixed.clone(),
                    invalid.clone(),
                ],
                klamm_admin::CreateAclsOptions::default(),
            )
            .await
            .unwrap();
        assert!(
            created[&read].is_ok() && created[&write].is_ok() && created[&prefixed].is_ok(),
            "{created:?}"
        );
        assert!(matches!(
            created[&invalid],
            Err(AdminError::InvalidArgument { .. })
        ));

        let literal = AclBindingFilter {
            pattern_type: PatternType::Literal,
            ..read.to_filter()
        };
        let literal = AclBindingFilter {
            operation: AclOperation::Any,
            ..literal
        };
        // KRaft brokers apply ACL changes from the metadata log a moment after the controller
        // accepts them, so reads poll until they see the change (or time runs out).
        let found = acls_settled(&admin, &literal, |found| found.len() == 2).await;
        assert_eq!(found, vec![read.clone(), write.clone()]);
        let matching = AclBindingFilter {
            pattern_type: PatternType::Match,
            operation: AclOperation::Any,
            ..read.to_filter()
        };
        let matched = acls_settled(&admin, &matching, |found| found.len() == 3).await;
        assert_eq!(matched.len(), 3, "{matched:#?}");

        // kafka-python sees Klamm's ACLs, and Klamm sees kafka-python's.
        let seen = oracle(
            "admin_oracle.py",
            "describe-acls",
            &env.bootstrap_plaintext,
            &["--topic", &topic],
        );
        let ops: Vec<&str> = seen["acls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["operation"].as_str().unwrap())
            .collect();
        assert_eq!(ops, vec!["READ", "WRITE"], "{seen}");
        let other = format!("User:{}", unique("bob"));
        oracle(
            "admin_oracle.py",
            "create-acl",
            &env.bootstrap_plaintext,
            &["--topic", &topic, "--principal", &other],
        );
        let by_bob = AclBindingFilter {
            principal: Some(other.clone()),
            ..literal.clone()
        };
        let found = acls_settled(&admin, &by_bob, |found| found.len() == 1).await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].permission, AclPermissionType::Allow);
        assert_eq!(found[0].operation, AclOperation::Read);

        let deleted = admin
            .delete_acls(
                &[literal.clone(), prefixed.to_filter(), by_bob.clone()],
                klamm_admin::DeleteAclsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(deleted[&literal].as_ref().unwrap().deleted.len(), 2);
        assert_eq!(deleted[&by_bob].as_ref().unwrap().deleted.len(), 1);
        assert_eq!(
            deleted[&prefixed.to_filter()]
                .as_ref()
                .unwrap()
                .deleted
                .len(),
            1
        );
        assert!(acls_settled(&admin, &matching, |found| found.is_empty())
            .await
            .is_empty());
    });
}

/// Describes one resource's configs until `settled` holds for its entries, for up to ten
/// seconds (KRaft brokers apply config changes a moment after the controller accepts them), and
/// returns the last entries either way.
async fn configs_settled(
    admin: &Admin,
    resource: &ConfigResource,
    options: &DescribeConfigsOptions,
    settled: impl Fn(&[ConfigEntry]) -> bool,
) -> Vec<ConfigEntry> {
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let described = admin
            .describe_configs(std::slice::from_ref(resource), options.clone())
            .await
            .unwrap();
        let entries = described[resource].as_ref().unwrap().clone();
        if settled(&entries) || std::time::Instant::now() >= give_up {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Describes ACLs until `settled` holds for what comes back, for up to ten seconds, and returns
/// the last answer either way (the caller's assertion then says what was wrong).
async fn acls_settled(
    admin: &Admin,
    filter: &AclBindingFilter,
    settled: impl Fn(&[AclBinding]) -> bool,
) -> Vec<AclBinding> {
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = admin
            .describe_acls(filter, klamm_admin::DescribeAclsOptions::default())
            .await
            .unwrap();
        if settled(&found) || std::time::Instant::now() >= give_up {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn unauthorized_sasl_user_gets_per_resource_authorization_errors() {
    let env = single();
    let sasl = env.sasl.as_ref().expect("single profile has SASL");
    let bootstrap = env.bootstrap_sasl_plaintext.as_deref().unwrap();
    let properties = format!(
        "bootstrap.servers={bootstrap}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{}\";\n\
         default.api.timeout.ms=20000\n",
        sasl.user, sasl.password
    );
    let user_config = AdminConfig::from_properties(&properties).unwrap();
    let admin_properties = properties
        .replace(&sasl.user, &sasl.admin_user)
        .replace(&sasl.password, &sasl.admin_password);
    run(async {
        let super_user = Admin::connect(AdminConfig::from_properties(&admin_properties).unwrap())
            .await
            .unwrap();
        let name = unique("sasl");
        let created = super_user
            .create_topics(
                &[NewTopic::new(&name, 1, 1)],
                CreateTopicsOptions::default().wait_for_metadata(true),
            )
            .await
            .unwrap();
        assert!(created.all_ok(), "{created:?}");

        let user = Admin::connect(user_config).await.unwrap();
        let denied = unique("denied");
        let created = user
            .create_topics(
                &[NewTopic::new(&denied, 1, 1)],
                CreateTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            created[&denied].as_ref().unwrap_err().error_code(),
            Some(ErrorCode::TopicAuthorizationFailed)
        );
        let described = user
            .describe_topics(
                &[TopicRef::from(name.as_str())],
                klamm_admin::DescribeTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            described[&TopicRef::from(name.as_str())]
                .as_ref()
                .unwrap_err()
                .error_code(),
            Some(ErrorCode::TopicAuthorizationFailed)
        );
        let configs = user
            .describe_configs(
                &[ConfigResource::topic(&name)],
                DescribeConfigsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            configs[&ConfigResource::topic(&name)]
                .as_ref()
                .unwrap_err()
                .error_code(),
            Some(ErrorCode::TopicAuthorizationFailed)
        );
        // Listing hides what the user may not see instead of failing.
        assert!(!user
            .list_topics(klamm_admin::ListTopicsOptions::default())
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == name));
        let acls = user
            .describe_acls(
                &AclBindingFilter::any(),
                klamm_admin::DescribeAclsOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(
            acls.error_code(),
            Some(ErrorCode::ClusterAuthorizationFailed),
            "{acls}"
        );
        super_user
            .delete_topics(
                &[TopicRef::from(name.as_str())],
                DeleteTopicsOptions::default(),
            )
            .await
            .unwrap();
    });
}
