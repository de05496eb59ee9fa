//! Turns a serde-saphyr error into a [`ScenarioError`]: the location comes
//! with the error, the field path from a second, untyped read of the document.
//!
//! serde errors carry a line and column but no field path. On error (only
//! then) the document is read again into a [`Node`] tree that remembers where
//! every key and value was written, and the error's location is looked up in it.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{
    DefaultMessageFormatter, DuplicateKeyPolicy, Error as YamlError, Location, MessageFormatter,
    Spanned,
};

use crate::error::{line_column, ScenarioError};

/// A YAML node of any shape, with the places of its parts.
enum Node {
    Null,
    Scalar(String),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            entries.push((key, map.next_value::<Spanned<Node>>()?));
        }
        Ok(Node::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Node, A::Error> {
        Err(de::Error::custom(
            "tagged values are not accepted in scenario files",
        ))
    }
}

/// Whether a place holds a mapping key or a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Key,
    Value,
}

/// The shape of a node, to match it with what a type error says it found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Null,
    Scalar,
    Map,
    Seq,
}

impl Shape {
    fn of(node: &Node) -> Shape {
        match node {
            Node::Null => Shape::Null,
            Node::Scalar(_) => Shape::Scalar,
            Node::Map(_) => Shape::Map,
            Node::Seq(_) => Shape::Seq,
        }
    }

    /// The shape serde's `Unexpected` display names (`map`, `sequence`,
    /// `boolean `true``, ...).
    fn of_unexpected(unexpected: &str) -> Shape {
        match unexpected {
            "map" => Shape::Map,
            "sequence" => Shape::Seq,
            "unit value" | "null" | "Option value" => Shape::Null,
            _ => Shape::Scalar,
        }
    }
}

/// One key or value of the document: its field path, where it was written,
/// and the value it stands for (a key stands for the value under it).
struct Place {
    path: String,
    location: Location,
    role: Role,
    depth: usize,
    value_location: Location,
    shape: Shape,
    found: String,
}

/// Scalars longer than this are cut short when quoted in a message.
const QUOTED_CHARS_MAX: usize = 60;

fn describe(node: &Node) -> String {
    match node {
        Node::Null => "nothing (null)".to_string(),
        Node::Scalar(text) if text.chars().count() > QUOTED_CHARS_MAX => {
            format!(
                "`{}...`",
                text.chars().take(QUOTED_CHARS_MAX).collect::<String>()
            )
        }
        Node::Scalar(text) => format!("`{text}`"),
        Node::Map(_) => "a mapping".to_string(),
        Node::Seq(_) => "a list".to_string(),
    }
}

fn key_text(node: &Node) -> String {
    match node {
        Node::Scalar(text) => text.clone(),
        Node::Null => "~".to_string(),
        Node::Map(_) | Node::Seq(_) => "?".to_string(),
    }
}

fn collect(node: &Spanned<Node>, path: &str, depth: usize, places: &mut Vec<Place>) {
    let place = |path: &str, location: Location, role, depth| Place {
        path: path.to_string(),
        location,
        role,
        depth,
        value_location: node.referenced,
        shape: Shape::of(&node.value),
        found: describe(&node.value),
    };
    places.push(place(path, node.referenced, Role::Value, depth));
    match &node.value {
        Node::Map(entries) => {
            for (key, value) in entries {
                let name = key_text(&key.value);
                let child = if path.is_empty() {
                    name
                } else {
                    format!("{path}.{name}")
                };
                places.push(Place {
                    path: child.clone(),
                    location: key.referenced,
                    role: Role::Key,
                    depth: depth + 1,
                    value_location: value.referenced,
                    shape: Shape::of(&value.value),
                    found: describe(&value.value),
                });
                collect(value, &child, depth + 1, places);
            }
        }
        Node::Seq(items) => {
            for (index, item) in items.iter().enumerate() {
                collect(item, &format!("{path}[{index}]"), depth + 1, places);
            }
        }
        Node::Null | Node::Scalar(_) => {}
    }
}

/// The place an error at `location` is about. serde-saphyr reports an
/// unknown field at its key, a bad value at the value or at the key above
/// it, and in a block mapping the mapping and its first key share a place:
/// so prefer places holding a value of `shape`, then `prefer`, then the
/// deepest.
fn find<'a>(
    places: &'a [Place],
    location: &Location,
    prefer: Role,
    shape: Option<Shape>,
) -> Option<&'a Place> {
    let same = |l: &Location| l.line() == location.line() && l.column() == location.column();
    places.iter().filter(|p| same(&p.location)).max_by_key(|p| {
        (
            shape.is_none_or(|s| s == p.shape),
            p.role == prefer,
            p.depth,
        )
    })
}

/// `a`, `b` and `c` as "`a`, `b`, `c`".
fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a primitive target type accepts, in words.
fn accepted_for(ty: &str) -> Cow<'static, str> {
    match ty {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".into(),
        "f32" | "f64" | "floating point" => "a number".into(),
        "bool" | "boolean" => "true or false".into(),
        "string" | "String" | "str" | "string scalar" => "a string".into(),
        "sequence start" => "a list".into(),
        "mapping start" => "a mapping".into(),
        other => Cow::Owned(other.to_string()),
    }
}

/// `text` with control characters (a newline in a key, say) escaped.
fn printable(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
            out
        })
}

/// What is wrong, and what would be accepted, for one serde-saphyr error;
/// `found` describes the value the error is about.
fn message(error: &YamlError, found: &str) -> String {
    match error {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => {
            if expected.is_empty() {
                format!("unknown field `{field}`; expected no fields here")
            } else {
                format!(
                    "unknown field `{field}`; expected one of {}",
                    quoted_list(expected)
                )
            }
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            format!(
                "unknown value `{variant}`; expected one of {}",
                quoted_list(expected)
            )
        }
        YamlError::SerdeMissingField { field, .. } => {
            format!("the field `{field}` is missing; expected it to be set")
        }
        YamlError::SerdeInvalidType { expected, .. }
        | YamlError::SerdeInvalidValue { expected, .. } => {
            format!("found {found}; expected {}", accepted_for(expected))
        }
        YamlError::InvalidScalar { ty, .. } => {
            format!("found {found}; expected {}", accepted_for(ty))
        }
        YamlError::InvalidBooleanStrict { .. } => format!("found {found}; expected true or false"),
        YamlError::Unexpected { expected, .. } => {
            format!("found {found}; expected {}", accepted_for(expected))
        }
        YamlError::NullIntoString { .. } => "found nothing (null); expected a string".to_string(),
        YamlError::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("the key `{key}` appears twice; expected each key once"),
            None => "a key appears twice; expected each key once".to_string(),
        },
        YamlError::MultipleDocuments { .. } => {
            "the file holds more than one YAML document; expected exactly one".to_string()
        }
        // Our own visitors write complete sentences, `; expected` included.
        YamlError::Message { msg, .. } => msg.clone(),
        other => format!(
            "{}; expected a well-formed YAML scenario document",
            DefaultMessageFormatter.format_message(other.without_snippet())
        ),
    }
}

/// The error itself, not its snippet or alias wrapper.
fn innermost(error: &YamlError) -> &YamlError {
    match error.without_snippet() {
        YamlError::AliasError { error, .. } => error.without_snippet(),
        other => other,
    }
}

/// `error` from reading `text` (the file at `path`) as a [`ScenarioError`].
pub(crate) fn yaml_error(path: &Path, text: &str, error: &YamlError) -> ScenarioError {
    let error = innermost(error);
    // Repeated keys are kept, so that a duplicate key has a place too.
    let options = serde_saphyr::options! { duplicate_keys: DuplicateKeyPolicy::PassThrough };
    let places = match serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options) {
        Ok(root) => {
            let mut places = Vec::new();
            collect(&root, "", 0, &mut places);
            places
        }
        // Not well-formed YAML: report the syntax error, which comes before
        // any error about what the YAML means.
        Err(syntax) => {
            let syntax = innermost(&syntax);
            let (line, column) = syntax.location().map_or((None, None), |l| line_column(&l));
            return ScenarioError {
                path: path.to_path_buf(),
                line,
                column,
                field: None,
                message: printable(&message(syntax, "this value")),
            };
        }
    };
    let about_key = matches!(
        error,
        YamlError::SerdeUnknownField { .. } | YamlError::DuplicateMappingKey { .. }
    );
    let prefer = if about_key { Role::Key } else { Role::Value };
    let shape = match error {
        YamlError::SerdeInvalidType { unexpected, .. } => Some(Shape::of_unexpected(unexpected)),
        _ => None,
    };
    let location = error.location();
    let place = location
        .as_ref()
        .and_then(|l| find(&places, l, prefer, shape));
    // An error about a value points at the value, even when serde-saphyr
    // reported the key above it.
    let location = match place {
        Some(p) if !about_key => Some(p.value_location),
        _ => location,
    };
    let (line, column) = location.map_or((None, None), |l| line_column(&l));
    ScenarioError {
        path: path.to_path_buf(),
        line,
        column,
        field: place.map(|p| printable(&p.path)).filter(|p| !p.is_empty()),
        message: printable(&message(
            error,
            place.map_or("this value", |p| p.found.as_str()),
        )),
    }
}
