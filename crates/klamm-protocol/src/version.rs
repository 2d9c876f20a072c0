//! [`VersionRange`]: an inclusive range of API or message versions.

use std::fmt;

/// An inclusive range of versions, such as the versions of a message or the versions a broker
/// supports for an API.
///
/// ```
/// use klamm_protocol::VersionRange;
///
/// let range = VersionRange::new(3, 9);
/// assert!(range.contains(4));
/// assert_eq!(range.intersect(VersionRange::new(0, 5)), Some(VersionRange::new(3, 5)));
/// assert_eq!(range.to_string(), "3-9");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    /// The lowest version.
    pub min: i16,
    /// The highest version.
    pub max: i16,
}

impl VersionRange {
    /// The range `min..=max`.
    pub const fn new(min: i16, max: i16) -> Self {
        VersionRange { min, max }
    }

    /// Whether `version` is in the range.
    pub const fn contains(&self, version: i16) -> bool {
        version >= self.min && version <= self.max
    }

    /// The versions in both ranges, if any.
    pub fn intersect(&self, other: VersionRange) -> Option<VersionRange> {
        let min = self.min.max(other.min);
        let max = self.max.min(other.max);
        (min <= max).then_some(VersionRange { min, max })
    }

    /// Every version in the range, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = i16> {
        self.min..=self.max
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}-{}", self.min, self.max)
        }
    }
}
