//! API version negotiation: what the broker said in `ApiVersions`, and the version to use for
//! each API (the highest both sides support, unless the caller pinned one).
//!
//! Also the one subtle step of the `ApiVersions` exchange itself: a broker that does not know
//! the version we asked for answers with error `UNSUPPORTED_VERSION` and a **v0** body listing
//! the `ApiVersions` versions it does know, and we retry with the highest of those.

use std::collections::BTreeMap;

use bytes::Bytes;
use klamm_protocol::messages::ApiVersionsResponse;
use klamm_protocol::{ApiKey, DecodeError, ErrorCode, Message, VersionRange};

use crate::{KafkaRelease, NetError};

/// The per-API versions one broker supports, and the versions chosen from them.
///
/// ```
/// use klamm_net::ApiVersionTable;
/// use klamm_protocol::{ApiKey, VersionRange};
///
/// let table = ApiVersionTable::from_ranges([(ApiKey::Metadata, VersionRange::new(0, 9))]);
/// assert_eq!(table.choose(ApiKey::Metadata)?, 9);
/// assert!(table.choose(ApiKey::CreateTopics).is_err());
/// # Ok::<(), klamm_net::NetError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiVersionTable {
    broker: BTreeMap<ApiKey, VersionRange>,
    pinned: BTreeMap<ApiKey, i16>,
    release: Option<KafkaRelease>,
}

impl ApiVersionTable {
    /// The table of a successful `ApiVersions` response. APIs this build does not know are
    /// ignored.
    pub fn from_response(response: &ApiVersionsResponse) -> Self {
        Self::from_ranges(response.api_keys.iter().filter_map(|entry| {
            ApiKey::from_key(entry.api_key)
                .map(|api| (api, VersionRange::new(entry.min_version, entry.max_version)))
        }))
    }

    /// A table from explicit ranges (tests, or a broker known in advance).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (ApiKey, VersionRange)>) -> Self {
        ApiVersionTable {
            broker: ranges.into_iter().collect(),
            pinned: BTreeMap::new(),
            release: None,
        }
    }

    /// Holds every API not pinned to at most the highest version `release` supports
    /// (`api_version`); an API the release lacks is refused.
    pub fn with_release(mut self, release: Option<KafkaRelease>) -> Self {
        self.release = release;
        self
    }

    /// Uses `pinned` versions instead of the negotiated maximum for those APIs.
    pub fn with_pins(mut self, pinned: &BTreeMap<ApiKey, i16>) -> Self {
        self.pinned = pinned.clone();
        self
    }

    /// The Kafka release the versions are held to, if any.
    pub fn release(&self) -> Option<KafkaRelease> {
        self.release
    }

    /// The versions the broker supports for `api`, `None` if it does not list it.
    pub fn broker_range(&self, api: ApiKey) -> Option<VersionRange> {
        self.broker.get(&api).copied()
    }

    /// Every API the broker listed, with its range.
    pub fn broker_ranges(&self) -> impl Iterator<Item = (ApiKey, VersionRange)> + '_ {
        self.broker.iter().map(|(api, range)| (*api, *range))
    }

    /// The version to use for `api`: the pinned one if any (checked against both sides), else
    /// the highest version both the broker and this build support, at most the API's reviewed
    /// [`version_cap`](ApiKey::version_cap) and the `api_version` release's highest.
    pub fn choose(&self, api: ApiKey) -> Result<i16, NetError> {
        match self.pinned.get(&api) {
            Some(&version) => self.check(api, version),
            None => self.choose_within(api, api.versions()),
        }
    }

    /// The highest version in `wanted` (intersected with this build's versions, up to the
    /// reviewed cap) that the broker supports: for operations that need a feature added in
    /// some version. The cap keeps a newer spec from moving an operation onto an untested
    /// version: negotiation picks `min(broker max, cap)`.
    pub fn choose_within(&self, api: ApiKey, wanted: VersionRange) -> Result<i16, NetError> {
        let wanted = match self.release {
            None => wanted,
            Some(release) => {
                let highest = release.highest_version(api);
                highest
                    .and_then(|max| wanted.intersect(VersionRange::new(0, max)))
                    .ok_or(NetError::NotInRelease {
                        api,
                        wanted,
                        release,
                        highest,
                    })?
            }
        };
        let ours = api
            .negotiable_versions()
            .and_then(|negotiable| negotiable.intersect(wanted));
        let broker_range = self.broker_range(api);
        ours.zip(broker_range)
            .and_then(|(ours, broker)| ours.intersect(broker))
            .map(|both| both.max)
            .ok_or(NetError::UnsupportedVersion {
                api,
                wanted: ours.unwrap_or(wanted),
                broker_range,
            })
    }

    /// `version` if both this build and the broker support it.
    pub fn check(&self, api: ApiKey, version: i16) -> Result<i16, NetError> {
        let broker_range = self.broker_range(api);
        let supported = api.versions().contains(version)
            && broker_range.is_some_and(|range| range.contains(version));
        if supported {
            Ok(version)
        } else {
            Err(NetError::UnsupportedVersion {
                api,
                wanted: VersionRange::new(version, version),
                broker_range,
            })
        }
    }
}

/// What an `ApiVersions` response means for the exchange.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiVersionsOutcome {
    /// The broker answered; the response is usable.
    Supported(ApiVersionsResponse),
    /// The broker does not know the version we sent: retry with this one.
    Retry(i16),
    /// The broker answered with another error.
    Failed(ErrorCode),
}

/// Interprets the body of an `ApiVersions` response to a request sent as `sent_version`.
pub fn interpret_api_versions(
    body: &Bytes,
    sent_version: i16,
) -> Result<ApiVersionsOutcome, DecodeError> {
    let unsupported = ErrorCode::UnsupportedVersion.code();
    // A broker that does not know `sent_version` answers in v0, which the sent version's
    // decoder may not read; v0 is the fallback.
    let response = match ApiVersionsResponse::from_bytes(body, sent_version) {
        Ok(response) if response.error_code != unsupported => response,
        first => match ApiVersionsResponse::from_bytes(body, 0) {
            Ok(v0) if v0.error_code == unsupported => {
                let broker_max = v0
                    .api_keys
                    .iter()
                    .find(|entry| entry.api_key == ApiKey::ApiVersions.key())
                    .map_or(0, |entry| entry.max_version);
                let retry = broker_max.min(sent_version - 1).max(0);
                return Ok(if sent_version == 0 {
                    ApiVersionsOutcome::Failed(ErrorCode::UnsupportedVersion)
                } else {
                    ApiVersionsOutcome::Retry(retry)
                });
            }
            _ => first?,
        },
    };
    Ok(match ErrorCode::from_code(response.error_code) {
        ErrorCode::None => ApiVersionsOutcome::Supported(response),
        error => ApiVersionsOutcome::Failed(error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use klamm_protocol::messages::api_versions_response::ApiVersion;

    fn entry(api: ApiKey, min: i16, max: i16) -> ApiVersion {
        ApiVersion::default()
            .with_api_key(api.key())
            .with_min_version(min)
            .with_max_version(max)
    }

    #[test]
    fn chooses_highest_version_in_both_ranges() {
        let response = ApiVersionsResponse::default().with_api_keys(vec![
            entry(ApiKey::Metadata, 0, 99),
            entry(ApiKey::CreateTopics, 2, 4),
            ApiVersion::default().with_api_key(999), // an API from the future: ignored
        ]);
        let table = ApiVersionTable::from_response(&response);
        assert_eq!(
            table.choose(ApiKey::Metadata).unwrap(),
            ApiKey::Metadata.versions().max
        );
        assert_eq!(table.choose(ApiKey::CreateTopics).unwrap(), 4);
        assert_eq!(table.broker_ranges().count(), 2);
    }

    #[test]
    fn negotiation_stops_at_the_reviewed_cap() {
        let table = ApiVersionTable::from_ranges(
            ApiKey::ALL
                .iter()
                .map(|&api| (api, VersionRange::new(0, i16::MAX))),
        );
        for &api in ApiKey::ALL {
            assert_eq!(table.choose(api).ok(), api.version_cap(), "{api}");
        }
    }

    #[test]
    fn api_the_broker_lacks_is_unsupported_with_no_range() {
        let table = ApiVersionTable::from_ranges([]);
        let error = table.choose(ApiKey::DescribeCluster).unwrap_err();
        assert!(matches!(
            error,
            NetError::UnsupportedVersion {
                api: ApiKey::DescribeCluster,
                broker_range: None,
                ..
            }
        ));
        assert!(error.to_string().contains("does not support it"), "{error}");
    }

    #[test]
    fn disjoint_ranges_name_both_sides() {
        let table = ApiVersionTable::from_ranges([(ApiKey::Metadata, VersionRange::new(0, 3))]);
        let error = table
            .choose_within(ApiKey::Metadata, VersionRange::new(10, i16::MAX))
            .unwrap_err();
        match error {
            NetError::UnsupportedVersion {
                api,
                wanted,
                broker_range,
            } => {
                assert_eq!(api, ApiKey::Metadata);
                assert_eq!(
                    wanted,
                    VersionRange::new(10, ApiKey::Metadata.versions().max)
                );
                assert_eq!(broker_range, Some(VersionRange::new(0, 3)));
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn release_caps_negotiation_and_refuses_apis_it_lacks() {
        let release = KafkaRelease::new(2, 0).unwrap();
        let table = ApiVersionTable::from_ranges([
            (ApiKey::Metadata, VersionRange::new(0, 12)),
            (ApiKey::DescribeCluster, VersionRange::new(0, 1)),
        ])
        .with_release(Some(release));
        let highest = release.highest_version(ApiKey::Metadata).unwrap();
        assert!(highest < 12);
        assert_eq!(table.choose(ApiKey::Metadata).unwrap(), highest);
        // DescribeCluster came with 2.8.
        let error = table.choose(ApiKey::DescribeCluster).unwrap_err();
        assert!(
            matches!(error, NetError::NotInRelease { highest: None, .. }),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "DescribeCluster needs version 0-2, but Kafka 2.0 (api_version) does not have \
             DescribeCluster"
        );
        // A feature newer than the release is refused, naming the release's highest version.
        let error = table
            .choose_within(ApiKey::Metadata, VersionRange::new(highest + 1, 12))
            .unwrap_err();
        assert!(
            error.to_string().contains(&format!("up to v{highest}")),
            "{error}"
        );
        // A per-API pin wins over the release.
        let pinned = table.with_pins(&BTreeMap::from([(ApiKey::Metadata, 12)]));
        assert_eq!(pinned.choose(ApiKey::Metadata).unwrap(), 12);
    }

    #[test]
    fn pinned_version_is_honoured_and_checked() {
        let pins = BTreeMap::from([(ApiKey::Metadata, 4), (ApiKey::CreateTopics, 7)]);
        let table = ApiVersionTable::from_ranges([
            (ApiKey::Metadata, VersionRange::new(0, 12)),
            (ApiKey::CreateTopics, VersionRange::new(2, 5)),
        ])
        .with_pins(&pins);
        assert_eq!(table.choose(ApiKey::Metadata).unwrap(), 4);
        assert!(matches!(
            table.choose(ApiKey::CreateTopics),
            Err(NetError::UnsupportedVersion { wanted, .. }) if wanted == VersionRange::new(7, 7)
        ));
    }

    #[test]
    fn unsupported_version_answer_in_v0_means_retry_lower() {
        let v0 = ApiVersionsResponse::default()
            .with_error_code(ErrorCode::UnsupportedVersion.code())
            .with_api_keys(vec![entry(ApiKey::ApiVersions, 0, 2)]);
        let body = v0.to_bytes(0).unwrap();
        assert_eq!(
            interpret_api_versions(&body, 4).unwrap(),
            ApiVersionsOutcome::Retry(2)
        );
        // Without an ApiVersions entry, fall back to v0.
        let bare =
            ApiVersionsResponse::default().with_error_code(ErrorCode::UnsupportedVersion.code());
        assert_eq!(
            interpret_api_versions(&bare.to_bytes(0).unwrap(), 3).unwrap(),
            ApiVersionsOutcome::Retry(0)
        );
    }

    #[test]
    fn successful_answer_is_decoded_at_the_sent_version() {
        let response = ApiVersionsResponse::default()
            .with_api_keys(vec![entry(ApiKey::Metadata, 0, 12)])
            .with_throttle_time_ms(3);
        let body = response.to_bytes(3).unwrap();
        assert_eq!(
            interpret_api_versions(&body, 3).unwrap(),
            ApiVersionsOutcome::Supported(response)
        );
        let failed = ApiVersionsResponse::default()
            .with_error_code(ErrorCode::ClusterAuthorizationFailed.code());
        assert_eq!(
            interpret_api_versions(&failed.to_bytes(3).unwrap(), 3).unwrap(),
            ApiVersionsOutcome::Failed(ErrorCode::ClusterAuthorizationFailed)
        );
    }
}
