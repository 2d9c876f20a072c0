//! Property tests: every batch survives a round trip, and no input makes decoding panic.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::super::*;
use super::fix_crc;

fn nullable_bytes() -> impl Strategy<Value = Option<Bytes>> {
    prop::option::of(prop::collection::vec(any::<u8>(), 0..48).prop_map(Bytes::from))
}

fn header() -> impl Strategy<Value = RecordHeader> {
    (".{0,6}", nullable_bytes()).prop_map(|(key, value)| RecordHeader {
        key: key.into(),
        value,
    })
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<i32>(),
        any::<i64>(),
        nullable_bytes(),
        nullable_bytes(),
        prop::collection::vec(header(), 0..4),
    )
        .prop_map(
            |(offset_delta, timestamp_delta, key, value, headers)| Record {
                offset_delta,
                timestamp_delta,
                key,
                value,
                headers,
            },
        )
}

fn available_compression() -> impl Strategy<Value = Compression> {
    let codecs: Vec<_> = Compression::ALL
        .into_iter()
        .filter(|c| c.is_available())
        .collect();
    prop::sample::select(codecs)
}

fn batch() -> impl Strategy<Value = RecordBatch> {
    let header = (
        any::<i64>(),
        any::<i32>(),
        available_compression(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    let fields = (
        any::<i32>(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any::<i16>(),
        any::<i32>(),
    );
    (header, fields, prop::collection::vec(record(), 0..6)).prop_map(
        |(
            (base_offset, partition_leader_epoch, compression, log_append, txn, control, horizon),
            (
                last_offset_delta,
                base_timestamp,
                max_timestamp,
                producer_id,
                producer_epoch,
                base_sequence,
            ),
            records,
        )| RecordBatch {
            base_offset,
            partition_leader_epoch,
            compression,
            timestamp_type: if log_append {
                TimestampType::LogAppendTime
            } else {
                TimestampType::CreateTime
            },
            is_transactional: txn,
            is_control: control,
            has_delete_horizon: horizon,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            records,
        },
    )
}

proptest! {
    #[test]
    fn encode_then_decode_gives_the_same_batch(batch in batch()) {
        let bytes = batch.to_bytes().unwrap();
        prop_assert_eq!(RecordBatch::decode(&bytes), Ok(batch.clone()));
        prop_assert_eq!(decode_batches(&bytes), Ok(vec![batch]));
    }

    #[test]
    fn uncompressed_size_is_header_plus_records(mut batch in batch()) {
        batch.compression = Compression::None;
        let expected = 61 + batch.records.iter().map(Record::encoded_len).sum::<usize>();
        prop_assert_eq!(batch.to_bytes().unwrap().len(), expected);
    }

    #[test]
    fn a_field_cut_anywhere_yields_its_complete_batches(
        batches in prop::collection::vec(batch(), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = BytesMut::new();
        let mut ends = Vec::new();
        for batch in &batches {
            batch.encode(&mut buf).unwrap();
            ends.push(buf.len());
        }
        let cut = cut.index(buf.len() + 1);
        let field = buf.freeze().slice(..cut);
        let mut reader = RecordBatches::new(&field);
        let decoded = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        let complete = ends.iter().filter(|&&end| end <= cut).count();
        prop_assert_eq!(&decoded[..], &batches[..complete]);
        let last_end = if complete == 0 { 0 } else { ends[complete - 1] };
        prop_assert_eq!(reader.incomplete_tail(), cut - last_end);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let bytes = Bytes::from(bytes);
        let _ = decode_batches(&bytes);
        let _ = RecordBatch::decode(&bytes);
    }

    #[test]
    fn decoding_a_corrupted_batch_with_a_valid_crc_never_panics(
        batch in batch(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        // Fixing the CRC after each edit gets corrupt records past the checksum and into the
        // record and decompression code.
        let mut bytes = batch.to_bytes().unwrap().to_vec();
        for (position, value) in edits {
            let position = 21 + position.index(bytes.len() - 21);
            bytes[position] = value;
        }
        fix_crc(&mut bytes);
        let bytes = Bytes::from(bytes);
        if let Ok(decoded) = RecordBatch::decode(&bytes) {
            // Whatever decodes must encode again.
            prop_assert!(decoded.to_bytes().is_ok());
        }
        let _ = decode_batches(&bytes);
    }

    #[test]
    fn a_changed_byte_under_the_crc_is_always_caught(
        batch in batch(),
        position in any::<prop::sample::Index>(),
        flip in 1u8..,
    ) {
        let mut bytes = batch.to_bytes().unwrap().to_vec();
        let position = 17 + position.index(bytes.len() - 17);
        bytes[position] ^= flip;
        let is_crc_mismatch = matches!(
            RecordBatch::decode(&Bytes::from(bytes)).map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::CrcMismatch { .. })
        );
        prop_assert!(is_crc_mismatch);
    }
}
