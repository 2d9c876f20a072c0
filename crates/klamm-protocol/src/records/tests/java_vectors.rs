//! Batches written by Kafka's own Java client (kafka-clients 4.4.0, `MemoryRecordsBuilder`),
//! stored under `records/testdata/` (see the README there for how they were made).
//!
//! Each is rebuilt here from the same inputs with [`RecordBatchBuilder`]: the uncompressed ones
//! must come out byte for byte as Java wrote them, and every one must decode to the rebuilt
//! batch. Compressed bytes differ between compressor implementations, so those are checked by
//! decoding only, plus a round trip through our own codec.

use bytes::Bytes;

use super::super::*;

const T: i64 = 1_700_000_000_000;

macro_rules! vector {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../testdata/", $name, ".bin")).as_slice(),
        )
    };
}

fn single_record_with_header() -> RecordBatch {
    RecordBatch::builder()
        .record(
            T,
            Record::new()
                .with_key("key")
                .with_value("value")
                .with_header("h1", "v1"),
        )
        .build()
}

fn multi(codec: Compression) -> RecordBatch {
    RecordBatch::builder()
        .base_offset(1000)
        .partition_leader_epoch(7)
        .producer(42, 3, 10)
        .compression(codec)
        .record(T, Record::new().with_value("a"))
        .record(T + 5, Record::new().with_key("k2"))
        .record_at(
            5,
            T - 3,
            Record::new()
                .with_key("")
                .with_value("")
                .with_null_header("x")
                .with_header("\u{fc}", "yz"),
        )
        .build()
}

fn transactional() -> RecordBatch {
    RecordBatch::builder()
        .base_offset(200)
        .partition_leader_epoch(2)
        .producer(99, 1, 0)
        .transactional(true)
        .record(T, Record::new().with_key("t1").with_value("one"))
        .record(T + 1, Record::new().with_key("t2").with_value("two"))
        .build()
}

fn control_commit() -> RecordBatch {
    // An end-transaction marker: key is (version 0, type 1 = COMMIT), value is
    // (version 0, coordinator epoch 5).
    RecordBatch::builder()
        .base_offset(202)
        .partition_leader_epoch(2)
        .producer(99, 1, -1)
        .transactional(true)
        .control(true)
        .record(
            T + 2,
            Record::new()
                .with_key(&[0u8, 0, 0, 1][..])
                .with_value(&[0u8, 0, 0, 0, 0, 5][..]),
        )
        .build()
}

fn log_append_time() -> RecordBatch {
    RecordBatch::builder()
        .base_offset(5)
        .partition_leader_epoch(0)
        .log_append_time(T + 100)
        .record(T, Record::new().with_value("la1"))
        .record(T + 7, Record::new().with_value("la2"))
        .build()
}

fn delete_horizon() -> RecordBatch {
    RecordBatch::builder()
        .base_offset(300)
        .partition_leader_epoch(1)
        .delete_horizon(T + 86_400_000)
        .record(T, Record::new().with_key("gone"))
        .build()
}

/// Forty records of about 1.7 KiB: several snappy chunks and LZ4 blocks.
fn bulk(codec: Compression) -> RecordBatch {
    let mut builder = RecordBatch::builder().compression(codec);
    for i in 0..40 {
        let value: String = (0..100).map(|j| format!("record {i} line {j}\n")).collect();
        let record = Record::new()
            .with_key(format!("key-{i}"))
            .with_value(value)
            .with_header("i", i.to_string());
        builder = builder.record(T + i, record);
    }
    builder.build()
}

fn uncompressed() -> Vec<(&'static str, &'static [u8], RecordBatch)> {
    let vectors = [
        vector!("single_record_with_header"),
        vector!("multi_record_gaps_nulls"),
        vector!("transactional"),
        vector!("control_commit"),
        vector!("log_append_time"),
        vector!("delete_horizon"),
    ];
    let expected = [
        single_record_with_header(),
        multi(Compression::None),
        transactional(),
        control_commit(),
        log_append_time(),
        delete_horizon(),
    ];
    vectors
        .into_iter()
        .zip(expected)
        .map(|((name, bytes), batch)| (name, bytes, batch))
        .collect()
}

fn compressed() -> Vec<(&'static str, &'static [u8], RecordBatch)> {
    let vectors = [
        (vector!("gzip_multi"), multi(Compression::Gzip)),
        (vector!("snappy_multi"), multi(Compression::Snappy)),
        (vector!("lz4_multi"), multi(Compression::Lz4)),
        (vector!("zstd_multi"), multi(Compression::Zstd)),
        (vector!("gzip_bulk"), bulk(Compression::Gzip)),
        (vector!("snappy_bulk"), bulk(Compression::Snappy)),
        (vector!("lz4_bulk"), bulk(Compression::Lz4)),
        (vector!("zstd_bulk"), bulk(Compression::Zstd)),
    ];
    vectors
        .into_iter()
        .map(|((name, bytes), batch)| (name, bytes, batch))
        .collect()
}

#[test]
fn builder_writes_what_kafka_writes() {
    for (name, java, batch) in uncompressed() {
        assert_eq!(&batch.to_bytes().unwrap()[..], java, "{name}");
    }
}

#[test]
fn kafka_batches_decode_and_re_encode_unchanged() {
    for (name, java, expected) in uncompressed() {
        let bytes = Bytes::from_static(java);
        let batch = RecordBatch::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(batch, expected, "{name}");
        assert_eq!(&batch.to_bytes().unwrap()[..], java, "{name}");
    }
}

#[test]
fn kafka_values_read_as_kafka_reports_them() {
    // Offsets and timestamps as Kafka's DefaultRecordBatch reports them for these vectors.
    let multi = multi(Compression::None);
    let offsets: Vec<_> = multi.records.iter().map(|r| multi.offset_of(r)).collect();
    assert_eq!(offsets, [1000, 1001, 1005]);
    assert_eq!(multi.last_offset(), 1005);
    assert_eq!(multi.timestamp_of(&multi.records[2]), T - 3);
    let appended = log_append_time();
    assert!(appended
        .records
        .iter()
        .all(|r| appended.timestamp_of(r) == T + 100));
    assert_eq!(delete_horizon().delete_horizon_ms(), Some(T + 86_400_000));
}

#[test]
fn compressed_kafka_batches_decode_where_the_codec_is_built() {
    for (name, java, expected) in compressed() {
        let bytes = Bytes::from_static(java);
        let result = RecordBatch::decode(&bytes);
        if !expected.compression.is_available() {
            assert_eq!(
                result,
                Err(DecodeErrorKind::UnsupportedCompression {
                    base_offset: expected.base_offset,
                    codec: expected.compression.name()
                }
                .into()),
                "{name}"
            );
            continue;
        }
        let batch = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(batch, expected, "{name}");
        let ours = batch.to_bytes().unwrap();
        assert_eq!(
            RecordBatch::decode(&ours),
            Ok(expected),
            "{name} through our codec"
        );
    }
}

#[test]
fn all_vectors_back_to_back_read_as_one_field() {
    let all: Vec<_> = uncompressed()
        .into_iter()
        .chain(
            compressed()
                .into_iter()
                .filter(|(_, _, b)| b.compression.is_available()),
        )
        .collect();
    let field = Bytes::from(
        all.iter()
            .flat_map(|(_, bytes, _)| bytes.iter().copied())
            .collect::<Vec<_>>(),
    );
    let decoded = decode_batches(&field).unwrap();
    let expected: Vec<_> = all.into_iter().map(|(_, _, batch)| batch).collect();
    assert_eq!(decoded, expected);
}

/// Writes our encoding of every vector as hex for Kafka's Java client to read back:
/// `KLAMM_RECORDS_EXPORT_DIR=/tmp/x cargo test -p klamm-protocol --all-features -- --ignored export`.
#[test]
#[ignore = "writes files for the cross-check against Kafka's Java client"]
fn export_for_java_cross_check() {
    let dir = std::env::var("KLAMM_RECORDS_EXPORT_DIR").expect("KLAMM_RECORDS_EXPORT_DIR");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, _, batch) in uncompressed().into_iter().chain(compressed()) {
        if !batch.compression.is_available() {
            continue;
        }
        let hex: String = batch
            .to_bytes()
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(format!("{dir}/{name}.hex"), hex + "\n").unwrap();
    }
}
