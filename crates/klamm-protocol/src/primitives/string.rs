//! [`KafkaString`]: a UTF-8 string that shares the frame it was decoded from.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;

/// An immutable UTF-8 string backed by [`Bytes`].
///
/// Decoding a string slices the frame instead of copying it; cloning is a reference-count
/// increment. It dereferences to `str` and converts from `&str` and `String`.
///
/// ```
/// use klamm_protocol::primitives::KafkaString;
///
/// let topic = KafkaString::from("orders");
/// assert_eq!(topic, "orders");
/// assert_eq!(topic.len(), 6);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KafkaString(ByteString);

impl KafkaString {
    /// Wraps bytes after checking they are UTF-8.
    #[inline]
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        ByteString::try_from(bytes).map(KafkaString)
    }

    /// A string from a `'static` literal, without copying.
    pub const fn from_static(value: &'static str) -> Self {
        KafkaString(ByteString::from_static(value))
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying bytes.
    #[inline]
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Gives back the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
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
        KafkaString(ByteString::from(value))
    }
}

impl From<String> for KafkaString {
    fn from(value: String) -> Self {
        KafkaString(ByteString::from(value))
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
