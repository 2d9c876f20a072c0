//! A create or delete whose first attempt got no answer (it timed out after being sent) is
//! retried by the cluster layer; the retry then hears TOPIC_ALREADY_EXISTS /
//! UNKNOWN_TOPIC_OR_PARTITION about our own success. An in-process fake broker plays that
//! script: it applies the first CreateTopics / DeleteTopics silently and answers the retry
//! with the error. klamm-admin must report what the metadata says instead.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::run;
use klamm_admin::{
    Admin, AdminConfig, CreateTopicsOptions, DeleteTopicsOptions, NewTopic, TopicRef, WriteOutcome,
};
use klamm_protocol::messages::api_versions_response::ApiVersion;
use klamm_protocol::messages::create_topics_response::CreatableTopicResult;
use klamm_protocol::messages::delete_topics_response::DeletableTopicResult;
use klamm_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use klamm_protocol::messages::{
    ApiVersionsResponse, CreateTopicsResponse, DeleteTopicsResponse, MetadataResponse,
};
use klamm_protocol::ApiKey;
use klamm_test_harness::fake_broker::{FakeBroker, Reply};

#[derive(Default)]
struct State {
    exists: AtomicBool,
    creates: AtomicU32,
    deletes: AtomicU32,
}

async fn fake_broker(state: Arc<State>) -> String {
    let broker = FakeBroker::start(move |call| {
        let version = call.version;
        match call.api {
            ApiKey::ApiVersions => Reply::encode(
                &ApiVersionsResponse::default().with_api_keys(
                    [
                        ApiKey::ApiVersions,
                        ApiKey::Metadata,
                        ApiKey::CreateTopics,
                        ApiKey::DeleteTopics,
                    ]
                    .iter()
                    .map(|api| {
                        ApiVersion::default()
                            .with_api_key(api.key())
                            .with_min_version(api.versions().min)
                            .with_max_version(api.versions().max)
                    })
                    .collect(),
                ),
                version,
            ),
            ApiKey::Metadata => Reply::encode(
                &MetadataResponse::default()
                    .with_brokers(vec![MetadataResponseBroker::default()
                        .with_node_id(1)
                        .with_host(call.addr.ip().to_string().as_str().into())
                        .with_port(i32::from(call.addr.port()))])
                    .with_controller_id(1)
                    .with_cluster_id(Some("fake".into()))
                    .with_topics(if state.exists.load(Ordering::SeqCst) {
                        vec![MetadataResponseTopic::default()
                            .with_name(Some("ghost".into()))
                            .with_partitions(vec![MetadataResponsePartition::default()
                                .with_partition_index(0)
                                .with_leader_id(1)
                                .with_replica_nodes([1].into())
                                .with_isr_nodes([1].into())])]
                    } else {
                        vec![]
                    }),
                version,
            ),
            ApiKey::CreateTopics => {
                if state.creates.fetch_add(1, Ordering::SeqCst) == 0 {
                    // Applied, but the answer is lost.
                    state.exists.store(true, Ordering::SeqCst);
                    return Reply::Ignore;
                }
                Reply::encode(
                    &CreateTopicsResponse::default().with_topics(vec![
                        CreatableTopicResult::default()
                            .with_name("ghost".into())
                            .with_error_code(36)
                            .with_error_message(Some("Topic 'ghost' already exists.".into())),
                    ]),
                    version,
                )
            }
            ApiKey::DeleteTopics => {
                if state.deletes.fetch_add(1, Ordering::SeqCst) == 0 {
                    state.exists.store(false, Ordering::SeqCst);
                    return Reply::Ignore;
                }
                Reply::encode(
                    &DeleteTopicsResponse::default().with_responses(vec![
                        DeletableTopicResult::default()
                            .with_name(Some("ghost".into()))
                            .with_error_code(3),
                    ]),
                    version,
                )
            }
            _ => Reply::Close,
        }
    })
    .await;
    broker.addr().to_string()
}

#[test]
fn retried_create_and_delete_report_the_real_outcome() {
    run(async {
        let state = Arc::new(State::default());
        let bootstrap = fake_broker(state.clone()).await;
        let config = AdminConfig::builder()
            .bootstrap_servers(bootstrap)
            .request_timeout(Duration::from_millis(400))
            .default_api_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let admin = Admin::connect(config).await.unwrap();

        let created = admin
            .create_topics(
                &[NewTopic::new("ghost", 1, 1)],
                CreateTopicsOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            state.creates.load(Ordering::SeqCst),
            2,
            "the first attempt timed out and was retried"
        );
        let topic = created["ghost"].as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(topic.outcome, WriteOutcome::ConfirmedAfterRetry);
        assert_eq!(topic.num_partitions, Some(1));

        let deleted = admin
            .delete_topics(&[TopicRef::from("ghost")], DeleteTopicsOptions::default())
            .await
            .unwrap();
        assert_eq!(state.deletes.load(Ordering::SeqCst), 2);
        assert_eq!(
            deleted[&TopicRef::from("ghost")].as_ref().unwrap(),
            &WriteOutcome::ConfirmedAfterRetry
        );
    });
}
