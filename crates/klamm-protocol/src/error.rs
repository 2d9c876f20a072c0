//! The two error types of the codec: one for reading bytes, one for writing them.
//!
//! Every variant names *what* was being read or written (a field path such as
//! `MetadataResponse.Topics.Name`), so a bad frame can be traced to the byte that broke it.

use crate::VersionRange;

/// Why a frame could not be decoded.
///
/// Decoding never panics: every malformed input ends in one of these. The error is a single
/// pointer, so the `Result` of every field read stays small enough to live in registers;
/// [`kind`](Self::kind) tells what went wrong.
///
/// ```
/// use bytes::Bytes;
/// use klamm_protocol::messages::MetadataResponse;
/// use klamm_protocol::{DecodeErrorKind, Message};
///
/// let error = MetadataResponse::from_bytes(&Bytes::from_static(&[0, 0]), 12).unwrap_err();
/// assert!(matches!(error.kind(), DecodeErrorKind::UnexpectedEnd { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct DecodeError(Box<DecodeErrorKind>);

impl DecodeError {
    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> DecodeErrorKind {
        *self.0
    }
}

impl From<DecodeErrorKind> for DecodeError {
    #[cold]
    #[inline(never)]
    fn from(kind: DecodeErrorKind) -> Self {
        DecodeError(Box::new(kind))
    }
}

/// What went wrong while decoding: the detail behind a [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before a value was complete.
    #[error("{what}: needed {needed} bytes but only {remaining} remain")]
    UnexpectedEnd {
        /// What was being decoded.
        what: &'static str,
        /// Bytes the value needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length or count prefix claims more than the bytes left in the frame.
    #[error("{what}: length {length} exceeds the {remaining} bytes remaining")]
    LengthExceedsInput {
        /// What was being decoded.
        what: &'static str,
        /// The length the prefix claimed.
        length: u64,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length prefix is negative where no negative value (or only -1 for null) is allowed.
    #[error("{what}: invalid length {length}")]
    InvalidLength {
        /// What was being decoded.
        what: &'static str,
        /// The length read.
        length: i64,
    },
    /// A null was read for a value the version does not allow to be null.
    #[error("{what}: null is not allowed here")]
    UnexpectedNull {
        /// What was being decoded.
        what: &'static str,
    },
    /// A variable-length integer ran past its maximum size.
    #[error("{what}: variable-length integer longer than {max_bytes} bytes")]
    VarintTooLong {
        /// What was being decoded.
        what: &'static str,
        /// The most bytes such an integer may take.
        max_bytes: usize,
    },
    /// A string was not valid UTF-8.
    #[error("{what}: string is not valid UTF-8")]
    InvalidUtf8 {
        /// What was being decoded.
        what: &'static str,
    },
    /// The message cannot be read at the requested version.
    #[error("{message} version {version} is not supported (valid versions: {valid})")]
    UnsupportedVersion {
        /// The message.
        message: &'static str,
        /// The version asked for.
        version: i16,
        /// The versions the message has.
        valid: VersionRange,
    },
    /// No API has this key.
    #[error("unknown API key {api_key}")]
    UnknownApiKey {
        /// The key read.
        api_key: i16,
    },
    /// A known tagged field's value did not fill exactly the size its prefix declared.
    #[error("{what}: tagged field {tag} declared {declared} bytes but its value used {used}")]
    TaggedFieldSize {
        /// What was being decoded.
        what: &'static str,
        /// The tag.
        tag: u32,
        /// The declared size.
        declared: usize,
        /// The bytes the value used.
        used: usize,
    },
    /// A frame too large for a view (the `view` feature), which reads frames under 4 GiB (Kafka's
    /// own limit is 2 GiB).
    #[error("a {length}-byte frame is too large to view")]
    FrameTooLarge {
        /// The frame's length.
        length: usize,
    },
    /// Bytes were left over after a complete value.
    #[error("{what}: {remaining} unexpected bytes after the end")]
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// Bytes left over.
        remaining: usize,
    },
    /// A value is out of the range its field allows.
    #[error("{what}: invalid value {value}")]
    InvalidValue {
        /// What was being decoded.
        what: &'static str,
        /// The value read.
        value: i64,
    },
    /// A record batch's CRC-32C does not match its contents.
    #[error("record batch at base offset {base_offset}: CRC-32C is {actual:#010x}, header says {expected:#010x}")]
    CrcMismatch {
        /// The batch's base offset.
        base_offset: i64,
        /// The checksum in the batch header.
        expected: u32,
        /// The checksum of the bytes.
        actual: u32,
    },
    /// A record batch uses a magic byte other than 2.
    #[error("record batch at base offset {base_offset}: magic {magic} is not supported (only v2)")]
    UnsupportedMagic {
        /// The batch's base offset.
        base_offset: i64,
        /// The magic byte read.
        magic: i8,
    },
    /// A record batch is compressed with a codec this build cannot read.
    #[error("record batch at base offset {base_offset}: compression {codec} is not supported")]
    UnsupportedCompression {
        /// The batch's base offset.
        base_offset: i64,
        /// The codec's name.
        codec: &'static str,
    },
    /// A record's length prefix does not match the bytes its fields took.
    #[error("record batch at base offset {base_offset}: record {index} declares {declared} bytes but its fields took {used}")]
    RecordLengthMismatch {
        /// The batch's base offset.
        base_offset: i64,
        /// The record's position in the batch, from 0.
        index: usize,
        /// The length the record's prefix declared.
        declared: usize,
        /// The bytes its fields took.
        used: usize,
    },
    /// A compressed record batch could not be decompressed.
    #[error("record batch at base offset {base_offset}: {codec} decompression failed: {reason}")]
    DecompressionFailed {
        /// The batch's base offset.
        base_offset: i64,
        /// The codec's name.
        codec: &'static str,
        /// The codec's own description of the failure.
        reason: String,
    },
    /// A compressed record batch inflates past the configured limit (a decompression bomb, or a
    /// limit set too low).
    #[error("record batch at base offset {base_offset}: {codec} data inflates past the limit of {limit} bytes")]
    DecompressedTooLarge {
        /// The batch's base offset.
        base_offset: i64,
        /// The codec's name.
        codec: &'static str,
        /// The most bytes the batch was allowed to inflate to.
        limit: usize,
    },
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message cannot be written at the requested version.
    #[error("{message} version {version} is not supported (valid versions: {valid})")]
    UnsupportedVersion {
        /// The message.
        message: &'static str,
        /// The version asked for.
        version: i16,
        /// The versions the message has.
        valid: VersionRange,
    },
    /// A field holds a non-default value but the version cannot carry it.
    #[error("{field} is not available at version {version} and holds a non-default value")]
    FieldNotInVersion {
        /// The field's path.
        field: &'static str,
        /// The version being written.
        version: i16,
    },
    /// A field is null but the version cannot carry a null there.
    #[error("{field} is null, which version {version} cannot carry")]
    NullNotAllowed {
        /// The field's path.
        field: &'static str,
        /// The version being written.
        version: i16,
    },
    /// A value wrote a different number of bytes than its `encoded_len` said: a bug in the
    /// codec, reported instead of sending a corrupt frame.
    #[error("wrote {written} bytes where the encoded length said {expected}")]
    SizeMismatch {
        /// The size computed up front.
        expected: usize,
        /// The bytes the value wrote (or tried to).
        written: usize,
    },
    /// A string, byte array or array is longer than its length prefix can say.
    #[error("{what}: length {length} exceeds the maximum of {max}")]
    TooLong {
        /// What was being encoded.
        what: &'static str,
        /// Its length.
        length: usize,
        /// The largest length the encoding allows.
        max: usize,
    },
    /// A record batch asks for a compression codec this build does not include.
    #[error(
        "compression {codec} is not supported (enable the klamm-protocol feature of that name)"
    )]
    UnsupportedCompression {
        /// The codec's name.
        codec: &'static str,
    },
    /// A codec failed to compress a record batch.
    #[error("{codec} compression failed: {reason}")]
    CompressionFailed {
        /// The codec's name.
        codec: &'static str,
        /// The codec's own description of the failure.
        reason: String,
    },
}
