//! Record batches (magic v2): the `records` fields of Produce and Fetch.
//!
//! A `records` field is a run of [`RecordBatch`]es back to back, each a header followed by its
//! [`Record`]s, laid out as Kafka's `DefaultRecordBatch` and `DefaultRecord`. This module reads
//! and writes them without I/O: [`decode_batches`] (or the lazy [`RecordBatches`]) turns the
//! field's [`Bytes`] into batches whose keys, values and headers are slices of those bytes, and
//! [`RecordBatch::encode`] writes a batch back, computing its length and CRC-32C.
//!
//! Only magic v2 (Kafka 0.11 and later) is supported; the older message sets (magic 0 and 1)
//! are refused with [`DecodeErrorKind::UnsupportedMagic`] errors. Compressed batches need the codec's
//! cargo feature (`gzip`, `snappy`, `lz4`, `zstd`, or `compression` for all four); without it
//! they fail with [`DecodeErrorKind::UnsupportedCompression`] errors. Decompression is bounded by
//! [`DecompressionLimits`].
//!
//! # Cut-off batches
//!
//! A broker fills a Fetch response up to a byte limit, so a `records` field may end partway
//! through a batch. That is not an error: [`decode_batches`] returns the complete batches and
//! drops the partial one, and [`RecordBatches::incomplete_tail`] says how many bytes were
//! dropped. The next fetch starts at the partial batch's offset and gets it whole. (A field
//! holding *only* a partial batch means the batch is larger than the fetch size, which Kafka's
//! consumer reports as `RecordTooLargeException`.)
//!
//! ```
//! use bytes::BytesMut;
//! use klamm_protocol::records::{decode_batches, Record, RecordBatch};
//!
//! let batch = RecordBatch::builder()
//!     .base_offset(42)
//!     .record(1_700_000_000_000, Record::new().with_key("k").with_value("hello"))
//!     .build();
//! let mut buf = BytesMut::new();
//! batch.encode(&mut buf)?;
//! let records = buf.freeze();
//!
//! let batches = decode_batches(&records)?;
//! assert_eq!(batches, [batch]);
//! let first = &batches[0].records[0];
//! assert_eq!(batches[0].offset_of(first), 42);
//! assert_eq!(first.value.as_deref(), Some(&b"hello"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod builder;
mod compression;
mod record;
#[cfg(feature = "snappy")]
mod xerial;

#[cfg(test)]
mod tests;

use bytes::Bytes;

use crate::primitives::Decoder;
use crate::{DecodeError, DecodeErrorKind};

use batch::LOG_OVERHEAD;
pub use batch::{RecordBatch, TimestampType};
pub use builder::RecordBatchBuilder;
pub use compression::Compression;
pub use record::{Record, RecordHeader};

/// Reads every complete batch of a `records` field, with the default [`DecompressionLimits`].
///
/// A partial batch at the end is dropped, not an error (see the [module docs](self)); use
/// [`RecordBatches`] to learn how many bytes it took or to set limits.
pub fn decode_batches(records: &Bytes) -> Result<Vec<RecordBatch>, DecodeError> {
    RecordBatches::new(records).collect()
}

/// How far compressed batches may inflate before decoding gives up with
/// [`DecodeErrorKind::DecompressedTooLarge`] errors.
///
/// There are two caps: one per batch, and one for everything a single [`RecordBatches`] (one
/// `records` field) decompresses, so many small hostile batches cannot add up either.
///
/// ```
/// use klamm_protocol::records::DecompressionLimits;
///
/// let limits = DecompressionLimits::default().with_max_batch_size(8 << 20);
/// assert_eq!(limits.max_batch_size(), 8 << 20);
/// assert_eq!(limits.max_total_size(), 256 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecompressionLimits {
    max_batch_size: usize,
    max_total_size: usize,
}

impl DecompressionLimits {
    /// 64 MiB per batch and 256 MiB per `records` field: far above what Kafka's default
    /// `max.message.bytes` (1 MiB) compresses from, far below what exhausts a machine.
    pub const DEFAULT: Self = DecompressionLimits {
        max_batch_size: 64 << 20,
        max_total_size: 256 << 20,
    };

    /// Sets the most bytes one batch's records may inflate to.
    #[must_use]
    pub const fn with_max_batch_size(mut self, bytes: usize) -> Self {
        self.max_batch_size = bytes;
        self
    }

    /// Sets the most bytes all the batches of one `records` field may inflate to.
    #[must_use]
    pub const fn with_max_total_size(mut self, bytes: usize) -> Self {
        self.max_total_size = bytes;
        self
    }

    /// The most bytes one batch's records may inflate to.
    pub const fn max_batch_size(&self) -> usize {
        self.max_batch_size
    }

    /// The most bytes all the batches of one `records` field may inflate to.
    pub const fn max_total_size(&self) -> usize {
        self.max_total_size
    }
}

impl Default for DecompressionLimits {
    fn default() -> Self {
        DecompressionLimits::DEFAULT
    }
}

/// The batches of a `records` field, decoded one at a time.
///
/// Yields each complete batch, stops quietly at a partial batch at the end (see
/// [`incomplete_tail`](Self::incomplete_tail)), and stops after the first error.
///
/// ```
/// use bytes::Bytes;
/// use klamm_protocol::records::{Record, RecordBatch, RecordBatches};
///
/// let batch = RecordBatch::builder().record(0, Record::new().with_value("v")).build();
/// let whole = batch.to_bytes()?;
/// // Two batches, the second cut off as a Fetch response may be.
/// let mut field = whole.to_vec();
/// field.extend_from_slice(&whole[..20]);
/// let field = Bytes::from(field);
///
/// let mut batches = RecordBatches::new(&field);
/// assert_eq!(batches.next(), Some(Ok(batch)));
/// assert_eq!(batches.next(), None);
/// assert_eq!(batches.incomplete_tail(), 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecordBatches<'a> {
    decoder: Decoder<'a>,
    limits: DecompressionLimits,
    inflated: usize,
    incomplete_tail: usize,
    done: bool,
}

impl<'a> RecordBatches<'a> {
    /// Starts reading the batches of `records` with the default [`DecompressionLimits`].
    pub fn new(records: &'a Bytes) -> Self {
        RecordBatches {
            decoder: Decoder::new(records),
            limits: DecompressionLimits::DEFAULT,
            inflated: 0,
            incomplete_tail: 0,
            done: false,
        }
    }

    /// Uses `limits` for the batches not yet read.
    #[must_use]
    pub fn with_limits(mut self, limits: DecompressionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Bytes at the end of the input that hold only the start of a batch and were skipped.
    ///
    /// Known once the iterator has returned `None`; 0 when the input ended on a batch
    /// boundary.
    pub fn incomplete_tail(&self) -> usize {
        self.incomplete_tail
    }

    /// Bytes not yet read, the incomplete tail included.
    pub fn remaining(&self) -> usize {
        self.decoder.remaining()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, DecodeError> {
        let remaining = self.decoder.remaining();
        if remaining < LOG_OVERHEAD {
            self.incomplete_tail = remaining;
            return Ok(None);
        }
        let mut peek = self.decoder.clone();
        peek.int64("RecordBatch.baseOffset")?;
        let length = peek.int32("RecordBatch.batchLength")?;
        let length = usize::try_from(length).map_err(|_| DecodeErrorKind::InvalidLength {
            what: "RecordBatch.batchLength",
            length: i64::from(length),
        })?;
        // As Kafka's own reader does, a batch longer than what is left is a cut-off tail.
        if length > remaining - LOG_OVERHEAD {
            self.incomplete_tail = remaining;
            return Ok(None);
        }
        let bytes = self.decoder.take("RecordBatch", LOG_OVERHEAD + length)?;
        let budget = self.limits.max_total_size.saturating_sub(self.inflated);
        let limit = self.limits.max_batch_size.min(budget);
        let (batch, inflated) = RecordBatch::decode_complete(&bytes, limit)?;
        self.inflated = self.inflated.saturating_add(inflated);
        Ok(Some(batch))
    }
}

impl Iterator for RecordBatches<'_> {
    type Item = Result<RecordBatch, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.next_batch();
        match result {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl std::iter::FusedIterator for RecordBatches<'_> {}
