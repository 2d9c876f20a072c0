//! [`InlineVec`]: a vector of small `Copy` values that keeps the first few inline.
//!
//! Kafka responses are full of short integer lists: the replicas and in-sync replicas of every
//! partition, usually three brokers each. Decoding each into a `Vec` would cost an allocation
//! per list; an [`InlineVec`] holds up to `N` values in place and only spills to the heap
//! beyond that.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

/// An array of `i32` as generated messages hold it: up to three values inline.
pub type Int32Vec = InlineVec<i32, 3>;

impl Int32Vec {
    /// The big-endian `int32`s in `raw`, whose length the caller has checked is a multiple
    /// of four.
    ///
    /// The inline case builds its three slots as values rather than in a loop: a loop writes
    /// each slot to memory and the copy into the message then reads them back as one wider
    /// load, which the CPU cannot forward from the narrower stores.
    #[inline(always)]
    pub(crate) fn from_be_bytes(raw: &[u8]) -> Self {
        fn read(chunk: &[u8]) -> i32 {
            chunk.try_into().map_or(0, i32::from_be_bytes)
        }
        let at = |index: usize| raw.get(index * 4..index * 4 + 4).map_or(0, read);
        let len = raw.len() / 4;
        let repr = if len <= 3 {
            Repr::Inline {
                len: len as u8,
                items: [at(0), at(1), at(2)],
            }
        } else {
            Repr::Heap(Box::new(raw.chunks_exact(4).map(read).collect()))
        };
        InlineVec { repr }
    }
}

/// A vector of `Copy` values that keeps up to `N` of them inline, without allocating.
///
/// It dereferences to a slice, so reading it looks like reading a `Vec`; it converts from a
/// `Vec`, an array or an iterator, and compares equal to any of them holding the same values.
///
/// ```
/// use klamm_protocol::primitives::Int32Vec;
///
/// let mut replicas = Int32Vec::from([1, 2, 3]);
/// assert_eq!(replicas, [1, 2, 3]);
/// assert!(replicas.contains(&2));
/// replicas.push(4); // moves to the heap
/// assert_eq!(replicas.iter().sum::<i32>(), 10);
/// assert_eq!(replicas, vec![1, 2, 3, 4]);
/// ```
#[derive(Clone)]
pub struct InlineVec<T: Copy + Default, const N: usize> {
    repr: Repr<T, N>,
}

#[derive(Clone)]
enum Repr<T, const N: usize> {
    /// The first `len` items are the values.
    Inline { len: u8, items: [T; N] },
    /// Boxed so the whole vector stays as small as the inline form.
    #[allow(clippy::box_collection)]
    Heap(Box<Vec<T>>),
}

impl<T: Copy + Default, const N: usize> InlineVec<T, N> {
    const FITS: () = assert!(N <= u8::MAX as usize, "inline capacity must fit in a u8");

    /// An empty vector.
    pub fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS;
        InlineVec {
            repr: Repr::Inline {
                len: 0,
                items: [T::default(); N],
            },
        }
    }

    /// A vector of the values in `slice`, inline if they fit.
    pub fn from_slice(slice: &[T]) -> Self {
        Self::from_iter_exact(slice.iter().copied())
    }

    /// A vector of the values of an iterator whose length is known up front.
    #[inline(always)]
    pub fn from_iter_exact(values: impl ExactSizeIterator<Item = T>) -> Self {
        let len = values.len();
        if len <= N {
            let mut items = [T::default(); N];
            for (slot, value) in items.iter_mut().zip(values) {
                *slot = value;
            }
            InlineVec {
                repr: Repr::Inline {
                    len: len as u8,
                    items,
                },
            }
        } else {
            InlineVec {
                repr: Repr::Heap(Box::new(values.collect())),
            }
        }
    }

    /// The values.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        match &self.repr {
            Repr::Inline { len, items } => &items[..usize::from(*len)],
            Repr::Heap(values) => values,
        }
    }

    /// The values, writable in place.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.repr {
            Repr::Inline { len, items } => &mut items[..usize::from(*len)],
            Repr::Heap(values) => values,
        }
    }

    /// Whether the values are held inline (no heap allocation).
    pub fn is_inline(&self) -> bool {
        matches!(self.repr, Repr::Inline { .. })
    }

    /// Appends a value, moving to the heap when the inline space is full.
    pub fn push(&mut self, value: T) {
        match &mut self.repr {
            Repr::Inline { len, items } if usize::from(*len) < N => {
                items[usize::from(*len)] = value;
                *len += 1;
            }
            Repr::Inline { len, items } => {
                let mut values = Vec::with_capacity(N * 2 + 1);
                values.extend_from_slice(&items[..usize::from(*len)]);
                values.push(value);
                self.repr = Repr::Heap(Box::new(values));
            }
            Repr::Heap(values) => values.push(value),
        }
    }

    /// Removes every value.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// The values as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        match self.repr {
            Repr::Inline { .. } => self.as_slice().to_vec(),
            Repr::Heap(values) => *values,
        }
    }
}

impl<T: Copy + Default, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Default, const N: usize> Deref for InlineVec<T, N> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Copy + Default, const N: usize> DerefMut for InlineVec<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: Copy + Default, const N: usize> AsRef<[T]> for InlineVec<T, N> {
    fn as_ref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Copy + Default + fmt::Debug, const N: usize> fmt::Debug for InlineVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq for InlineVec<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Default + Eq, const N: usize> Eq for InlineVec<T, N> {}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq<[T]> for InlineVec<T, N> {
    fn eq(&self, other: &[T]) -> bool {
        self.as_slice() == other
    }
}

impl<T: Copy + Default + PartialEq, const N: usize, const M: usize> PartialEq<[T; M]>
    for InlineVec<T, N>
{
    fn eq(&self, other: &[T; M]) -> bool {
        self.as_slice() == other
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq<Vec<T>> for InlineVec<T, N> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq<InlineVec<T, N>> for Vec<T> {
    fn eq(&self, other: &InlineVec<T, N>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Default + PartialOrd, const N: usize> PartialOrd for InlineVec<T, N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.as_slice().partial_cmp(other.as_slice())
    }
}

impl<T: Copy + Default + Ord, const N: usize> Ord for InlineVec<T, N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl<T: Copy + Default + Hash, const N: usize> Hash for InlineVec<T, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<T: Copy + Default, const N: usize> From<Vec<T>> for InlineVec<T, N> {
    fn from(values: Vec<T>) -> Self {
        if values.len() <= N {
            Self::from_slice(&values)
        } else {
            InlineVec {
                repr: Repr::Heap(Box::new(values)),
            }
        }
    }
}

impl<T: Copy + Default, const N: usize> From<&[T]> for InlineVec<T, N> {
    fn from(values: &[T]) -> Self {
        Self::from_slice(values)
    }
}

impl<T: Copy + Default, const N: usize, const M: usize> From<[T; M]> for InlineVec<T, N> {
    fn from(values: [T; M]) -> Self {
        Self::from_slice(&values)
    }
}

impl<T: Copy + Default, const N: usize> From<InlineVec<T, N>> for Vec<T> {
    fn from(values: InlineVec<T, N>) -> Self {
        values.into_vec()
    }
}

impl<T: Copy + Default, const N: usize> FromIterator<T> for InlineVec<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut values = Self::new();
        values.extend(iter);
        values
    }
}

impl<T: Copy + Default, const N: usize> Extend<T> for InlineVec<T, N> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for value in iter {
            self.push(value);
        }
    }
}

impl<'a, T: Copy + Default, const N: usize> IntoIterator for &'a InlineVec<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: Copy + Default, const N: usize> IntoIterator for InlineVec<T, N> {
    type Item = T;
    type IntoIter = IntoIter<T, N>;

    fn into_iter(self) -> IntoIter<T, N> {
        IntoIter {
            values: self,
            next: 0,
        }
    }
}

/// The values of an [`InlineVec`], by value.
#[derive(Debug, Clone)]
pub struct IntoIter<T: Copy + Default, const N: usize> {
    values: InlineVec<T, N>,
    next: usize,
}

impl<T: Copy + Default, const N: usize> Iterator for IntoIter<T, N> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let value = self.values.as_slice().get(self.next).copied();
        self.next += usize::from(value.is_some());
        value
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.values.len() - self.next;
        (left, Some(left))
    }
}

impl<T: Copy + Default, const N: usize> ExactSizeIterator for IntoIter<T, N> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_int32s_fill_inline_slots_then_spill() {
        let raw: Vec<u8> = (1..=4i32).flat_map(i32::to_be_bytes).collect();
        for count in 0..=4 {
            let values = Int32Vec::from_be_bytes(&raw[..count * 4]);
            assert_eq!(values, (1..=count as i32).collect::<Vec<_>>());
            assert_eq!(values.is_inline(), count <= 3);
        }
        assert_eq!(Int32Vec::from_be_bytes(&(-2i32).to_be_bytes()), [-2]);
    }

    #[test]
    fn stays_as_small_as_a_pointer_pair() {
        assert_eq!(std::mem::size_of::<Int32Vec>(), 16);
        assert_eq!(std::mem::size_of::<Option<Int32Vec>>(), 16);
    }

    #[test]
    fn spills_to_the_heap_past_the_inline_capacity() {
        let mut values = Int32Vec::new();
        for value in 0..3 {
            values.push(value);
            assert!(values.is_inline());
        }
        values.push(3);
        assert!(!values.is_inline());
        assert_eq!(values, [0, 1, 2, 3]);
        assert_eq!(values.clone().into_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    #[test]
    fn equality_ignores_where_values_live() {
        let inline = Int32Vec::from_slice(&[7, 8]);
        let mut heap = Int32Vec::from(vec![7, 8, 9, 10]);
        assert_ne!(inline, heap);
        if let Repr::Heap(values) = &mut heap.repr {
            values.truncate(2);
        }
        assert_eq!(inline, heap);
        let hash = |v: &Int32Vec| {
            use std::collections::hash_map::DefaultHasher;
            let mut hasher = DefaultHasher::new();
            v.hash(&mut hasher);
            hasher.finish()
        };
        assert_eq!(hash(&inline), hash(&heap));
        // Unused inline slots never leak into comparisons.
        let mut shrunk = Int32Vec::from([1, 2, 3]);
        shrunk.clear();
        assert_eq!(shrunk, Int32Vec::new());
    }

    #[test]
    fn debug_prints_a_list() {
        assert_eq!(format!("{:?}", Int32Vec::from([1, 2])), "[1, 2]");
    }
}
