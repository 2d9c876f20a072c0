//! [`RecordBatchBuilder`]: assembles a [`RecordBatch`] from records with absolute timestamps,
//! working out the deltas, `last_offset_delta` and `max_timestamp` the way Kafka's
//! `MemoryRecordsBuilder` does.

use super::{Compression, Record, RecordBatch, TimestampType};

/// Builds a [`RecordBatch`].
///
/// Records get consecutive offsets from the base offset unless placed with
/// [`record_at`](Self::record_at). The base timestamp is the first record's timestamp unless set;
/// `max_timestamp` is the largest record timestamp, or the log append time.
///
/// ```
/// use klamm_protocol::records::{Compression, Record, RecordBatch};
///
/// let batch = RecordBatch::builder()
///     .base_offset(100)
///     .compression(Compression::None)
///     .record(1_700_000_000_000, Record::new().with_key("k").with_value("v1"))
///     .record(1_700_000_000_250, Record::new().with_value("v2"))
///     .build();
/// assert_eq!(batch.last_offset_delta, 1);
/// assert_eq!(batch.max_timestamp, 1_700_000_000_250);
/// assert_eq!(batch.offset_of(&batch.records[1]), 101);
/// assert_eq!(batch.timestamp_of(&batch.records[1]), 1_700_000_000_250);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RecordBatchBuilder {
    header: RecordBatch,
    base_timestamp: Option<i64>,
    log_append_time: Option<i64>,
    delete_horizon: Option<i64>,
    /// Each record with its offset delta and absolute timestamp.
    records: Vec<(i32, i64, Record)>,
}

impl RecordBatchBuilder {
    /// A builder for an empty, uncompressed batch at offset 0 with no producer.
    pub fn new() -> Self {
        RecordBatchBuilder::default()
    }

    /// Sets the offset of the first record (the broker assigns it on produce; 0 is customary).
    pub fn base_offset(mut self, offset: i64) -> Self {
        self.header.base_offset = offset;
        self
    }

    /// Sets the partition leader epoch (-1 by default, as producers send it).
    pub fn partition_leader_epoch(mut self, epoch: i32) -> Self {
        self.header.partition_leader_epoch = epoch;
        self
    }

    /// Sets the codec the records are compressed with when the batch is encoded.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.header.compression = compression;
        self
    }

    /// Sets the idempotent producer's id, epoch and the first record's sequence number.
    pub fn producer(mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Self {
        self.header.producer_id = producer_id;
        self.header.producer_epoch = producer_epoch;
        self.header.base_sequence = base_sequence;
        self
    }

    /// Marks the batch as part of a transaction.
    pub fn transactional(mut self, transactional: bool) -> Self {
        self.header.is_transactional = transactional;
        self
    }

    /// Marks the batch as holding control records.
    pub fn control(mut self, control: bool) -> Self {
        self.header.is_control = control;
        self
    }

    /// Sets the timestamp record deltas are relative to (default: the first record's).
    pub fn base_timestamp(mut self, timestamp: i64) -> Self {
        self.base_timestamp = Some(timestamp);
        self
    }

    /// Stamps the batch with log append time: the timestamp type becomes
    /// [`TimestampType::LogAppendTime`] and `max_timestamp` this time, as a broker writes it.
    pub fn log_append_time(mut self, timestamp: i64) -> Self {
        self.log_append_time = Some(timestamp);
        self
    }

    /// Sets the delete horizon log compaction records; it takes the place of the base
    /// timestamp, and record deltas become relative to it.
    pub fn delete_horizon(mut self, timestamp: i64) -> Self {
        self.delete_horizon = Some(timestamp);
        self
    }

    /// Appends a record at the next offset with an absolute timestamp in ms. The record's own
    /// deltas are replaced.
    pub fn record(self, timestamp: i64, record: Record) -> Self {
        let offset_delta = self
            .records
            .last()
            .map_or(0, |(delta, _, _)| delta.wrapping_add(1));
        self.record_at(offset_delta, timestamp, record)
    }

    /// Appends a record at `offset_delta` from the base offset, leaving a gap as compaction
    /// does. Offsets should increase; the builder does not reorder records.
    pub fn record_at(mut self, offset_delta: i32, timestamp: i64, record: Record) -> Self {
        self.records.push((offset_delta, timestamp, record));
        self
    }

    /// The batch.
    pub fn build(self) -> RecordBatch {
        let mut batch = self.header;
        let first = self.records.first().map(|(_, timestamp, _)| *timestamp);
        batch.base_timestamp = self
            .delete_horizon
            .or(self.base_timestamp)
            .or(first)
            .unwrap_or(-1);
        batch.has_delete_horizon = self.delete_horizon.is_some();
        batch.last_offset_delta = self.records.last().map_or(0, |(delta, _, _)| *delta);
        batch.max_timestamp = match self.log_append_time {
            Some(time) => {
                batch.timestamp_type = TimestampType::LogAppendTime;
                time
            }
            None => self
                .records
                .iter()
                .map(|(_, timestamp, _)| *timestamp)
                .max()
                .unwrap_or(-1),
        };
        let base_timestamp = batch.base_timestamp;
        batch.records = self
            .records
            .into_iter()
            .map(|(offset_delta, timestamp, mut record)| {
                record.offset_delta = offset_delta;
                record.timestamp_delta = timestamp.wrapping_sub(base_timestamp);
                record
            })
            .collect();
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_batch_has_kafka_none_values() {
        let batch = RecordBatchBuilder::new().build();
        assert_eq!(batch, RecordBatch::default());
        assert_eq!(batch.base_timestamp, -1);
        assert_eq!(batch.max_timestamp, -1);
        assert_eq!(batch.producer_id, -1);
    }

    #[test]
    fn deltas_follow_offsets_and_first_timestamp() {
        let batch = RecordBatch::builder()
            .base_offset(1000)
            .record(50, Record::new())
            .record(45, Record::new())
            .record_at(5, 60, Record::new())
            .record(55, Record::new())
            .build();
        let deltas: Vec<_> = batch
            .records
            .iter()
            .map(|r| (r.offset_delta, r.timestamp_delta))
            .collect();
        assert_eq!(deltas, [(0, 0), (1, -5), (5, 10), (6, 5)]);
        assert_eq!(batch.last_offset_delta, 6);
        assert_eq!(batch.max_timestamp, 60);
        assert_eq!(batch.next_offset(), 1007);
    }

    #[test]
    fn log_append_time_sets_type_and_max_timestamp() {
        let batch = RecordBatch::builder()
            .log_append_time(999)
            .record(10, Record::new())
            .record(20, Record::new())
            .build();
        assert_eq!(batch.timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(batch.max_timestamp, 999);
        assert_eq!(batch.base_timestamp, 10);
        assert_eq!(batch.timestamp_of(&batch.records[0]), 999);
    }

    #[test]
    fn delete_horizon_replaces_the_base_timestamp() {
        let batch = RecordBatch::builder()
            .delete_horizon(1_000)
            .record(400, Record::new())
            .build();
        assert_eq!(batch.delete_horizon_ms(), Some(1_000));
        assert_eq!(batch.records[0].timestamp_delta, -600);
        assert_eq!(batch.timestamp_of(&batch.records[0]), 400);
        assert_eq!(batch.max_timestamp, 400);
    }
}
