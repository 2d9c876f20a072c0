//! Version negotiation against Kafka 3.9.2 and 4.4.0 side by side, in one run: the harness runs
//! a `single` broker of each version at once (the profile's own, plus one in
//! `target/kafka/single-<version>/`), and one `Connection` to each must pick, for every API, the
//! highest version both this build and that broker support.
//!
//! The expectations come from each broker's own ApiVersions answer, read by the harness's probe
//! (which shares no code with klamm-net), and from klamm-protocol's supported ranges; on top of
//! that, known differences between the two releases are checked by name.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use klamm_net::{Connection, ConnectionConfig, SecurityProtocol};
use klamm_protocol::messages::MetadataRequest;
use klamm_protocol::{ApiKey, VersionRange};
use klamm_test_harness::{probe, shared_version, ClusterEnv, KafkaVersion, Profile};

fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// What a broker lists, by API, straight from the wire (APIs unknown to this build skipped).
fn broker_ranges(env: &ClusterEnv) -> BTreeMap<ApiKey, VersionRange> {
    let addr: SocketAddr = env.bootstrap_plaintext.parse().unwrap();
    probe::api_version_ranges(addr, Duration::from_secs(5))
        .unwrap()
        .into_iter()
        .filter_map(|range| {
            let api = ApiKey::try_from(range.api_key).ok()?;
            Some((api, VersionRange::new(range.min_version, range.max_version)))
        })
        .collect()
}

/// The version a client should use for `api` with a broker serving `broker`.
fn expected(api: ApiKey, broker: Option<VersionRange>) -> Option<i16> {
    broker
        .and_then(|broker| api.versions().intersect(broker))
        .map(|both| both.max)
}

#[test]
fn negotiated_versions_differ_between_kafka_3_9_and_4_4_running_side_by_side() {
    let new_version: KafkaVersion = KafkaVersion::DEFAULT.parse().unwrap();
    let old_version: KafkaVersion = KafkaVersion::LEGACY.parse().unwrap();
    let new = shared_version(Profile::Single, &new_version);
    let old = shared_version(Profile::Single, &old_version);
    assert_eq!((&new.version, &old.version), (&new_version, &old_version));
    assert_ne!(new.state_dir, old.state_dir);
    assert_ne!(new.bootstrap_plaintext, old.bootstrap_plaintext);
    let (new_ranges, old_ranges) = (broker_ranges(new), broker_ranges(old));

    run(async {
        let config = ConnectionConfig::builder()
            .client_id("klamm-net-version-tests")
            .request_timeout(Duration::from_secs(15))
            .api_version_auto_timeout(Duration::from_secs(10))
            .security_protocol(SecurityProtocol::Plaintext)
            .build()
            .unwrap();
        // Both connections open at the same time: the brokers really run side by side.
        let new_connection = Connection::connect(&new.bootstrap_plaintext, &config)
            .await
            .unwrap();
        let old_connection = Connection::connect(&old.bootstrap_plaintext, &config)
            .await
            .unwrap();

        let mut differing = Vec::new();
        for &api in ApiKey::ALL {
            let want_new = expected(api, new_ranges.get(&api).copied());
            let want_old = expected(api, old_ranges.get(&api).copied());
            assert_eq!(
                new_connection.version_for(api).ok(),
                want_new,
                "{api} with Kafka {new_version} (broker {:?}, ours {})",
                new_ranges.get(&api),
                api.versions()
            );
            assert_eq!(
                old_connection.version_for(api).ok(),
                want_old,
                "{api} with Kafka {old_version} (broker {:?}, ours {})",
                old_ranges.get(&api),
                api.versions()
            );
            if want_new != want_old {
                differing.push((api, want_old, want_new));
            }
        }
        assert!(
            !differing.is_empty(),
            "the two releases negotiate identically?"
        );
        eprintln!("negotiated differently (3.9.2, 4.4.0): {differing:?}");

        // Known differences between the pinned releases, by name. ApiVersions: 3.9.2 serves up
        // to v4, 4.4.0 up to v5; a client whose newest is v5 is refused by 3.9.2 at first
        // (UNSUPPORTED_VERSION with the broker's range) and needs a second round trip.
        assert_eq!(old_ranges[&ApiKey::ApiVersions], VersionRange::new(0, 4));
        assert_eq!(new_ranges[&ApiKey::ApiVersions], VersionRange::new(0, 5));
        let ours = ApiKey::ApiVersions.versions().max;
        assert_eq!(
            old_connection.version_for(ApiKey::ApiVersions).unwrap(),
            ours.min(4)
        );
        assert_eq!(
            new_connection.version_for(ApiKey::ApiVersions).unwrap(),
            ours.min(5)
        );
        if ours >= 5 {
            assert!(differing
                .iter()
                .any(|(api, ..)| *api == ApiKey::ApiVersions));
            let attempts =
                |connection: &Connection| connection.metrics().api(ApiKey::ApiVersions).responses;
            assert_eq!(
                (attempts(&old_connection), attempts(&new_connection)),
                (2, 1)
            );
        }
        // Metadata v13 (top-level error code, KIP-1102) is new in 4.0.
        assert_eq!(old_ranges[&ApiKey::Metadata].max, 12);
        assert!(new_ranges[&ApiKey::Metadata].max >= 13);
        assert_eq!(old_connection.version_for(ApiKey::Metadata).unwrap(), 12);
        // Fetch: 4.0 dropped v0-v3 (KIP-896) and later releases added v18.
        assert_eq!(old_ranges[&ApiKey::Fetch], VersionRange::new(0, 17));
        assert_eq!(new_ranges[&ApiKey::Fetch], VersionRange::new(4, 18));
        assert_eq!(old_connection.version_for(ApiKey::Fetch).unwrap(), 17);

        // Each connection works at its own versions.
        for (connection, env) in [(&new_connection, new), (&old_connection, old)] {
            let metadata = connection.send(MetadataRequest::default()).await.unwrap();
            let ids: Vec<i32> = metadata.brokers.iter().map(|b| b.node_id).collect();
            assert_eq!(ids, vec![env.broker_ids[0] as i32]);
        }
    });
}
