//! The JSON Schema of scenario files, derived from the serde model that parses them.
//!
//! Editors (the YAML language server among them) read it to complete fields
//! and flag unknown ones, misspelt durations and malformed ranges before a
//! run does. It cannot say everything the parser checks (a range that ends
//! before it starts, a fault naming no replica); the parser stays the
//! judge, the schema is the editor's first look.

use std::borrow::Cow;

use schemars::{generate::SchemaSettings, json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::convert::{API_VERSION, KIND};
use crate::duration::{GoDuration, Timing, ACCEPTED, TIMING_ACCEPTED};
use crate::file::{File, KindRef, KIND_ACCEPTED};

/// One Go duration as the parser reads it: numbers with optional fractions,
/// each followed by a unit.
const DURATION_PATTERN: &str = r"(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)";

/// A kind as `group/version/Kind` or `version/Kind`.
const KIND_PATTERN: &str = r"^([A-Za-z0-9.-]+/)?[A-Za-z0-9.-]+/[A-Z][A-Za-z0-9.-]*$";

/// The JSON Schema (draft 7, which editors support best) of a scenario
/// file, pretty-printed, ending with a newline.
pub fn json_schema() -> String {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<File>();
    schema.insert("title".to_string(), "stallsim scenario".into());
    schema.insert(
        "description".to_string(),
        "A stallsim scenario file: the world of a simulated run and what it must come to.".into(),
    );
    // What `convert` requires of every file, which serde's model leaves
    // optional so that a missing field is reported with its place.
    schema.insert(
        "required".to_string(),
        serde_json::json!(["apiVersion", "kind", "metadata"]),
    );
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        properties.insert(
            "apiVersion".to_string(),
            serde_json::json!({ "const": API_VERSION }),
        );
        properties.insert("kind".to_string(), serde_json::json!({ "const": KIND }));
    }
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// A duration: a string matching [`DURATION_PATTERN`], or the number 0.
fn duration_schema(pattern: String, description: &str) -> Schema {
    json_schema!({
        "description": description,
        "anyOf": [
            { "type": "string", "pattern": pattern },
            { "type": "integer", "const": 0 }
        ]
    })
}

impl JsonSchema for GoDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        duration_schema(format!("^{DURATION_PATTERN}$"), ACCEPTED)
    }
}

impl JsonSchema for Timing {
    fn schema_name() -> Cow<'static, str> {
        "Time".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        duration_schema(
            format!(r"^{DURATION_PATTERN}(\.\.{DURATION_PATTERN})?$"),
            TIMING_ACCEPTED,
        )
    }
}

impl JsonSchema for KindRef {
    fn schema_name() -> Cow<'static, str> {
        "Kind".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": KIND_ACCEPTED,
            "type": "string",
            "pattern": KIND_PATTERN
        })
    }
}
