//! Reads a scenario's YAML into the serde model; a failure becomes a
//! [`ScenarioError`] whose field is the path the deserializer was at
//! (`serde_path_to_error`) and whose place comes with the error itself.
//!
//! The path is exact: it is where deserialization stood, not a guess from
//! a line and column. Each [`Spanned`] layer of the model shows in it as a
//! `value` segment of its own, which is dropped (no field of the format is
//! named `value`; a test holds the schema to that). What the error found is
//! quoted from the text at the error's span: a scalar as written, `[` or `-`
//! a list, `{` or a key a mapping.

use std::path::Path;

use serde::de::IgnoredAny;
use serde_path_to_error::Segment;
use serde_saphyr::{
    DefaultMessageFormatter, DuplicateKeyPolicy, Error as YamlError, Location, MessageFormatter,
    Spanned,
};

use crate::bounds::{self, Range};
use crate::error::{line_column, ScenarioError};
use crate::file::File;

/// The segment each [`Spanned`] layer adds to a path.
pub(crate) const SPANNED_SEGMENT: &str = "value";

/// Scalars longer than this are cut short when quoted in a message.
const QUOTED_CHARS_MAX: usize = 60;

/// `text` (the file at `path`) as the serde model.
pub(crate) fn read(path: &Path, text: &str) -> Result<Spanned<File>, ScenarioError> {
    let mut at: Option<serde_path_to_error::Path> = None;
    let document = serde_saphyr::with_deserializer_from_str(text, |deserializer| {
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            at = Some(error.path().clone());
            error.into_inner()
        })
    });
    document.map_err(|error| yaml_error(path, text, &error, at.as_ref()))
}

/// `error` from reading `text` at the field `at` as a [`ScenarioError`].
fn yaml_error(
    path: &Path,
    text: &str,
    error: &YamlError,
    at: Option<&serde_path_to_error::Path>,
) -> ScenarioError {
    // A document that is not well-formed YAML may fail as a type error
    // first (an unclosed `[` read as a list); the syntax error explains it
    // better, and comes before anything the YAML means. Repeated keys are
    // allowed here: they are an error of meaning, reported with their field.
    let options = serde_saphyr::options! { duplicate_keys: DuplicateKeyPolicy::PassThrough };
    let syntax = serde_saphyr::from_str_with_options::<IgnoredAny>(text, options).err();
    if let Some(syntax) = syntax.as_ref().map(innermost).filter(|e| is_syntax(e)) {
        let (line, column) = syntax.location().map_or((None, None), |l| line_column(&l));
        return ScenarioError {
            path: path.to_path_buf(),
            line,
            column,
            field: None,
            message: printable(&message(syntax, "this value")),
        };
    }
    let error = innermost(error);
    let location = error.location();
    let found = location
        .as_ref()
        .and_then(|l| found_at(text, l))
        .or_else(|| found_in(error))
        .unwrap_or_else(|| "this value".to_string());
    let (line, column) = location.map_or((None, None), |l| line_column(&l));
    let field = at.and_then(|at| field_path(at, error));
    // A number field whose value is not a number: say which numbers.
    let accepted = match field.as_deref().and_then(bounds::range_of) {
        Some(Range::Count(range)) => Some(range.accepted()),
        Some(Range::Number(range)) => Some(range.accepted()),
        _ => None,
    };
    let message = match (error, accepted) {
        (
            YamlError::InvalidScalar { .. }
            | YamlError::Unexpected { .. }
            | YamlError::SerdeInvalidType { .. },
            Some(accepted),
        ) => format!("found {found}; expected {accepted}"),
        _ => message(error, &found),
    };
    ScenarioError {
        path: path.to_path_buf(),
        line,
        column,
        field: field.map(|f| printable(&f)),
        message: printable(&message),
    }
}

/// Whether an error of reading the document untyped is one of its form
/// (not of a value, as a number too large for a float is).
fn is_syntax(error: &YamlError) -> bool {
    !matches!(error, YamlError::NonFiniteFloat { .. })
}

/// The field as errors name it (`spec.replicas[1].startAt`); `None` for
/// the document itself.
fn field_path(at: &serde_path_to_error::Path, error: &YamlError) -> Option<String> {
    // An unknown or repeated key is the path's last segment, as written.
    let about_key = matches!(
        error,
        YamlError::SerdeUnknownField { .. } | YamlError::DuplicateMappingKey { .. }
    );
    let segments: Vec<&Segment> = at.iter().collect();
    let mut out = String::new();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let key = match segment {
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                continue;
            }
            Segment::Map { key } if key == SPANNED_SEGMENT && !(about_key && last) => continue,
            Segment::Map { key } => key.clone(),
            Segment::Enum { variant } => variant.clone(),
            // A key the error came before: a repeated key names itself.
            Segment::Unknown => match error {
                YamlError::DuplicateMappingKey { key: Some(key), .. } if last => key.clone(),
                _ => "?".to_string(),
            },
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&key);
    }
    (!out.is_empty()).then_some(out)
}

/// What stands at `location` in `text`, in words.
fn found_at(text: &str, location: &Location) -> Option<String> {
    let span = location.span();
    let offset = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    found_in_text(text, offset, len)
}

/// What the `len` bytes at `offset` of `text` are, in words: `` `40` ``,
/// `a list`, `a mapping`, `nothing (null)`.
fn found_in_text(text: &str, offset: usize, len: usize) -> Option<String> {
    let rest = text.get(offset..)?;
    if len == 0 {
        // A block collection starts here (its first `-` or key), or a
        // value is left empty.
        return Some(
            if rest.starts_with("- ") || rest.starts_with("-\n") {
                "a list"
            } else if rest.starts_with(['\n', '\r', '#']) || rest.is_empty() {
                "nothing (null)"
            } else {
                "a mapping"
            }
            .to_string(),
        );
    }
    let token = rest.get(..len)?;
    Some(match token {
        "[" => "a list".to_string(),
        "{" => "a mapping".to_string(),
        "~" | "null" | "Null" | "NULL" => "nothing (null)".to_string(),
        scalar => quoted(unquote(scalar)),
    })
}

/// A scalar without the quotes it was written in.
fn unquote(scalar: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = scalar
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            return inner;
        }
    }
    scalar
}

fn quoted(scalar: &str) -> String {
    if scalar.chars().count() > QUOTED_CHARS_MAX {
        format!(
            "`{}...`",
            scalar.chars().take(QUOTED_CHARS_MAX).collect::<String>()
        )
    } else {
        format!("`{scalar}`")
    }
}

/// What a type error says it found, where the text has no span for it.
fn found_in(error: &YamlError) -> Option<String> {
    let (YamlError::SerdeInvalidType { unexpected, .. }
    | YamlError::SerdeInvalidValue { unexpected, .. }) = error
    else {
        return None;
    };
    // serde's `Unexpected`: `map`, `sequence`, `boolean `true``,
    // `string "x"`, `integer `5``, `unit value`.
    Some(match unexpected.as_str() {
        "map" => "a mapping".to_string(),
        "sequence" => "a list".to_string(),
        "unit value" | "null" | "Option value" => "nothing (null)".to_string(),
        other => match other.split_once(['`', '"']) {
            Some((_, value)) => quoted(value.trim_end_matches(['`', '"'])),
            None => other.to_string(),
        },
    })
}

/// `a` and `b` as "`a`, `b`".
fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a primitive target type accepts, in words.
fn accepted_for(ty: &str) -> String {
    match ty {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" | "floating point" => "a number",
        "bool" | "boolean" => "true or false",
        "string" | "String" | "str" | "string scalar" => "a string",
        "sequence start" => "a list",
        "mapping start" => "a mapping",
        other => other,
    }
    .to_string()
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
        YamlError::NonFiniteFloat { value, .. } => {
            format!("`{value}` is not a finite number; expected a finite number")
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every property name anywhere in the format's schema.
    fn property_names(node: &serde_json::Value, out: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                    out.extend(properties.keys().cloned());
                }
                map.values().for_each(|v| property_names(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| property_names(v, out)),
            _ => {}
        }
    }

    #[test]
    fn no_field_is_named_like_the_segment_of_a_spanned_value() {
        let schema: serde_json::Value =
            serde_json::from_str(&crate::json_schema()).expect("the schema is JSON");
        let mut names = Vec::new();
        property_names(&schema, &mut names);
        assert!(names.len() > 50, "{names:?}");
        assert!(!names.iter().any(|n| n == SPANNED_SEGMENT), "{names:?}");
    }

    #[test]
    fn what_was_found_is_quoted_from_the_text() {
        let text = "a: [1]\nb: {c: 1}\nd:\n  - 1\ne:\n  f: 1\ng: \"quoted\"\nh: ~\ni:\n";
        let at = |offset, len| found_in_text(text, offset, len);
        assert_eq!(at(3, 1).as_deref(), Some("a list"));
        assert_eq!(at(10, 1).as_deref(), Some("a mapping"));
        assert_eq!(at(22, 0).as_deref(), Some("a list"));
        assert_eq!(at(31, 0).as_deref(), Some("a mapping"));
        assert_eq!(at(39, 8).as_deref(), Some("`quoted`"));
        assert_eq!(at(51, 1).as_deref(), Some("nothing (null)"));
        assert_eq!(at(55, 0).as_deref(), Some("nothing (null)"));
    }
}
