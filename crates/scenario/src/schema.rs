//! The JSON Schema of scenario files, derived from the serde model that parses them.
//!
//! Editors (the YAML language server among them) read it to complete fields
//! and flag unknown ones, misspelt durations and malformed ranges before a
//! run does. It cannot say everything the parser checks (a range that ends
//! before it starts, a fault naming no replica); the parser stays the
//! judge, the schema is the editor's first look.
//!
//! Every range of the bounds table is stated where its field is: `minimum`
//! and `maximum` on numbers, `minItems` and `maxItems` on lists, and the
//! range in words in a duration's description (a pattern cannot compare).

use std::borrow::Cow;

use schemars::{generate::SchemaSettings, json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::bounds::{Range, FIELDS};
use crate::convert::{API_VERSION, KIND};
use crate::duration::{Timing, TIMING_ACCEPTED};
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
    state_ranges(&mut schema);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// Writes every range of [`FIELDS`] into the schema of its field.
fn state_ranges(schema: &mut Schema) {
    for (path, range) in FIELDS {
        let pointer = pointer_to(schema.as_value(), path)
            .unwrap_or_else(|| panic!("the bounded field {path} is in the schema"));
        let node = schema
            .pointer_mut(&pointer)
            .and_then(|n| n.as_object_mut())
            .expect("a field's schema is an object");
        match range {
            Range::Count(r) => {
                node.insert("minimum".into(), r.least.into());
                node.insert("maximum".into(), r.greatest.into());
            }
            Range::Number(r) => {
                node.insert("minimum".into(), r.least.into());
                node.insert("maximum".into(), r.greatest.into());
            }
            Range::Items(r) => {
                node.insert("minItems".into(), r.least.into());
                node.insert("maxItems".into(), r.greatest.into());
            }
            Range::Duration(_) | Range::Scheduled(_) | Range::Tick => {
                let accepted = format!("Accepted: {}.", range.text());
                let description = match node.get("description").and_then(|d| d.as_str()) {
                    // A definition shared by fields of one range (both probes).
                    Some(text) if text.ends_with(&accepted) => continue,
                    Some(text) => {
                        assert!(
                            !text.contains("Accepted:"),
                            "{path} shares its schema with a field of another range"
                        );
                        format!("{text} {accepted}")
                    }
                    None => accepted,
                };
                node.insert("description".into(), description.into());
            }
        }
    }
}

/// The JSON pointer of the schema of `path` (`spec.faults[].for`): each
/// segment a property, `[]` its items, through references to definitions.
fn pointer_to(schema: &serde_json::Value, path: &str) -> Option<String> {
    let mut at = String::new();
    for segment in path.split('.') {
        let (name, items) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (segment, false),
        };
        at = format!("{}/properties/{name}", definition_of(schema, &at)?);
        if items {
            at = format!("{}/items", at);
        }
    }
    Some(at)
}

/// Where the object schema at `pointer` is defined: itself, or the
/// definition it refers to (directly, or as the non-null choice of an
/// optional field).
fn definition_of(schema: &serde_json::Value, pointer: &str) -> Option<String> {
    let node = schema.pointer(pointer)?;
    let reference = node.get("$ref").or_else(|| {
        node.get("anyOf")?
            .as_array()?
            .iter()
            .find_map(|choice| choice.get("$ref"))
    });
    match reference.and_then(|r| r.as_str()) {
        Some(reference) => Some(reference.trim_start_matches('#').to_string()),
        None => Some(pointer.to_string()),
    }
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

impl JsonSchema for Timing {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
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
