//! The classic `advertised.listeners` mistake, reproduced with an in-process fake broker that
//! answers the bootstrap (ApiVersions, Metadata) but advertises an address nobody listens on.

mod common;

use std::time::{Duration, Instant};

use common::{config, dead_addr, run};
use klamm_cluster::{Cluster, ClusterError};
use klamm_protocol::messages::api_versions_response::ApiVersion;
use klamm_protocol::messages::metadata_response::MetadataResponseBroker;
use klamm_protocol::messages::{ApiVersionsResponse, MetadataRequest, MetadataResponse};
use klamm_protocol::ApiKey;
use klamm_test_harness::fake_broker::{FakeBroker, Reply};

/// Starts a fake broker advertising `advertised` as broker 7; returns its own address.
async fn fake_broker(advertised: String) -> String {
    let broker = FakeBroker::start(move |call| match call.api {
        ApiKey::ApiVersions => Reply::encode(
            &ApiVersionsResponse::default().with_api_keys(
                [ApiKey::ApiVersions, ApiKey::Metadata]
                    .iter()
                    .map(|api| {
                        ApiVersion::default()
                            .with_api_key(api.key())
                            .with_min_version(0)
                            .with_max_version(api.versions().max)
                    })
                    .collect(),
            ),
            call.version,
        ),
        ApiKey::Metadata => {
            let Some((host, port)) = advertised.rsplit_once(':') else {
                return Reply::Close;
            };
            Reply::encode(
                &MetadataResponse::default()
                    .with_brokers(vec![MetadataResponseBroker::default()
                        .with_node_id(7)
                        .with_host(host.into())
                        .with_port(port.parse().unwrap_or_default())])
                    .with_controller_id(7)
                    .with_cluster_id(Some("fake-cluster".into())),
                call.version,
            )
        }
        _ => Reply::Close,
    })
    .await;
    broker.addr().to_string()
}

#[test]
fn unreachable_advertised_address_is_named_with_broker_and_bootstrap() {
    run(async {
        let advertised = dead_addr();
        let bootstrap = fake_broker(advertised.clone()).await;
        // Connecting succeeds: only the bootstrap is contacted.
        let cluster = Cluster::connect(config(&bootstrap, Duration::from_millis(1500)))
            .await
            .unwrap();
        assert_eq!(cluster.brokers()[0].id, 7);
        let started = Instant::now();
        let error = cluster
            .send_to_controller(MetadataRequest::default())
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let text = error.to_string();
        for needle in [
            format!("broker 7 advertises {advertised}"),
            format!("the bootstrap server {bootstrap} answered"),
            "advertised.listeners".to_owned(),
        ] {
            assert!(text.contains(&needle), "`{needle}` not in: {text}");
        }
        match &error {
            ClusterError::DeadlineExceeded { last_error, .. } => assert!(matches!(
                last_error.as_deref(),
                Some(ClusterError::AdvertisedListenerUnreachable { broker_id: 7, .. })
            )),
            other => panic!("unexpected {other:?}"),
        }
    });
}
