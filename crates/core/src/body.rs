//! [`Body`]: one JSON document as text, the body of a request or an
//! answer, or one frame of a watch.

use serde::de::Deserialize;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::ApiError;

/// One JSON document, as text: what crosses the wire as a request's or an
/// answer's body, or as a watch frame.
///
/// It is written straight from the sender's own type ([`Body::of`]) and
/// decoded straight into the reader's ([`Body::decode`]), with no
/// `serde_json::Value` tree between them. Its text is always one valid
/// JSON document: a serializer wrote it, or [`Body::parse`] checked it.
/// Serialized inside another document (a JSON-line request or answer), it
/// is written as it is.
#[derive(Clone)]
pub struct Body(Box<RawValue>);

impl Body {
    /// `value`, written as JSON.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<Body, ApiError> {
        serde_json::value::to_raw_value(value)
            .map(Body)
            .map_err(|e| ApiError::Decode(e.to_string()))
    }

    /// `text`, once checked to be one JSON document (whitespace around it
    /// is dropped).
    pub fn parse(text: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(text).map(Body)
    }

    /// The document `null`.
    pub fn null() -> Body {
        Body(RawValue::NULL.to_owned())
    }

    /// The JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// Whether the document is `null` (a watch head's body).
    pub fn is_null(&self) -> bool {
        self.text() == "null"
    }

    /// The document read as `T`; a [`ApiError::Decode`] when it is not one.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Result<T, ApiError> {
        serde_json::from_str(self.text()).map_err(|e| ApiError::Decode(e.to_string()))
    }

    /// The document as a `serde_json::Value`: for tests and tools that
    /// look into an answer; clients decode into their own types.
    pub fn to_value(&self) -> Value {
        // The text is valid JSON, so it always reads as a Value.
        self.decode().unwrap_or(Value::Null)
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Body {
        // A Value always serializes: its map keys are strings.
        Body::of(&value).unwrap_or_else(|_| Body::null())
    }
}

impl From<Box<RawValue>> for Body {
    fn from(raw: Box<RawValue>) -> Body {
        Body(raw)
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        self.text() == other.text()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Body, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_is_written_as_it_is_inside_another_document() {
        let body = Body::from(json!({"b": [1, 2], "a": "x"}));
        assert_eq!(body.text(), r#"{"a":"x","b":[1,2]}"#);
        let outer = serde_json::to_string(&json!({"code": 200})).unwrap();
        assert_eq!(outer, r#"{"code":200}"#);
        #[derive(Serialize, serde::Deserialize)]
        struct Line {
            code: u16,
            body: Body,
        }
        let line = serde_json::to_string(&Line { code: 200, body }).unwrap();
        assert_eq!(line, r#"{"code":200,"body":{"a":"x","b":[1,2]}}"#);
        let read: Line = serde_json::from_str(&line).unwrap();
        assert_eq!(read.body.to_value(), json!({"a": "x", "b": [1, 2]}));
    }

    #[test]
    fn only_json_parses_into_a_body() {
        assert!(Body::parse("{\"a\": 1}\n").is_ok());
        assert!(Body::parse("{\"a\": }").is_err());
        assert!(Body::parse("null").unwrap().is_null());
        let error = Body::from(json!([1])).decode::<String>().unwrap_err();
        assert_eq!(error.reason(), "Decode");
    }
}
