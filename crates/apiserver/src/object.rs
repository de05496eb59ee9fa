//! Stored objects as JSON values: keys, metadata access and timestamps.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value};
use stallsim_core::ResourceRef;

/// Seconds since the Unix epoch of simulated time zero: 2025-04-01T00:00:00Z.
const EPOCH_UNIX_SECONDS: i64 = 1_743_465_600;

/// Which stored collection a resource's objects live in. The version is left
/// out: every resource is served at one version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ResourceKey {
    pub(crate) group: String,
    pub(crate) plural: String,
}

impl ResourceKey {
    pub(crate) fn of(resource: &ResourceRef) -> Self {
        ResourceKey {
            group: resource.group.clone(),
            plural: resource.plural.clone(),
        }
    }
}

/// One object within its collection: namespace (empty when cluster-scoped),
/// then name, so iteration is sorted as a LIST answers.
pub(crate) type ObjectKey = (String, String);

/// The k8s `Time` of simulated instant `now`, to the second.
pub(crate) fn time_at(now: Duration) -> Time {
    let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let timestamp = Timestamp::from_second(EPOCH_UNIX_SECONDS.saturating_add(seconds))
        .unwrap_or(Timestamp::MAX);
    Time(timestamp)
}

/// A string field of `metadata`, if set.
pub(crate) fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get("metadata")?.get(field)?.as_str()
}

/// `metadata`, created empty if missing or not an object.
pub(crate) fn metadata_mut(object: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    match metadata {
        Value::Object(map) => map,
        _ => unreachable!("metadata was just made an object"),
    }
}

/// Sets `metadata.resourceVersion`.
pub(crate) fn set_resource_version(object: &mut Value, resource_version: u64) {
    if let Value::Object(map) = object {
        metadata_mut(map).insert(
            "resourceVersion".to_string(),
            Value::String(resource_version.to_string()),
        );
    }
}

/// Sets `apiVersion` and `kind` to the resource's.
pub(crate) fn set_type(object: &mut Map<String, Value>, resource: &ResourceRef) {
    object.insert(
        "apiVersion".to_string(),
        Value::String(resource.api_version()),
    );
    object.insert("kind".to_string(), Value::String(resource.kind.clone()));
}

/// The labels of an object, if any.
pub(crate) fn labels(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata")?.get("labels")?.as_object()
}

/// The object without the fields the server or a controller own
/// (`metadata`, `status`, type), to tell a spec change from the rest.
pub(crate) fn desired_state(object: &Map<String, Value>) -> Map<String, Value> {
    object
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The memory a JSON value holds, estimated in bytes: every node's own
/// size, the bytes of its strings, and for each map entry its key and the
/// map's bookkeeping. At least the value's JSON size; what the server's
/// memory bounds count.
pub(crate) fn value_bytes(value: &Value) -> u64 {
    const NODE_BYTES: u64 = std::mem::size_of::<Value>() as u64;
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => NODE_BYTES,
        Value::String(text) => NODE_BYTES + text.len() as u64,
        Value::Array(items) => NODE_BYTES + items.iter().map(value_bytes).sum::<u64>(),
        Value::Object(map) => map_bytes(map),
    }
}

/// [`value_bytes`] of a JSON object.
pub(crate) fn map_bytes(map: &Map<String, Value>) -> u64 {
    const NODE_BYTES: u64 = std::mem::size_of::<Value>() as u64;
    // A map entry: the key's header, and its share of a B-tree node.
    const ENTRY_BYTES: u64 = std::mem::size_of::<String>() as u64 + 16;
    NODE_BYTES
        + map
            .iter()
            .map(|(key, value)| ENTRY_BYTES + key.len() as u64 + value_bytes(value))
            .sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zero_is_the_fixed_epoch() {
        let expected: Timestamp = "2025-04-01T00:00:00Z".parse().unwrap();
        assert_eq!(time_at(Duration::ZERO).0, expected);
        let later = serde_json::to_value(time_at(Duration::from_millis(61_500))).unwrap();
        assert_eq!(later, "2025-04-01T00:01:01Z");
    }

    #[test]
    fn a_value_holds_at_least_its_json_bytes() {
        let small = serde_json::json!({"metadata": {"name": "gear"}, "spec": [1, true, null]});
        let json_bytes = serde_json::to_vec(&small).unwrap().len() as u64;
        assert!(value_bytes(&small) >= json_bytes);
        let big = Value::String("x".repeat(3 << 20));
        let bytes = value_bytes(&big);
        assert!((3 << 20..(3 << 20) + 64).contains(&bytes), "{bytes}");
    }
}
