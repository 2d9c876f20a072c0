//! Tagged fields a decoder did not recognise, kept so they can be written back unchanged.

use bytes::Bytes;

use super::encoder::tagged_field_len;

/// The unknown tagged fields of one struct, in the order they were read.
///
/// Newer brokers may add tagged fields that this build does not know; keeping them means a
/// decoded message re-encodes to the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UnknownTaggedFields {
    fields: Vec<(u32, Bytes)>,
}

/// Iterator over unknown tagged fields as `(tag, value)`.
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, (u32, Bytes)>, fn(&'a (u32, Bytes)) -> (u32, &'a [u8])>;

impl UnknownTaggedFields {
    /// Adds a field, keeping the fields sorted by tag (a repeated tag replaces the earlier one).
    pub fn push(&mut self, tag: u32, value: Bytes) {
        match self.fields.binary_search_by_key(&tag, |(t, _)| *t) {
            Ok(index) => self.fields[index].1 = value,
            Err(index) => self.fields.insert(index, (tag, value)),
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields as `(tag, value)`, in tag order.
    pub fn iter(&self) -> Iter<'_> {
        fn entry((tag, value): &(u32, Bytes)) -> (u32, &[u8]) {
            (*tag, value)
        }
        self.fields
            .iter()
            .map(entry as fn(&(u32, Bytes)) -> (u32, &[u8]))
    }

    /// Bytes these fields take when written (not counting the section's field count).
    pub fn encoded_len(&self) -> usize {
        self.fields
            .iter()
            .map(|(tag, value)| tagged_field_len(*tag, value.len()))
            .sum()
    }
}
