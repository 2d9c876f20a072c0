//! [`RecordBatch`]: one magic v2 batch, laid out as Kafka's `DefaultRecordBatch`.
//!
//! ```text
//! offset  field                 type
//!  0      baseOffset            int64
//!  8      batchLength           int32   bytes after this field
//! 12      partitionLeaderEpoch  int32
//! 16      magic                 int8    2
//! 17      crc                   uint32  CRC-32C of everything from attributes to the end
//! 21      attributes            int16   see below
//! 23      lastOffsetDelta       int32
//! 27      baseTimestamp         int64   the delete horizon when bit 6 is set
//! 35      maxTimestamp          int64
//! 43      producerId            int64
//! 51      producerEpoch         int16
//! 53      baseSequence          int32
//! 57      recordsCount          int32
//! 61      records               compressed as a whole when the codec is not none
//! ```
//!
//! Attributes: bits 0-2 compression codec, bit 3 timestamp type (1 = log append time),
//! bit 4 transactional, bit 5 control, bit 6 delete horizon set. Other bits are unused; Kafka
//! ignores them and so do we.

use bytes::{BufMut, Bytes, BytesMut};

use super::compression::{Compression, InflateError};
use super::record::{checked_count, checked_i32, Record, MIN_RECORD_LEN};
use super::{DecompressionLimits, RecordBatchBuilder};
use crate::primitives::Decoder;
use crate::{DecodeError, DecodeErrorKind, EncodeError};

/// The baseOffset and batchLength fields that come before what batchLength counts.
pub(super) const LOG_OVERHEAD: usize = 12;
/// Bytes of a batch before its first record.
pub(super) const RECORD_BATCH_OVERHEAD: usize = 61;
const MAGIC: i8 = 2;
const MAGIC_OFFSET: usize = 16;
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;

const COMPRESSION_MASK: i16 = 0x07;
const LOG_APPEND_TIME_FLAG: i16 = 0x08;
const TRANSACTIONAL_FLAG: i16 = 0x10;
const CONTROL_FLAG: i16 = 0x20;
const DELETE_HORIZON_FLAG: i16 = 0x40;

/// What a batch's timestamps mean: bit 3 of the batch attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// Each record carries the time its producer created it.
    #[default]
    CreateTime,
    /// The broker stamped the batch when it appended it; every record's timestamp is the
    /// batch's `max_timestamp`.
    LogAppendTime,
}

/// One record batch (magic v2): a header shared by a run of records, and the records.
///
/// Build one with [`RecordBatch::builder`], read them with
/// [`decode_batches`](super::decode_batches), write one with [`encode`](Self::encode). Fields
/// are written as they are: `last_offset_delta` and `max_timestamp` are not recomputed from the
/// records (Kafka keeps them from before compaction), so a decoded batch re-encodes unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RecordBatch {
    /// Offset of the first record the batch was written with.
    pub base_offset: i64,
    /// Epoch of the partition leader that appended the batch; -1 from producers.
    pub partition_leader_epoch: i32,
    /// How the records are compressed.
    pub compression: Compression,
    /// What the timestamps mean.
    pub timestamp_type: TimestampType,
    /// Whether the batch belongs to a transaction.
    pub is_transactional: bool,
    /// Whether the batch holds control records (transaction markers and the like).
    pub is_control: bool,
    /// Whether `base_timestamp` holds the delete horizon set by log compaction.
    pub has_delete_horizon: bool,
    /// Offset of the last record the batch was written with, relative to `base_offset`.
    pub last_offset_delta: i32,
    /// Timestamp the record deltas are relative to (the first record's, usually), in ms.
    pub base_timestamp: i64,
    /// Largest record timestamp, or the log append time, in ms.
    pub max_timestamp: i64,
    /// Id of the idempotent or transactional producer, or -1.
    pub producer_id: i64,
    /// That producer's epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// The records, in offset order.
    pub records: Vec<Record>,
}

impl Default for RecordBatch {
    /// An empty, uncompressed batch at offset 0 with no producer: Kafka's "none" values.
    fn default() -> Self {
        RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            compression: Compression::None,
            timestamp_type: TimestampType::CreateTime,
            is_transactional: false,
            is_control: false,
            has_delete_horizon: false,
            last_offset_delta: 0,
            base_timestamp: -1,
            max_timestamp: -1,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            records: Vec::new(),
        }
    }
}

impl RecordBatch {
    /// Starts building a batch; see [`RecordBatchBuilder`].
    pub fn builder() -> RecordBatchBuilder {
        RecordBatchBuilder::new()
    }

    /// The attributes field as written: codec, timestamp type and flags.
    pub fn attributes(&self) -> i16 {
        let mut attributes = i16::from(self.compression.id());
        let flags = [
            (
                self.timestamp_type == TimestampType::LogAppendTime,
                LOG_APPEND_TIME_FLAG,
            ),
            (self.is_transactional, TRANSACTIONAL_FLAG),
            (self.is_control, CONTROL_FLAG),
            (self.has_delete_horizon, DELETE_HORIZON_FLAG),
        ];
        for (set, flag) in flags {
            if set {
                attributes |= flag;
            }
        }
        attributes
    }

    /// Offset of the last record the batch was written with.
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .wrapping_add(i64::from(self.last_offset_delta))
    }

    /// The offset after the batch: where a consumer reads next.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().wrapping_add(1)
    }

    /// A record's absolute offset.
    pub fn offset_of(&self, record: &Record) -> i64 {
        self.base_offset
            .wrapping_add(i64::from(record.offset_delta))
    }

    /// A record's absolute timestamp in ms: the batch's `max_timestamp` under log append
    /// time, as Kafka reports it, otherwise the base timestamp plus the record's delta.
    pub fn timestamp_of(&self, record: &Record) -> i64 {
        match self.timestamp_type {
            TimestampType::LogAppendTime => self.max_timestamp,
            TimestampType::CreateTime => self.base_timestamp.wrapping_add(record.timestamp_delta),
        }
    }

    /// The delete horizon set by log compaction, if any (ms).
    pub fn delete_horizon_ms(&self) -> Option<i64> {
        self.has_delete_horizon.then_some(self.base_timestamp)
    }

    /// Reads exactly one batch, which must fill `batch`, with the default
    /// [`DecompressionLimits`].
    ///
    /// A `records` field from a Fetch response may hold several batches and a cut-off one at
    /// the end: read those with [`decode_batches`](super::decode_batches) or
    /// [`RecordBatches`](super::RecordBatches).
    pub fn decode(batch: &Bytes) -> Result<Self, DecodeError> {
        let mut decoder = Decoder::new(batch);
        decoder.int64("RecordBatch.baseOffset")?;
        let length = decoder.int32("RecordBatch.batchLength")?;
        let length = usize::try_from(length).map_err(|_| DecodeErrorKind::InvalidLength {
            what: "RecordBatch.batchLength",
            length: i64::from(length),
        })?;
        match decoder.remaining() {
            remaining if remaining < length => Err(DecodeErrorKind::LengthExceedsInput {
                what: "RecordBatch.batchLength",
                length: length as u64,
                remaining,
            }
            .into()),
            remaining if remaining > length => Err(DecodeErrorKind::TrailingBytes {
                what: "RecordBatch",
                remaining: remaining - length,
            }
            .into()),
            _ => Self::decode_complete(batch, DecompressionLimits::DEFAULT.max_batch_size())
                .map(|(batch, _)| batch),
        }
    }

    /// Reads a batch whose batchLength has been checked to match `batch.len()`, inflating its
    /// records to at most `limit` bytes. Also returns how many bytes decompression produced.
    pub(super) fn decode_complete(
        batch: &Bytes,
        limit: usize,
    ) -> Result<(Self, usize), DecodeError> {
        let mut decoder = Decoder::new(batch);
        let base_offset = decoder.int64("RecordBatch.baseOffset")?;
        let length = decoder.int32("RecordBatch.batchLength")?;
        let too_short = || {
            DecodeErrorKind::InvalidLength {
                what: "RecordBatch.batchLength",
                length: i64::from(length),
            }
            .into()
        };
        if batch.len() <= MAGIC_OFFSET {
            return Err(too_short());
        }
        let partition_leader_epoch = decoder.int32("RecordBatch.partitionLeaderEpoch")?;
        let magic = decoder.int8("RecordBatch.magic")?;
        if magic != MAGIC {
            return Err(DecodeErrorKind::UnsupportedMagic { base_offset, magic }.into());
        }
        if batch.len() < RECORD_BATCH_OVERHEAD {
            return Err(too_short());
        }
        let expected = decoder.uint32("RecordBatch.crc")?;
        let actual = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
        if expected != actual {
            return Err(DecodeErrorKind::CrcMismatch {
                base_offset,
                expected,
                actual,
            }
            .into());
        }
        let attributes = decoder.int16("RecordBatch.attributes")?;
        let codec_id = (attributes & COMPRESSION_MASK) as u8;
        let compression = Compression::from_id(codec_id).ok_or(DecodeErrorKind::InvalidValue {
            what: "RecordBatch.attributes.compression",
            value: i64::from(codec_id),
        })?;
        let mut batch_out = RecordBatch {
            base_offset,
            partition_leader_epoch,
            compression,
            timestamp_type: if attributes & LOG_APPEND_TIME_FLAG != 0 {
                TimestampType::LogAppendTime
            } else {
                TimestampType::CreateTime
            },
            is_transactional: attributes & TRANSACTIONAL_FLAG != 0,
            is_control: attributes & CONTROL_FLAG != 0,
            has_delete_horizon: attributes & DELETE_HORIZON_FLAG != 0,
            last_offset_delta: decoder.int32("RecordBatch.lastOffsetDelta")?,
            base_timestamp: decoder.int64("RecordBatch.baseTimestamp")?,
            max_timestamp: decoder.int64("RecordBatch.maxTimestamp")?,
            producer_id: decoder.int64("RecordBatch.producerId")?,
            producer_epoch: decoder.int16("RecordBatch.producerEpoch")?,
            base_sequence: decoder.int32("RecordBatch.baseSequence")?,
            records: Vec::new(),
        };
        let count = decoder.int32("RecordBatch.recordsCount")?;
        // A negative count fails here, before any decompression.
        checked_count(&decoder, "RecordBatch.recordsCount", count, 0)?;
        let stored = decoder.take("RecordBatch.records", decoder.remaining())?;
        let (records, inflated) = match compression {
            Compression::None => (stored, 0),
            codec => {
                let raw = codec
                    .decompress(&stored, limit)
                    .map_err(|error| inflate_error(error, base_offset, codec, limit))?;
                let inflated = raw.len();
                (Bytes::from(raw), inflated)
            }
        };
        let mut decoder = Decoder::new(&records);
        let count = checked_count(&decoder, "RecordBatch.recordsCount", count, MIN_RECORD_LEN)?;
        batch_out.records.reserve_exact(count);
        for index in 0..count {
            batch_out
                .records
                .push(Record::decode(&mut decoder, base_offset, index)?);
        }
        decoder.finish("RecordBatch.records")?;
        Ok((batch_out, inflated))
    }

    /// Writes the batch to the end of `buf`, computing batchLength and the CRC and compressing
    /// the records with `self.compression`.
    ///
    /// On error nothing is left in `buf`. Fails if the codec's feature is off, or a length does
    /// not fit its field.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = buf.len();
        let result = self.write(buf, start);
        if result.is_err() {
            buf.truncate(start);
        }
        result
    }

    /// Encodes the batch into a new buffer.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::new();
        self.encode(&mut buf)?;
        Ok(buf.freeze())
    }

    fn write(&self, buf: &mut BytesMut, start: usize) -> Result<(), EncodeError> {
        if !self.compression.is_available() {
            return Err(EncodeError::UnsupportedCompression {
                codec: self.compression.name(),
            });
        }
        let count = checked_i32("RecordBatch.recordsCount", self.records.len())?;
        let records_len = self.records.iter().fold(0usize, |sum, record| {
            sum.saturating_add(record.encoded_len())
        });
        if self.compression == Compression::None {
            buf.reserve(RECORD_BATCH_OVERHEAD.saturating_add(records_len));
        } else {
            buf.reserve(RECORD_BATCH_OVERHEAD);
        }
        buf.put_i64(self.base_offset);
        buf.put_i32(0); // batchLength, filled in below
        buf.put_i32(self.partition_leader_epoch);
        buf.put_i8(MAGIC);
        buf.put_u32(0); // crc, filled in below
        buf.put_i16(self.attributes());
        buf.put_i32(self.last_offset_delta);
        buf.put_i64(self.base_timestamp);
        buf.put_i64(self.max_timestamp);
        buf.put_i64(self.producer_id);
        buf.put_i16(self.producer_epoch);
        buf.put_i32(self.base_sequence);
        buf.put_i32(count);
        if self.compression == Compression::None {
            for record in &self.records {
                record.encode(buf)?;
            }
        } else {
            let mut raw = BytesMut::with_capacity(records_len);
            for record in &self.records {
                record.encode(&mut raw)?;
            }
            buf.put_slice(&self.compression.compress(&raw)?);
        }
        let length = checked_i32("RecordBatch.batchLength", buf.len() - start - LOG_OVERHEAD)?;
        buf[start + 8..start + LOG_OVERHEAD].copy_from_slice(&length.to_be_bytes());
        let crc = crc32c::crc32c(&buf[start + ATTRIBUTES_OFFSET..]);
        buf[start + CRC_OFFSET..start + ATTRIBUTES_OFFSET].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }
}

fn inflate_error(
    error: InflateError,
    base_offset: i64,
    codec: Compression,
    limit: usize,
) -> DecodeError {
    let codec = codec.name();
    match error {
        InflateError::Unsupported => {
            DecodeErrorKind::UnsupportedCompression { base_offset, codec }.into()
        }
        InflateError::Failed(reason) => DecodeErrorKind::DecompressionFailed {
            base_offset,
            codec,
            reason,
        }
        .into(),
        InflateError::TooLarge => DecodeErrorKind::DecompressedTooLarge {
            base_offset,
            codec,
            limit,
        }
        .into(),
    }
}
