//! Hand-checked encodings of generated messages, and the errors the generator promises.

use bytes::Bytes;
use klamm_protocol::messages::{
    metadata_request::MetadataRequestTopic, ApiVersionsRequest, MetadataRequest, RequestHeader,
    ResponseHeader,
};
use klamm_protocol::primitives::{KafkaString, Uuid};
use klamm_protocol::{
    ApiKey, DecodeError, DecodeErrorKind, EncodeError, ErrorCode, Message, Request,
};

#[test]
fn request_header_v1_matches_kafka_bytes() {
    let header = RequestHeader::default()
        .with_request_api_key(3)
        .with_request_api_version(12)
        .with_correlation_id(7)
        .with_client_id(Some("klamm".into()));
    let bytes = header.to_bytes(1).unwrap();
    assert_eq!(
        &bytes[..],
        &[0, 3, 0, 12, 0, 0, 0, 7, 0, 5, b'k', b'l', b'a', b'm', b'm']
    );
    // v2 adds an (empty) tagged-field section, but the client id keeps its int16 length.
    let bytes = header.to_bytes(2).unwrap();
    assert_eq!(bytes.len(), 16);
    assert_eq!(bytes[8..10], [0, 5]);
    assert_eq!(bytes[15], 0);
}

#[test]
fn api_versions_v3_uses_compact_strings_and_tagged_fields() {
    let request = ApiVersionsRequest::default()
        .with_client_software_name("klamm".into())
        .with_client_software_version("0.1".into());
    let bytes = request.to_bytes(3).unwrap();
    assert_eq!(
        &bytes[..],
        &[6, b'k', b'l', b'a', b'm', b'm', 4, b'0', b'.', b'1', 0]
    );
    assert_eq!(ApiVersionsRequest::from_bytes(&bytes, 3).unwrap(), request);
    // Version 0 has no fields; the software name and version are ignorable, so they are dropped.
    assert_eq!(request.to_bytes(0).unwrap().len(), 0);
}

#[test]
fn metadata_request_null_topics_means_all_topics_from_v1() {
    let all = MetadataRequest::default().with_topics(None);
    let bytes = all.to_bytes(1).unwrap();
    assert_eq!(&bytes[..], &[0xff, 0xff, 0xff, 0xff]);
    // Version 0 cannot say null.
    assert_eq!(
        all.to_bytes(0),
        Err(EncodeError::NullNotAllowed {
            field: "MetadataRequest.Topics",
            version: 0
        })
    );
}

#[test]
fn ignorable_field_is_dropped_in_older_versions() {
    // TopicId is ignorable: at version 9 it is silently left out.
    let request =
        MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
            .with_topic_id(Uuid::from_bytes([1; 16]))
            .with_name(Some(KafkaString::from("orders")))]));
    let v9 = request.to_bytes(9).unwrap();
    let decoded = MetadataRequest::from_bytes(&v9, 9).unwrap();
    assert_eq!(decoded.topics.unwrap()[0].topic_id, Uuid::ZERO);
    // AllowAutoTopicCreation is not ignorable: false cannot be said before version 4.
    let no_auto_create = MetadataRequest::default().with_allow_auto_topic_creation(false);
    assert!(matches!(
        no_auto_create.to_bytes(3),
        Err(EncodeError::FieldNotInVersion {
            field: "MetadataRequest.AllowAutoTopicCreation",
            version: 3
        })
    ));
}

#[test]
fn unsupported_versions_are_typed_errors() {
    assert!(matches!(
        MetadataRequest::default().to_bytes(99),
        Err(EncodeError::UnsupportedVersion {
            message: "MetadataRequest",
            version: 99,
            ..
        })
    ));
    assert!(matches!(
        MetadataRequest::from_bytes(&Bytes::new(), -1).map_err(DecodeError::into_kind),
        Err(DecodeErrorKind::UnsupportedVersion { .. })
    ));
}

#[test]
fn truncated_frames_name_the_field() {
    let bytes = MetadataRequest::default().to_bytes(4).unwrap();
    let truncated = bytes.slice(..bytes.len() - 1);
    assert_eq!(
        MetadataRequest::from_bytes(&truncated, 4),
        Err(DecodeErrorKind::UnexpectedEnd {
            what: "MetadataRequest.AllowAutoTopicCreation",
            needed: 1,
            remaining: 0
        }
        .into())
    );
    let padded = Bytes::from([&bytes[..], &[0]].concat());
    assert!(matches!(
        MetadataRequest::from_bytes(&padded, 4).map_err(DecodeError::into_kind),
        Err(DecodeErrorKind::TrailingBytes { .. })
    ));
}

#[test]
fn unknown_tagged_fields_survive_a_round_trip() {
    // ResponseHeader v1: correlation id, then a tagged section with one unknown field (tag 9).
    let bytes = Bytes::from_static(&[0, 0, 0, 42, 1, 9, 2, 0xbe, 0xef]);
    let header = ResponseHeader::from_bytes(&bytes, 1).unwrap();
    assert_eq!(header.correlation_id, 42);
    assert_eq!(header.unknown_tagged_fields.len(), 1);
    assert_eq!(header.to_bytes(1).unwrap(), bytes);
}

#[test]
fn api_keys_carry_their_metadata() {
    assert_eq!(MetadataRequest::API_KEY, ApiKey::Metadata);
    assert_eq!(ApiKey::from_key(3), Some(ApiKey::Metadata));
    assert_eq!(
        ApiKey::from_key(7),
        None,
        "ControlledShutdown is gone since Kafka 4.0"
    );
    assert_eq!(ApiKey::Metadata.versions().min, 0);
    assert_eq!(ApiKey::Metadata.request_header_version(8), 1);
    assert_eq!(ApiKey::Metadata.request_header_version(9), 2);
    assert_eq!(ApiKey::Metadata.response_header_version(9), 1);
    assert_eq!(ApiKey::ApiVersions.response_header_version(4), 0);
    assert!(ApiKey::ALL.len() > 60);
}

#[test]
fn error_codes_know_their_names_and_retriability() {
    let error = ErrorCode::from_code(6);
    assert_eq!(error, ErrorCode::NotLeaderOrFollower);
    assert!(error.is_retriable());
    assert!(!ErrorCode::TopicAlreadyExists.is_retriable());
    assert!(!ErrorCode::None.is_error());
    assert_eq!(ErrorCode::from_code(-200), ErrorCode::Unrecognized(-200));
    assert_eq!(ErrorCode::from_code(-200).code(), -200);
    assert!(ErrorCode::UnknownTopicOrPartition
        .to_string()
        .starts_with("UNKNOWN_TOPIC_OR_PARTITION (3)"));
}
