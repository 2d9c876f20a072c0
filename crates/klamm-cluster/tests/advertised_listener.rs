//! The classic `advertised.listeners` mistake, reproduced with an in-process fake broker that
//! answers the bootstrap (ApiVersions, Metadata) but advertises an address nobody listens on.

mod common;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use common::{config, dead_addr, run};
use klamm_cluster::{Cluster, ClusterError};
use klamm_protocol::messages::api_versions_response::ApiVersion;
use klamm_protocol::messages::metadata_response::MetadataResponseBroker;
use klamm_protocol::messages::{
    ApiVersionsResponse, MetadataRequest, MetadataResponse, RequestHeader, ResponseHeader,
};
use klamm_protocol::primitives::Decoder;
use klamm_protocol::{ApiKey, Decode, Encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Starts a fake broker advertising `advertised` as broker 7; returns its own address.
async fn fake_broker(advertised: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let advertised = advertised.clone();
            tokio::spawn(async move {
                loop {
                    let mut len = [0u8; 4];
                    if socket.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
                    if socket.read_exact(&mut payload).await.is_err() {
                        return;
                    }
                    let payload = Bytes::from(payload);
                    let api =
                        ApiKey::from_key(i16::from_be_bytes([payload[0], payload[1]])).unwrap();
                    let version = i16::from_be_bytes([payload[2], payload[3]]);
                    let mut decoder = Decoder::new(&payload);
                    let header =
                        RequestHeader::decode(&mut decoder, api.request_header_version(version))
                            .unwrap();
                    let response_header = ResponseHeader {
                        correlation_id: header.correlation_id,
                        ..Default::default()
                    };
                    let mut buf = BytesMut::new();
                    response_header
                        .encode(&mut buf, api.response_header_version(version))
                        .unwrap();
                    match api {
                        ApiKey::ApiVersions => ApiVersionsResponse {
                            api_keys: [ApiKey::ApiVersions, ApiKey::Metadata]
                                .iter()
                                .map(|api| ApiVersion {
                                    api_key: api.key(),
                                    min_version: 0,
                                    max_version: api.versions().max,
                                    ..Default::default()
                                })
                                .collect(),
                            ..Default::default()
                        }
                        .encode(&mut buf, version)
                        .unwrap(),
                        ApiKey::Metadata => {
                            let (host, port) = advertised.rsplit_once(':').unwrap();
                            MetadataResponse {
                                brokers: vec![MetadataResponseBroker {
                                    node_id: 7,
                                    host: host.into(),
                                    port: port.parse().unwrap(),
                                    ..Default::default()
                                }],
                                controller_id: 7,
                                cluster_id: Some("fake-cluster".into()),
                                ..Default::default()
                            }
                            .encode(&mut buf, version)
                            .unwrap()
                        }
                        _ => return,
                    }
                    let mut frame = (buf.len() as u32).to_be_bytes().to_vec();
                    frame.extend_from_slice(&buf);
                    if socket.write_all(&frame).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
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
