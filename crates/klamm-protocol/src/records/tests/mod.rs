//! Batch-level tests: a hand-built vector, corruption and truncation, limits. Property tests
//! live in `proptests`, vectors made by Kafka's Java client in `java_vectors`.

mod java_vectors;
mod proptests;

use bytes::{Bytes, BytesMut};

use super::*;
use crate::EncodeError;

/// Recomputes the CRC of the single batch in `batch` after a test edits it.
pub(super) fn fix_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

fn one_record_batch() -> RecordBatch {
    RecordBatch::builder()
        .record(
            1_700_000_000_000,
            Record::new()
                .with_key("key")
                .with_value("value")
                .with_header("h1", "v1"),
        )
        .build()
}

/// One batch with one record and one header, written out field by field from the spec.
#[rustfmt::skip]
const HAND_BUILT: &[u8] = &[
    0, 0, 0, 0, 0, 0, 0, 0,             // baseOffset 0
    0, 0, 0, 70,                        // batchLength: 82 bytes in all, less these 12
    0xff, 0xff, 0xff, 0xff,             // partitionLeaderEpoch -1
    2,                                  // magic
    0x40, 0x93, 0xb2, 0x17,             // crc
    0, 0,                               // attributes: no compression, create time
    0, 0, 0, 0,                         // lastOffsetDelta 0
    0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // baseTimestamp 1_700_000_000_000
    0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // maxTimestamp, the same
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // producerId -1
    0xff, 0xff,                         // producerEpoch -1
    0xff, 0xff, 0xff, 0xff,             // baseSequence -1
    0, 0, 0, 1,                         // one record
    0x28,                               // record length 20 (zig-zag)
    0,                                  // record attributes
    0,                                  // timestampDelta 0
    0,                                  // offsetDelta 0
    0x06, b'k', b'e', b'y',             // key: length 3
    0x0a, b'v', b'a', b'l', b'u', b'e', // value: length 5
    0x02,                               // one header
    0x04, b'h', b'1',                   // header key: length 2
    0x04, b'v', b'1',                   // header value: length 2
];

#[test]
fn crc32c_is_the_castagnoli_polynomial() {
    // The standard check value of CRC-32C; plain CRC-32 would give 0xcbf43926.
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(crc32c::crc32c(&HAND_BUILT[21..]), 0x4093_b217);
}

#[test]
fn encodes_the_hand_built_vector() {
    assert_eq!(&one_record_batch().to_bytes().unwrap()[..], HAND_BUILT);
}

#[test]
fn decodes_the_hand_built_vector() {
    let bytes = Bytes::from_static(HAND_BUILT);
    let batch = RecordBatch::decode(&bytes).unwrap();
    assert_eq!(batch, one_record_batch());
    let record = &batch.records[0];
    assert_eq!(batch.offset_of(record), 0);
    assert_eq!(batch.timestamp_of(record), 1_700_000_000_000);
    assert_eq!(record.headers[0].key, "h1");
    // Zero-copy: the value is the slice of the input right after its length byte.
    assert_eq!(
        record.value.as_ref().unwrap().as_ptr(),
        HAND_BUILT[70..].as_ptr()
    );
}

#[test]
fn encode_appends_without_touching_what_is_there() {
    let mut buf = BytesMut::from(&b"prefix"[..]);
    one_record_batch().encode(&mut buf).unwrap();
    assert_eq!(&buf[..6], b"prefix");
    assert_eq!(&buf[6..], HAND_BUILT);
}

#[test]
fn every_flipped_byte_under_the_crc_is_caught() {
    for position in 17..HAND_BUILT.len() {
        let mut bytes = HAND_BUILT.to_vec();
        bytes[position] ^= 0xff;
        let result = RecordBatch::decode(&Bytes::from(bytes));
        assert!(
            matches!(
                result.as_ref().map_err(DecodeError::kind),
                Err(DecodeErrorKind::CrcMismatch { base_offset: 0, .. })
            ),
            "byte {position}: {result:?}"
        );
    }
}

#[test]
fn crc_error_names_both_checksums() {
    let mut bytes = HAND_BUILT.to_vec();
    bytes[HAND_BUILT.len() - 1] = b'2';
    let actual = crc32c::crc32c(&bytes[21..]);
    assert_eq!(
        RecordBatch::decode(&Bytes::from(bytes)),
        Err(DecodeErrorKind::CrcMismatch {
            base_offset: 0,
            expected: 0x4093_b217,
            actual
        }
        .into())
    );
}

#[test]
fn legacy_magic_is_refused_clearly() {
    for magic in [0u8, 1, 3] {
        let mut bytes = HAND_BUILT.to_vec();
        bytes[16] = magic;
        assert_eq!(
            decode_batches(&Bytes::from(bytes)),
            Err(DecodeErrorKind::UnsupportedMagic {
                base_offset: 0,
                magic: magic as i8
            }
            .into())
        );
    }
    // A real magic 1 message (offset, size 22, crc, magic, attributes, timestamp, null key
    // and value) is shorter than any v2 batch and still gets the magic error.
    let mut legacy = vec![0u8; 8];
    legacy.extend_from_slice(&22i32.to_be_bytes());
    legacy.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
    legacy.extend_from_slice(&[0; 8]);
    legacy.extend_from_slice(&[0xff; 8]);
    assert_eq!(
        decode_batches(&Bytes::from(legacy)),
        Err(DecodeErrorKind::UnsupportedMagic {
            base_offset: 0,
            magic: 1
        }
        .into())
    );
}

#[test]
fn record_count_is_checked_before_allocating() {
    for (count, expected) in [
        (
            i32::MAX,
            DecodeErrorKind::LengthExceedsInput {
                what: "RecordBatch.recordsCount",
                length: i32::MAX as u64,
                remaining: 21,
            }
            .into(),
        ),
        (
            -1,
            DecodeErrorKind::InvalidLength {
                what: "RecordBatch.recordsCount",
                length: -1,
            }
            .into(),
        ),
        // Four records of at least 7 bytes each cannot fit in 21.
        (
            4,
            DecodeErrorKind::LengthExceedsInput {
                what: "RecordBatch.recordsCount",
                length: 4,
                remaining: 21,
            }
            .into(),
        ),
    ] {
        let mut bytes = HAND_BUILT.to_vec();
        bytes[57..61].copy_from_slice(&count.to_be_bytes());
        fix_crc(&mut bytes);
        assert_eq!(RecordBatch::decode(&Bytes::from(bytes)), Err(expected));
    }
}

#[test]
fn records_must_fill_the_batch_exactly() {
    // One record too few declared: its bytes are left over.
    let mut bytes = HAND_BUILT.to_vec();
    bytes[57..61].copy_from_slice(&0i32.to_be_bytes());
    fix_crc(&mut bytes);
    assert_eq!(
        RecordBatch::decode(&Bytes::from(bytes)),
        Err(DecodeErrorKind::TrailingBytes {
            what: "RecordBatch.records",
            remaining: 21
        }
        .into())
    );
    // Two records declared, bytes for one (but enough for the count check).
    let mut bytes = HAND_BUILT.to_vec();
    bytes[57..61].copy_from_slice(&2i32.to_be_bytes());
    fix_crc(&mut bytes);
    assert!(matches!(
        RecordBatch::decode(&Bytes::from(bytes)).map_err(DecodeError::into_kind),
        Err(DecodeErrorKind::UnexpectedEnd { .. })
    ));
}

#[test]
fn batch_length_must_match_the_bytes() {
    let mut longer = HAND_BUILT.to_vec();
    longer[11] += 1;
    assert_eq!(
        RecordBatch::decode(&Bytes::from(longer)),
        Err(DecodeErrorKind::LengthExceedsInput {
            what: "RecordBatch.batchLength",
            length: 71,
            remaining: 70
        }
        .into())
    );
    let mut shorter = HAND_BUILT.to_vec();
    shorter[11] -= 1;
    assert_eq!(
        RecordBatch::decode(&Bytes::from(shorter.clone())),
        Err(DecodeErrorKind::TrailingBytes {
            what: "RecordBatch",
            remaining: 1
        }
        .into())
    );
    // Read as one batch of a field, the shorter batch loses its last byte and the CRC with it.
    assert!(matches!(
        decode_batches(&Bytes::from(shorter)).map_err(DecodeError::into_kind),
        Err(DecodeErrorKind::CrcMismatch { .. })
    ));
    let mut negative = HAND_BUILT.to_vec();
    negative[8..12].copy_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(
        decode_batches(&Bytes::from(negative)),
        Err(DecodeErrorKind::InvalidLength {
            what: "RecordBatch.batchLength",
            length: -1
        }
        .into())
    );
    // Complete, magic 2, but too short for a v2 header.
    let mut tiny = HAND_BUILT[..40].to_vec();
    tiny[8..12].copy_from_slice(&28i32.to_be_bytes());
    assert_eq!(
        decode_batches(&Bytes::from(tiny)),
        Err(DecodeErrorKind::InvalidLength {
            what: "RecordBatch.batchLength",
            length: 28
        }
        .into())
    );
}

#[test]
fn unknown_codec_id_is_invalid() {
    let mut bytes = HAND_BUILT.to_vec();
    bytes[22] = 5;
    fix_crc(&mut bytes);
    assert_eq!(
        RecordBatch::decode(&Bytes::from(bytes)),
        Err(DecodeErrorKind::InvalidValue {
            what: "RecordBatch.attributes.compression",
            value: 5
        }
        .into())
    );
}

#[test]
fn codec_without_its_feature_is_refused_and_with_it_garbage_fails() {
    for codec in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        // The uncompressed records, labelled with the codec.
        let mut bytes = HAND_BUILT.to_vec();
        bytes[22] = codec.id();
        fix_crc(&mut bytes);
        let result = RecordBatch::decode(&Bytes::from(bytes));
        if codec.is_available() {
            assert!(
                matches!(result.as_ref().map_err(DecodeError::kind), Err(DecodeErrorKind::DecompressionFailed { codec: name, .. }) if *name == codec.name()),
                "{codec}: {result:?}"
            );
        } else {
            assert_eq!(
                result,
                Err(DecodeErrorKind::UnsupportedCompression {
                    base_offset: 0,
                    codec: codec.name()
                }
                .into())
            );
            let mut batch = one_record_batch();
            batch.compression = codec;
            let mut buf = BytesMut::from(&b"kept"[..]);
            assert_eq!(
                batch.encode(&mut buf),
                Err(EncodeError::UnsupportedCompression {
                    codec: codec.name()
                })
            );
            assert_eq!(&buf[..], b"kept", "a failed encode leaves nothing behind");
        }
    }
}

#[test]
fn cut_off_batches_are_dropped_and_counted() {
    let first = one_record_batch();
    let second = RecordBatch::builder()
        .base_offset(1)
        .record(5, Record::new().with_value("second"))
        .build();
    let mut buf = BytesMut::new();
    first.encode(&mut buf).unwrap();
    let boundary = buf.len();
    second.encode(&mut buf).unwrap();
    let whole = buf.freeze();
    for cut in 0..=whole.len() {
        let field = whole.slice(..cut);
        let mut batches = RecordBatches::new(&field);
        let decoded: Vec<_> = batches.by_ref().collect::<Result<_, _>>().unwrap();
        let (expected, tail): (&[RecordBatch], usize) = if cut == whole.len() {
            (&[first.clone(), second.clone()], 0)
        } else if cut >= boundary {
            (std::slice::from_ref(&first), cut - boundary)
        } else {
            (&[], cut)
        };
        assert_eq!(decoded, expected, "cut at {cut}");
        assert_eq!(batches.incomplete_tail(), tail, "cut at {cut}");
        assert_eq!(batches.remaining(), tail, "cut at {cut}");
    }
}

#[test]
fn iteration_stops_after_an_error() {
    let mut bytes = HAND_BUILT.to_vec();
    bytes[16] = 1;
    bytes.extend_from_slice(HAND_BUILT);
    let bytes = Bytes::from(bytes);
    let mut batches = RecordBatches::new(&bytes);
    assert!(matches!(
        batches.next().map(|r| r.map_err(DecodeError::into_kind)),
        Some(Err(DecodeErrorKind::UnsupportedMagic { .. }))
    ));
    assert_eq!(batches.next(), None);
}

#[test]
fn control_and_transactional_flags_round_trip() {
    let batch = RecordBatch::builder()
        .base_offset(7)
        .producer(99, 1, -1)
        .transactional(true)
        .control(true)
        .record(
            3,
            Record::new()
                .with_key(&[0u8, 0, 0, 1][..])
                .with_value(&[0u8, 0, 0, 0, 0, 5][..]),
        )
        .build();
    assert_eq!(batch.attributes(), 0x30);
    let bytes = batch.to_bytes().unwrap();
    assert_eq!(RecordBatch::decode(&bytes), Ok(batch));
}

#[cfg(any(
    feature = "gzip",
    feature = "snappy",
    feature = "lz4",
    feature = "zstd"
))]
mod limits {
    use super::*;

    fn available_codecs() -> impl Iterator<Item = Compression> {
        Compression::ALL
            .into_iter()
            .filter(|c| c.is_available() && *c != Compression::None)
    }

    fn zeros_batch(codec: Compression, len: usize) -> Bytes {
        RecordBatch::builder()
            .compression(codec)
            .record(0, Record::new().with_value(vec![0u8; len]))
            .build()
            .to_bytes()
            .unwrap()
    }

    #[test]
    fn a_batch_may_not_inflate_past_its_limit() {
        for codec in available_codecs() {
            let bytes = zeros_batch(codec, 4 << 20);
            assert!(bytes.len() < 1 << 20, "{codec} should shrink zeros");
            let limits = DecompressionLimits::default().with_max_batch_size(1 << 20);
            let result: Result<Vec<_>, _> =
                RecordBatches::new(&bytes).with_limits(limits).collect();
            assert_eq!(
                result,
                Err(DecodeErrorKind::DecompressedTooLarge {
                    base_offset: 0,
                    codec: codec.name(),
                    limit: 1 << 20
                }
                .into())
            );
            assert!(RecordBatches::new(&bytes).all(|batch| batch.is_ok()));
        }
    }

    #[test]
    fn batches_of_one_field_share_a_total_limit() {
        for codec in available_codecs() {
            let one = zeros_batch(codec, 600 << 10);
            let two = Bytes::from([&one[..], &one[..]].concat());
            let limits = DecompressionLimits::default().with_max_total_size(1 << 20);
            let mut batches = RecordBatches::new(&two).with_limits(limits);
            assert!(batches.next().unwrap().is_ok(), "{codec}");
            assert!(
                matches!(
                    batches.next().map(|r| r.map_err(DecodeError::into_kind)),
                    Some(Err(DecodeErrorKind::DecompressedTooLarge { limit, .. })) if limit < 600 << 10
                ),
                "{codec}"
            );
        }
    }
}
