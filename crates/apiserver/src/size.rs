//! The memory a JSON document would hold as a `serde_json::Value`, counted
//! while reading its text, without building the value: what the server's
//! [`MemoryBounds`](crate::MemoryBounds) count.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// One node of a `Value`, whatever it holds.
const NODE_BYTES: u64 = std::mem::size_of::<serde_json::Value>() as u64;
/// One entry of a JSON object: the key's header, and its share of a
/// B-tree node.
const ENTRY_BYTES: u64 = std::mem::size_of::<String>() as u64 + 16;

/// The memory the JSON document `text` would hold as a `Value`: every
/// node's own size, the bytes of its strings, and for each object entry
/// its key and the map's bookkeeping. At least the document's JSON size.
/// A text that does not read counts as its length.
pub(crate) fn json_bytes(text: &str) -> u64 {
    let mut reader = serde_json::Deserializer::from_str(text);
    Counted
        .deserialize(&mut reader)
        .unwrap_or(text.len() as u64)
}

/// Reads one JSON value and answers the bytes it would hold.
#[derive(Clone, Copy)]
struct Counted;

impl<'de> DeserializeSeed<'de> for Counted {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counted {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<u64, E> {
        Ok(NODE_BYTES)
    }

    fn visit_i64<E>(self, _: i64) -> Result<u64, E> {
        Ok(NODE_BYTES)
    }

    fn visit_u64<E>(self, _: u64) -> Result<u64, E> {
        Ok(NODE_BYTES)
    }

    fn visit_f64<E>(self, _: f64) -> Result<u64, E> {
        Ok(NODE_BYTES)
    }

    fn visit_str<E>(self, text: &str) -> Result<u64, E> {
        Ok(NODE_BYTES + text.len() as u64)
    }

    fn visit_unit<E>(self) -> Result<u64, E> {
        Ok(NODE_BYTES)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<u64, A::Error> {
        let mut bytes = NODE_BYTES;
        while let Some(item) = items.next_element_seed(self)? {
            bytes += item;
        }
        Ok(bytes)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<u64, A::Error> {
        let mut bytes = NODE_BYTES;
        while let Some(key) = entries.next_key_seed(KeyLength)? {
            bytes += ENTRY_BYTES + key + entries.next_value_seed(self)?;
        }
        Ok(bytes)
    }
}

/// Reads an object's key and answers its length.
struct KeyLength;

impl<'de> DeserializeSeed<'de> for KeyLength {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyLength {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<u64, E> {
        Ok(key.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    /// The memory a `Value` holds, counted on the value itself: what
    /// [`json_bytes`] must answer without building it.
    fn value_bytes(value: &Value) -> u64 {
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => NODE_BYTES,
            Value::String(text) => NODE_BYTES + text.len() as u64,
            Value::Array(items) => NODE_BYTES + items.iter().map(value_bytes).sum::<u64>(),
            Value::Object(map) => map_bytes(map),
        }
    }

    fn map_bytes(map: &Map<String, Value>) -> u64 {
        NODE_BYTES
            + map
                .iter()
                .map(|(key, value)| ENTRY_BYTES + key.len() as u64 + value_bytes(value))
                .sum::<u64>()
    }

    #[test]
    fn counts_what_the_value_would_hold() {
        let documents = [
            json!(null),
            json!("x"),
            json!({"metadata": {"name": "gear", "labels": {"app": "grm"}}, "spec": [1, true, null, -2, 0.5]}),
            json!({"escaped": "a\"b\\c\n\u{e9}", "k\"ey": ["", {}, []]}),
            json!([[[]], {"a": {"b": {"c": 18446744073709551615u64}}}]),
        ];
        for document in documents {
            let text = serde_json::to_string(&document).unwrap();
            assert_eq!(json_bytes(&text), value_bytes(&document), "{text}");
        }
    }

    #[test]
    fn a_value_holds_at_least_its_json_bytes() {
        let small = json!({"metadata": {"name": "gear"}, "spec": [1, true, null]});
        let text = serde_json::to_string(&small).unwrap();
        assert!(json_bytes(&text) >= text.len() as u64);
        let big = serde_json::to_string(&"x".repeat(3 << 20)).unwrap();
        let bytes = json_bytes(&big);
        assert!((3 << 20..(3 << 20) + 64).contains(&bytes), "{bytes}");
    }
}
