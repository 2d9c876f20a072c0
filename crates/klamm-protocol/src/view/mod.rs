//! Zero-copy views: messages checked once and read in place.
//!
//! [`Message::from_bytes`](crate::Message::from_bytes) builds the whole owned message: every
//! struct, list and string handle. A view instead checks the whole frame in one pass, allocating
//! nothing, and each accessor then reads its field straight from the frame. Strings come out as
//! `&str` and byte fields as `&[u8]` borrowed from the frame, arrays as [`ArrayView`]s that read
//! their elements as they are iterated, and nested structs as views of their own.
//!
//! Every message `M` has a view type, `M::View<'a>` (for example
//! [`MetadataResponseView`](crate::messages::metadata_response::MetadataResponseView)), which
//! implements [`View`]. A frame a view accepts is exactly one that `from_bytes` accepts, and
//! [`View::to_message`] gives the same value `from_bytes` does.
//!
//! ```
//! use klamm_protocol::messages::metadata_response::{MetadataResponseTopic, MetadataResponseView};
//! use klamm_protocol::messages::MetadataResponse;
//! use klamm_protocol::view::View;
//! use klamm_protocol::Message;
//!
//! let response = MetadataResponse::default()
//!     .with_topics(vec![MetadataResponseTopic::default().with_name(Some("orders".into()))]);
//! let frame = response.to_bytes(12)?;
//!
//! let view = MetadataResponseView::parse(&frame, 12)?;
//! let names: Vec<Option<&str>> = view.topics().iter().map(|topic| topic.name()).collect();
//! assert_eq!(names, [Some("orders")]);
//! assert_eq!(view.to_message(), response);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::convert::Infallible;
use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;

use crate::primitives::{Decoder, Uuid};
use crate::DecodeError;

mod reader;

// The cursor traits and the trusting reader are what generated scans are written over, not API:
// public only because `Element` (a bound of `ArrayView`'s methods) names them.
#[doc(hidden)]
pub use reader::Reader;

/// A checked message read in place; see the [module docs](self).
pub trait View<'a>: Copy + fmt::Debug {
    /// The owned message this is a view of.
    type Message;

    /// Checks that `frame` holds exactly one message of `version`, without allocating.
    ///
    /// Fails where [`Message::from_bytes`](crate::Message::from_bytes) fails, with the same
    /// error.
    fn parse(frame: &'a Bytes, version: i16) -> Result<Self, DecodeError>;

    /// Reads every field into the owned message: the value `from_bytes` gives.
    fn to_message(&self) -> Self::Message;
}

/// What a view's scan walks a frame with: the checking [`Decoder`] when the view is made,
/// then the trusting [`Reader`] to find fields again in a frame already checked.
///
/// The scan of each struct is generated once, over any cursor. Used by generated code only.
#[doc(hidden)]
pub trait Cursor<'a> {
    /// Why a scan stops: a [`DecodeError`] for the decoder, nothing for the reader.
    type Error;

    /// The frame being read.
    fn frame(&self) -> &'a Bytes;

    /// Where the next read starts in the frame.
    fn position(&self) -> u32;

    /// Skips a fixed-size value.
    fn skip_fixed(&mut self, what: &'static str, size: usize) -> Result<(), Self::Error>;

    /// Reads the marker byte before a nullable struct (negative for null).
    fn marker(&mut self, what: &'static str) -> Result<i8, Self::Error>;

    /// Skips a string, checking (for the decoder) that it is UTF-8 and, unless `nullable`,
    /// not null.
    fn skip_string(
        &mut self,
        what: &'static str,
        compact: bool,
        nullable: bool,
    ) -> Result<(), Self::Error>;

    /// Skips a bytes value.
    fn skip_bytes(
        &mut self,
        what: &'static str,
        compact: bool,
        nullable: bool,
    ) -> Result<(), Self::Error>;

    /// Reads an array's length (`None` for null), checked (by the decoder) against the bytes
    /// left for elements of at least `min_element_size` bytes.
    fn array_length(
        &mut self,
        what: &'static str,
        compact: bool,
        nullable: bool,
        min_element_size: usize,
    ) -> Result<Option<usize>, Self::Error>;

    /// Walks a tagged-field section, handing `known` each field's tag and a cursor over
    /// exactly its bytes; `known` answers whether it took the field.
    fn tagged_fields(
        &mut self,
        what: &'static str,
        known: impl FnMut(u32, &mut Self) -> Result<bool, Self::Error>,
    ) -> Result<(), Self::Error>;
}

/// The value of a scan that cannot fail.
#[inline(always)]
pub(crate) fn infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// A value an [`ArrayView`] holds: a primitive, a string or a struct's view. Implemented by
/// generated code only.
#[doc(hidden)]
pub trait Element<'a>: Sized {
    /// The encoded size when every element has the same one, so an array of them is skipped
    /// at once.
    const FIXED_SIZE: Option<usize> = None;

    /// Skips one element, checking it with the decoder; `compact` says whether strings use
    /// the compact encoding.
    fn skip<C: Cursor<'a>>(
        cursor: &mut C,
        what: &'static str,
        version: i16,
        compact: bool,
    ) -> Result<(), C::Error>;

    /// Reads one element of a checked frame.
    fn read(reader: &mut Reader<'a>, version: i16, compact: bool) -> Self;
}

macro_rules! fixed_elements {
    ($($ty:ty => $read:ident, $size:expr;)*) => {$(
        impl<'a> Element<'a> for $ty {
            const FIXED_SIZE: Option<usize> = Some($size);

            #[inline(always)]
            fn skip<C: Cursor<'a>>(
                cursor: &mut C,
                what: &'static str,
                _version: i16,
                _compact: bool,
            ) -> Result<(), C::Error> {
                cursor.skip_fixed(what, $size)
            }

            #[inline(always)]
            fn read(reader: &mut Reader<'a>, _version: i16, _compact: bool) -> Self {
                reader.$read()
            }
        }
    )*};
}

fixed_elements! {
    i8 => int8, 1;
    i16 => int16, 2;
    i32 => int32, 4;
    i64 => int64, 8;
    Uuid => uuid, 16;
}

impl<'a> Element<'a> for &'a str {
    #[inline(always)]
    fn skip<C: Cursor<'a>>(
        cursor: &mut C,
        what: &'static str,
        _version: i16,
        compact: bool,
    ) -> Result<(), C::Error> {
        cursor.skip_string(what, compact, false)
    }

    #[inline(always)]
    fn read(reader: &mut Reader<'a>, _version: i16, compact: bool) -> Self {
        reader.str(compact).unwrap_or_default()
    }
}

/// An array in a checked frame, whose elements are read as it is iterated.
///
/// Iterating reads each element from the frame again: cheap for numbers, a pass over the
/// element's own fields for a struct.
pub struct ArrayView<'a, T> {
    frame: &'a Bytes,
    /// Where the first element starts in `frame`.
    start: u32,
    len: u32,
    version: i16,
    compact: bool,
    element: PhantomData<fn() -> T>,
}

impl<'a, T: Element<'a>> ArrayView<'a, T> {
    /// Skips an array at the cursor (checking its length and every element, for the
    /// decoder); `None` for null.
    #[inline(always)]
    pub(crate) fn scan<C: Cursor<'a>>(
        cursor: &mut C,
        what: &'static str,
        compact: bool,
        nullable: bool,
        min_element_size: usize,
        version: i16,
    ) -> Result<Option<Self>, C::Error> {
        let Some(len) = cursor.array_length(what, compact, nullable, min_element_size)? else {
            return Ok(None);
        };
        let start = cursor.position();
        match T::FIXED_SIZE {
            // The length was checked against the bytes left, so this cannot run short.
            Some(size) => cursor.skip_fixed(what, len * size)?,
            None => {
                for _ in 0..len {
                    T::skip(cursor, what, version, compact)?;
                }
            }
        }
        Ok(Some(ArrayView {
            frame: cursor.frame(),
            start,
            len: len as u32,
            version,
            compact,
            element: PhantomData,
        }))
    }

    /// Reads the length of an array in a checked frame, leaving its elements for later;
    /// `None` for null.
    #[inline(always)]
    pub(crate) fn read(reader: &mut Reader<'a>, compact: bool, version: i16) -> Option<Self> {
        let len = reader.length(compact, true)?;
        Some(ArrayView {
            frame: reader.frame(),
            start: reader.position(),
            len: len as u32,
            version,
            compact,
            element: PhantomData,
        })
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements, read one by one from the frame.
    pub fn iter(&self) -> ArrayIter<'a, T> {
        ArrayIter {
            reader: Reader::at(self.frame, self.start),
            remaining: self.len,
            version: self.version,
            compact: self.compact,
            element: PhantomData,
        }
    }
}

impl<'a, T> ArrayView<'a, T> {
    /// An array with no elements, for a field the version does not have.
    pub(crate) fn empty(version: i16) -> Self {
        ArrayView {
            frame: empty_frame(),
            start: 0,
            len: 0,
            version,
            compact: false,
            element: PhantomData,
        }
    }
}

impl<T> Clone for ArrayView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ArrayView<'_, T> {}

impl<'a, T: Element<'a> + fmt::Debug> fmt::Debug for ArrayView<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: Element<'a>> IntoIterator for ArrayView<'a, T> {
    type Item = T;
    type IntoIter = ArrayIter<'a, T>;

    fn into_iter(self) -> ArrayIter<'a, T> {
        self.iter()
    }
}

/// The elements of an [`ArrayView`].
pub struct ArrayIter<'a, T> {
    reader: Reader<'a>,
    remaining: u32,
    version: i16,
    compact: bool,
    element: PhantomData<fn() -> T>,
}

impl<'a, T: Element<'a>> Iterator for ArrayIter<'a, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(T::read(&mut self.reader, self.version, self.compact))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining as usize, Some(self.remaining as usize))
    }
}

impl<'a, T: Element<'a>> ExactSizeIterator for ArrayIter<'a, T> {}

/// The offset of a field the version does not have (its accessor gives the default).
pub(crate) const ABSENT: u32 = u32::MAX;

/// A reader at the field starting at `offset` of a checked frame, or `None` if the field is
/// [`ABSENT`].
#[inline(always)]
pub(crate) fn field(frame: &Bytes, offset: u32) -> Option<Reader<'_>> {
    (offset != ABSENT).then(|| Reader::at(frame, offset))
}

/// Checks that a frame can be viewed (views keep 32-bit offsets) and starts its decoder.
pub(crate) fn decoder(frame: &Bytes) -> Result<Decoder<'_>, DecodeError> {
    if frame.len() >= ABSENT as usize {
        return Err(crate::DecodeErrorKind::FrameTooLarge {
            length: frame.len(),
        }
        .into());
    }
    Ok(Decoder::new(frame))
}

/// An empty frame, for the views of fields a version does not have.
pub(crate) fn empty_frame() -> &'static Bytes {
    static EMPTY: Bytes = Bytes::new();
    &EMPTY
}

/// `slice` as `Bytes` sharing `frame` when it lies inside it (it always does for a checked
/// view), copied otherwise.
pub(crate) fn shared_bytes(frame: &Bytes, slice: &[u8]) -> Bytes {
    let frame_start = frame.as_ptr() as usize;
    let start = slice.as_ptr() as usize;
    let inside = start >= frame_start && start + slice.len() <= frame_start + frame.len();
    if inside && !slice.is_empty() {
        frame.slice_ref(slice)
    } else {
        Bytes::copy_from_slice(slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_numbers_are_skipped_at_once_and_read_element_by_element() {
        // A classic int32 array of three int32s, then a trailing byte.
        let frame = Bytes::from_static(&[0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9]);
        let mut decoder = Decoder::new(&frame);
        let array = ArrayView::<i32>::scan(&mut decoder, "Ids", false, false, 4, 0)
            .unwrap()
            .unwrap();
        assert_eq!(Cursor::position(&decoder), 16);
        assert_eq!(array.len(), 3);
        assert_eq!(array.iter().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(array.iter().size_hint(), (3, Some(3)));
        assert_eq!(format!("{array:?}"), "[1, 2, 3]");
    }

    #[test]
    fn a_null_array_is_none_where_nullable_and_an_error_elsewhere() {
        let frame = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]);
        let nullable = ArrayView::<i32>::scan(&mut Decoder::new(&frame), "Ids", false, true, 4, 0);
        assert!(nullable.unwrap().is_none());
        let error = ArrayView::<i32>::scan(&mut Decoder::new(&frame), "Ids", false, false, 4, 0)
            .unwrap_err();
        assert_eq!(
            error.kind(),
            &crate::DecodeErrorKind::UnexpectedNull { what: "Ids" }
        );
    }

    #[test]
    fn an_array_longer_than_the_frame_is_refused_before_any_element_is_read() {
        let frame = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff]);
        let error = ArrayView::<&str>::scan(&mut Decoder::new(&frame), "Names", false, false, 1, 0)
            .unwrap_err();
        assert!(matches!(
            error.kind(),
            crate::DecodeErrorKind::LengthExceedsInput { what: "Names", .. }
        ));
    }

    #[test]
    fn empty_arrays_and_absent_fields_read_nothing() {
        let empty = ArrayView::<i64>::empty(3);
        assert!(empty.is_empty());
        assert_eq!(empty.iter().next(), None);
        let frame = Bytes::from_static(&[1, 2]);
        assert!(field(&frame, ABSENT).is_none());
        assert_eq!(field(&frame, 1).map(|mut reader| reader.int8()), Some(2));
    }

    #[test]
    fn shared_bytes_share_the_frame_and_copy_anything_else() {
        let frame = Bytes::from_static(b"hello world");
        let inside = shared_bytes(&frame, &frame[6..]);
        assert_eq!(inside, "world");
        assert_eq!(inside.as_ptr(), frame[6..].as_ptr());
        let elsewhere = shared_bytes(&frame, b"other");
        assert_eq!(elsewhere, "other");
        assert_ne!(elsewhere.as_ptr(), b"other".as_ptr());
        assert!(shared_bytes(&frame, &[]).is_empty());
    }
}
