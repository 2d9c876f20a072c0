//! [`Results`]: one outcome per resource of a batch operation. One bad topic, group or
//! config resource never fails the others.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::{Deref, Index};

#[cfg(feature = "serde")]
use serde::ser::{SerializeSeq, SerializeStruct};

use crate::AdminError;

/// One `Result` per resource, keyed by the resource (a topic name, a [`ConfigResource`](crate::ConfigResource), …).
///
/// Dereferences to the map. Serialized as a list, so that any key type works in JSON:
/// `[{"resource": "orders", "ok": {…}}, {"resource": "bad", "error": {"kind": "kafka", …}}]`.
#[derive(Debug, Clone)]
pub struct Results<K: Ord, T>(pub BTreeMap<K, Result<T, AdminError>>);

impl<K: Ord, T> Default for Results<K, T> {
    fn default() -> Self {
        Results(BTreeMap::new())
    }
}

impl<K: Ord, T> Results<K, T> {
    /// Whether every resource succeeded.
    pub fn all_ok(&self) -> bool {
        self.0.values().all(Result::is_ok)
    }

    /// The resources that failed, with their errors.
    pub fn errors(&self) -> impl Iterator<Item = (&K, &AdminError)> {
        self.0
            .iter()
            .filter_map(|(key, result)| result.as_ref().err().map(|error| (key, error)))
    }

    /// The map itself.
    pub fn into_inner(self) -> BTreeMap<K, Result<T, AdminError>> {
        self.0
    }

    pub(crate) fn insert(&mut self, key: K, result: Result<T, AdminError>) {
        self.0.insert(key, result);
    }

    /// The results of a sharded request.
    pub(crate) fn from_items(items: BTreeMap<K, klamm_cluster::ItemResult<T>>) -> Self {
        items
            .into_iter()
            .map(|(key, item)| (key, item.result.map_err(AdminError::from)))
            .collect()
    }

    /// The result for `key`, however the caller names it (`results.result("orders")`).
    pub fn result(&self, key: impl Into<K>) -> Option<&Result<T, AdminError>> {
        self.0.get(&key.into())
    }

    /// The successes, with their keys.
    pub fn successes(&self) -> impl Iterator<Item = (&K, &T)> {
        self.0
            .iter()
            .filter_map(|(key, result)| result.as_ref().ok().map(|value| (key, value)))
    }
}

/// A write's answers, with the items whose failure may be the trace of this call's own
/// earlier attempt set apart: they need the cluster's state read back before they are
/// reported.
pub(crate) struct Settled<K: Ord, T> {
    pub results: Results<K, T>,
    /// Items to check, with the error to report if the check does not confirm them.
    pub doubtful: Vec<(K, AdminError)>,
}

/// Splits a sharded write's answers. An item is doubtful when an attempt that got no answer
/// may have applied it and the error is what that earlier success would cause (`own_trace`:
/// `TOPIC_ALREADY_EXISTS` after a create, `GROUP_ID_NOT_FOUND` after a delete, …), or when the
/// final error itself came after the request may have reached the broker (a deadline).
pub(crate) fn settle<K: Ord, T>(
    answers: BTreeMap<K, klamm_cluster::ItemResult<T>>,
    own_trace: impl Fn(&klamm_cluster::ClusterError) -> bool,
) -> Settled<K, T> {
    let mut results = Results::default();
    let mut doubtful = Vec::new();
    for (key, answer) in answers {
        match answer.result {
            Ok(value) => results.insert(key, Ok(value)),
            Err(error)
                if (answer.may_have_applied && own_trace(&error)) || error.may_have_applied() =>
            {
                doubtful.push((key, AdminError::from(error)));
            }
            Err(error) => results.insert(key, Err(AdminError::from(error))),
        }
    }
    Settled { results, doubtful }
}

/// What indexes [`Results`]: the key itself, or a name that stands for it
/// (`results["orders"]` for topics, groups and other named resources).
pub trait ResultKey<K: Clone> {
    /// The key this stands for.
    fn key(&self) -> Cow<'_, K>;
}

impl<K: Clone> ResultKey<K> for &K {
    fn key(&self) -> Cow<'_, K> {
        Cow::Borrowed(*self)
    }
}

impl ResultKey<String> for &str {
    fn key(&self) -> Cow<'_, String> {
        Cow::Owned((*self).to_owned())
    }
}

impl<K: Ord + Clone, T, Q: ResultKey<K>> Index<Q> for Results<K, T> {
    type Output = Result<T, AdminError>;

    /// The result for `key`.
    ///
    /// # Panics
    ///
    /// If the results have no entry for it.
    fn index(&self, key: Q) -> &Self::Output {
        &self.0[key.key().as_ref()]
    }
}

impl<K: Ord, T> Deref for Results<K, T> {
    type Target = BTreeMap<K, Result<T, AdminError>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<K: Ord, T> IntoIterator for Results<K, T> {
    type Item = (K, Result<T, AdminError>);
    type IntoIter = std::collections::btree_map::IntoIter<K, Result<T, AdminError>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: Ord, T> FromIterator<(K, Result<T, AdminError>)> for Results<K, T> {
    fn from_iter<I: IntoIterator<Item = (K, Result<T, AdminError>)>>(iter: I) -> Self {
        Results(iter.into_iter().collect())
    }
}

#[cfg(feature = "serde")]
struct Entry<'a, K, T>(&'a K, &'a Result<T, AdminError>);

#[cfg(feature = "serde")]
impl<K: serde::Serialize, T: serde::Serialize> serde::Serialize for Entry<'_, K, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Result", 2)?;
        state.serialize_field("resource", self.0)?;
        match self.1 {
            Ok(value) => state.serialize_field("ok", value)?,
            Err(error) => state.serialize_field("error", error)?,
        }
        state.end()
    }
}

#[cfg(feature = "serde")]
impl<K: Ord + serde::Serialize, T: serde::Serialize> serde::Serialize for Results<K, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (key, result) in &self.0 {
            seq.serialize_element(&Entry(key, result))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_serialize_as_list_with_ok_or_error() {
        let mut results: Results<String, u32> = Results::default();
        results.insert("a".into(), Ok(1));
        results.insert("b".into(), Err(AdminError::invalid("bad name")));
        let json = serde_json::to_value(&results).unwrap();
        assert_eq!(json[0]["resource"], "a");
        assert_eq!(json[0]["ok"], 1);
        assert_eq!(json[1]["error"]["kind"], "invalid_argument");
        assert!(!results.all_ok());
        assert_eq!(results.errors().count(), 1);
    }
}
