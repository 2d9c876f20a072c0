//! Tagged fields a decoder did not recognise, kept so they can be written back unchanged.

use bytes::Bytes;

use super::encoder::tagged_field_len;

/// The unknown tagged fields of one struct, in the order they were read.
///
/// Newer brokers may add tagged fields that this build does not know; keeping them means a
/// decoded message re-encodes to the same bytes.
///
/// Almost every struct has none, so an empty set is a single null pointer: it costs eight
/// bytes in each decoded struct and no allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UnknownTaggedFields {
    /// `None` when empty, never `Some` of an empty `Vec`, so the derived comparisons hold.
    /// Boxed to keep the empty case one pointer wide.
    #[allow(clippy::box_collection)]
    fields: Option<Box<Vec<(u32, Bytes)>>>,
}

/// Iterator over unknown tagged fields as `(tag, value)`.
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, (u32, Bytes)>, fn(&'a (u32, Bytes)) -> (u32, &'a [u8])>;

impl UnknownTaggedFields {
    /// Adds a field, keeping the fields sorted by tag (a repeated tag replaces the earlier one).
    pub fn push(&mut self, tag: u32, value: Bytes) {
        let fields = self.fields.get_or_insert_with(Default::default);
        match fields.binary_search_by_key(&tag, |(t, _)| *t) {
            Ok(index) => fields[index].1 = value,
            Err(index) => fields.insert(index, (tag, value)),
        }
    }

    fn as_slice(&self) -> &[(u32, Bytes)] {
        self.fields.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Number of fields.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.fields.is_none()
    }

    /// The fields as `(tag, value)`, in tag order.
    pub fn iter(&self) -> Iter<'_> {
        fn entry((tag, value): &(u32, Bytes)) -> (u32, &[u8]) {
            (*tag, value)
        }
        self.as_slice()
            .iter()
            .map(entry as fn(&(u32, Bytes)) -> (u32, &[u8]))
    }

    /// Bytes these fields take when written (not counting the section's field count).
    #[inline]
    pub fn encoded_len(&self) -> usize {
        self.as_slice()
            .iter()
            .map(|(tag, value)| tagged_field_len(*tag, value.len()))
            .sum()
    }
}
