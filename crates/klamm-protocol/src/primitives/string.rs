//! [`KafkaString`]: a UTF-8 string that shares the frame it was decoded from.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::sync::{Arc, LazyLock};

use bytes::Bytes;

/// An immutable UTF-8 string that shares the buffer it lives in.
///
/// A decoded string is a range of the frame it came from: decoding copies nothing and cloning
/// is a reference-count increment. The handle is 16 bytes (a pointer to the shared buffer and
/// a 32-bit start and length), half the size of a [`Bytes`], and `Option<KafkaString>` is the
/// same size. It dereferences to `str` and converts from `&str` and `String`.
///
/// ```
/// use klamm_protocol::primitives::KafkaString;
///
/// let topic = KafkaString::from("orders");
/// assert_eq!(topic, "orders");
/// assert_eq!(topic.len(), 6);
/// assert_eq!(std::mem::size_of::<Option<KafkaString>>(), 16);
/// ```
#[derive(Clone)]
pub struct KafkaString {
    /// The buffer the string is a range of. Never mutated: `Bytes` is immutable.
    buf: Arc<Bytes>,
    /// Where the string starts in `buf` and its length.
    span: Span,
}

/// A string's length in bytes, or [`WHOLE_BUFFER`] (the low 32 bits, which the size pass of an
/// encode reads alone), and its start in its buffer (the high 32 bits).
///
/// One integer rather than two fields, so that a handle is a pointer and an integer: the
/// compiler then moves it as two registers. As a pointer and two `u32`s it is copied as one
/// 16-byte block, and reading that block back right after its halves were written stalls the
/// CPU (the store cannot be forwarded to a wider load), several times per decoded struct.
#[derive(Clone, Copy)]
struct Span(u64);

impl Span {
    #[inline(always)]
    fn new(start: u32, len: u32) -> Self {
        Span(u64::from(len) | (u64::from(start) << 32))
    }

    #[inline(always)]
    fn start(self) -> u32 {
        (self.0 >> 32) as u32
    }

    #[inline(always)]
    fn len(self) -> u32 {
        self.0 as u32
    }
}

/// A `len` meaning "from `start` to the end of the buffer", for owned strings too long for a
/// `u32`. A decoded string never has it: Kafka frames are shorter than `i32::MAX`.
const WHOLE_BUFFER: u32 = u32::MAX;

/// The buffer every empty default string shares, so `Default` does not allocate.
static EMPTY: LazyLock<Arc<Bytes>> = LazyLock::new(|| Arc::new(Bytes::new()));

/// Whether `bytes` are UTF-8.
#[inline(always)]
pub(crate) fn is_utf8(bytes: &[u8]) -> bool {
    // Kafka's names and config values are almost always ASCII, which a short inlined scan
    // confirms faster than the general validator's call.
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

impl KafkaString {
    /// Wraps bytes after checking they are UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self::whole(Arc::new(bytes)))
    }

    /// The string in `buf[range]`, after checking those bytes are UTF-8.
    ///
    /// This is how a decoder makes many strings share one frame: every string costs a
    /// reference-count increment and no allocation. `None` if the range is outside `buf`, does
    /// not fit 32 bits, or is not UTF-8.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use bytes::Bytes;
    /// use klamm_protocol::primitives::KafkaString;
    ///
    /// let frame = Arc::new(Bytes::from_static(b"\x00\x05hello"));
    /// let greeting = KafkaString::from_utf8_range(&frame, 2..7).unwrap();
    /// assert_eq!(greeting, "hello");
    /// assert!(KafkaString::from_utf8_range(&frame, 2..9).is_none());
    /// ```
    #[inline]
    pub fn from_utf8_range(buf: &Arc<Bytes>, range: Range<usize>) -> Option<Self> {
        let bytes = buf.get(range.clone())?;
        if !is_utf8(bytes) {
            return None;
        }
        let start = u32::try_from(range.start).ok()?;
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|&len| len != WHOLE_BUFFER)?;
        Some(KafkaString {
            buf: Arc::clone(buf),
            span: Span::new(start, len),
        })
    }

    /// A string from a `'static` literal, without copying it.
    pub fn from_static(value: &'static str) -> Self {
        Self::whole(Arc::new(Bytes::from_static(value.as_bytes())))
    }

    /// The whole of `buf`, which the caller has checked is UTF-8.
    fn whole(buf: Arc<Bytes>) -> Self {
        let len = u32::try_from(buf.len())
            .ok()
            .filter(|&len| len != WHOLE_BUFFER)
            .unwrap_or(WHOLE_BUFFER);
        KafkaString {
            buf,
            span: Span::new(0, len),
        }
    }

    #[inline]
    fn range(&self) -> Range<usize> {
        let start = self.span.start() as usize;
        match self.span.len() {
            WHOLE_BUFFER => start..self.buf.len(),
            len => start..start + len as usize,
        }
    }

    /// Its length in bytes, read from the handle alone.
    #[inline]
    pub fn len(&self) -> usize {
        match self.span.len() {
            WHOLE_BUFFER => self.as_bytes().len(),
            len => len as usize,
        }
    }

    /// Whether it is the empty string.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The string's bytes.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_bytes(&self) -> &[u8] {
        let range = self.range();
        debug_assert!(range.start <= range.end && range.end <= self.buf.len());
        // SAFETY: every constructor checks that the range lies inside `buf`
        // (`from_utf8_range`) or makes it the whole of `buf` (the others); the fields are
        // private and never change, and `Bytes` never changes its length.
        unsafe { self.buf.get_unchecked(range) }
    }

    /// The string.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        let bytes = self.as_bytes();
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: every constructor checks that `buf[range]` is UTF-8 (`from_utf8`,
        // `from_utf8_range`) or takes it from a `str` (`from`, `from_static`, `default`). The
        // fields are private and never change after construction, and `Bytes` never mutates
        // the memory it views, so the bytes are still UTF-8 here. Skipping the re-check keeps
        // `Deref` O(1); the decode benchmark in `benches/large_responses` measures what the
        // smaller handle this design allows saves.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// The string's bytes as a [`Bytes`] sharing the same buffer.
    pub fn to_bytes(&self) -> Bytes {
        self.buf.slice(self.range())
    }

    /// Gives back the string's bytes as a [`Bytes`] sharing the same buffer.
    pub fn into_bytes(self) -> Bytes {
        self.to_bytes()
    }
}

impl Default for KafkaString {
    fn default() -> Self {
        KafkaString {
            buf: Arc::clone(&EMPTY),
            span: Span::new(0, 0),
        }
    }
}

impl Deref for KafkaString {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for KafkaString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for KafkaString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for KafkaString {
    fn from(value: &str) -> Self {
        Self::whole(Arc::new(Bytes::copy_from_slice(value.as_bytes())))
    }
}

impl From<String> for KafkaString {
    fn from(value: String) -> Self {
        Self::whole(Arc::new(Bytes::from(value)))
    }
}

impl From<&String> for KafkaString {
    fn from(value: &String) -> Self {
        KafkaString::from(value.as_str())
    }
}

impl From<KafkaString> for String {
    fn from(value: KafkaString) -> Self {
        value.as_str().to_owned()
    }
}

impl PartialEq for KafkaString {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for KafkaString {}

impl PartialOrd for KafkaString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KafkaString {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for KafkaString {
    /// Hashes as the `str` does, as `Borrow<str>` requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for KafkaString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for KafkaString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for KafkaString {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl fmt::Debug for KafkaString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for KafkaString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn handle_is_half_a_bytes() {
        assert_eq!(std::mem::size_of::<KafkaString>(), 16);
        assert_eq!(std::mem::size_of::<Option<KafkaString>>(), 16);
    }

    #[test]
    fn ranges_share_the_buffer() {
        let frame = Arc::new(Bytes::from_static(b"xxordersyy"));
        let topic = KafkaString::from_utf8_range(&frame, 2..8).unwrap();
        assert_eq!(topic, "orders");
        assert_eq!(topic.as_bytes().as_ptr(), frame[2..].as_ptr());
        assert_eq!(topic.to_bytes(), Bytes::from_static(b"orders"));
        assert_eq!(Arc::strong_count(&frame), 2);
        drop(topic);
        assert_eq!(Arc::strong_count(&frame), 1);
    }

    #[test]
    fn span_keeps_start_and_length_apart_at_their_limits() {
        for (start, len) in [
            (0, 0),
            (7, 3),
            (u32::MAX, 0),
            (0, WHOLE_BUFFER),
            (1 << 31, 1 << 31),
        ] {
            let span = Span::new(start, len);
            assert_eq!((span.start(), span.len()), (start, len));
        }
    }

    #[test]
    fn ranges_outside_the_buffer_or_not_utf8_are_refused() {
        let frame = Arc::new(Bytes::from_static(b"ab\xffcd"));
        assert!(KafkaString::from_utf8_range(&frame, 0..6).is_none());
        assert!(KafkaString::from_utf8_range(&frame, 1..3).is_none());
        assert!(KafkaString::from_utf8_range(&frame, 3..5).is_some());
        assert!(KafkaString::from_utf8(Bytes::from_static(b"\xc3")).is_err());
    }

    #[test]
    fn equal_strings_compare_and_hash_the_same_whatever_their_buffer() {
        let frame = Arc::new(Bytes::from_static(b"--topic--"));
        let sliced = KafkaString::from_utf8_range(&frame, 2..7).unwrap();
        let owned = KafkaString::from(String::from("topic"));
        assert_eq!(sliced, owned);
        assert_eq!(sliced.cmp(&owned), Ordering::Equal);
        let (a, b) = (KafkaString::from("a"), KafkaString::from("b"));
        assert!(a < b);

        let mut counts: HashMap<KafkaString, u32> = HashMap::new();
        *counts.entry(sliced).or_default() += 1;
        *counts.entry(owned).or_default() += 1;
        assert_eq!(counts.get("topic"), Some(&2));
    }

    #[test]
    fn defaults_are_empty_and_do_not_allocate_a_buffer_each() {
        let a = KafkaString::default();
        let b = KafkaString::default();
        assert!(a.is_empty());
        assert!(Arc::ptr_eq(&a.buf, &b.buf));
        assert_eq!(a, KafkaString::from(""));
    }

    #[test]
    fn conversions_keep_the_text() {
        let text = KafkaString::from_static("static");
        assert_eq!(String::from(text.clone()), "static");
        assert_eq!(format!("{text} {text:?}"), "static \"static\"");
        assert_eq!(text.into_bytes(), Bytes::from_static(b"static"));
    }
}
