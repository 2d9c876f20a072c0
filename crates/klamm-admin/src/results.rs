//! [`Results`]: one outcome per resource of a batch operation. One bad topic, group or
//! config resource never fails the others.

use std::collections::BTreeMap;
use std::ops::Deref;

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

struct Entry<'a, K, T>(&'a K, &'a Result<T, AdminError>);

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
