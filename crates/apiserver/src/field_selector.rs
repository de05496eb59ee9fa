//! Field selectors: the `metadata.name` and `metadata.namespace` terms of
//! `fieldSelector`, the fields kube-apiserver selects on for every kind.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use stallsim_core::ResourceRef;

/// A parsed `fieldSelector`: every term must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    terms: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    field: Field,
    value: String,
    /// `!=` rather than `=` or `==`.
    negated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Name,
    Namespace,
}

/// The operators in the order upstream tries them at each position of a
/// term (k8s.io/apimachinery/pkg/fields/selector.go, `splitTerm`).
const OPERATORS: [(&str, bool); 3] = [("!=", true), ("==", false), ("=", false)];

impl FieldSelector {
    /// Parses `metadata.name=a,metadata.namespace!=b` for `resource`, as
    /// kube-apiserver does: terms split on unescaped commas, each `field=value`,
    /// `field==value` or `field!=value`, a value unescaping `\\`, `\,` and
    /// `\=`. A field other than these two is refused with upstream's message
    /// for the resource's kind; so is `metadata.namespace` for a cluster-scoped
    /// custom resource, as the CRD handler's converter refuses it. The error
    /// is the message of the 400 to answer.
    pub(crate) fn parse(text: &str, resource: &ResourceRef, custom: bool) -> Result<Self, String> {
        let mut terms = Vec::new();
        for raw in split_unescaped(text, ',') {
            if raw.is_empty() {
                continue;
            }
            let (field, negated, value) = split_term(raw)
                .ok_or_else(|| format!("invalid selector: '{text}'; can't understand '{raw}'"))?;
            let value = unescape(value).map_err(|reason| {
                format!("invalid selector: '{text}'; can't understand '{raw}': {reason}")
            })?;
            let field = match field {
                "metadata.name" => Field::Name,
                "metadata.namespace" if resource.namespaced || !custom => Field::Namespace,
                other if custom => {
                    // apiextensions-apiserver pkg/apiserver/conversion/converter.go,
                    // crConverter.ConvertFieldLabel.
                    return Err(format!("field label not supported: {other}"));
                }
                other => {
                    // k8s.io/apimachinery/pkg/runtime/conversion.go,
                    // DefaultMetaV1FieldSelectorConversion.
                    return Err(format!(
                        "{other:?} is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
                    ));
                }
            };
            terms.push(Term {
                field,
                value,
                negated,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether an object is selected. A cluster-scoped object's
    /// `metadata.namespace` is the empty string.
    pub(crate) fn matches(&self, meta: &ObjectMeta) -> bool {
        self.terms.iter().all(|term| {
            let actual = match term.field {
                Field::Name => meta.name.as_deref(),
                Field::Namespace => meta.namespace.as_deref(),
            }
            .unwrap_or_default();
            (actual == term.value) != term.negated
        })
    }
}

/// Splits at every `separator` not escaped by a backslash; escapes are kept.
fn split_unescaped(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The field, whether the operator is `!=`, and the raw value: the first
/// position, from the left, at which an operator starts (escaped characters
/// skipped).
fn split_term(term: &str) -> Option<(&str, bool, &str)> {
    let mut escaped = false;
    for (at, c) in term.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        for (operator, negated) in OPERATORS {
            if term[at..].starts_with(operator) {
                return Some((&term[..at], negated, &term[at + operator.len()..]));
            }
        }
    }
    None
}

/// Undoes the escapes upstream's `EscapeValue` writes: `\\`, `\,`, `\=`.
fn unescape(value: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('\\' | ',' | '=')) => out.push(escaped),
                _ => return Err("invalid escape sequence"),
            },
            '=' | ',' => return Err("unescaped = or , in a value"),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn widgets(namespaced: bool) -> ResourceRef {
        ResourceRef::new("example.com", "v1", "widgets", "Widget", namespaced)
    }

    fn check(selector: &str, object: Value, expected: bool) {
        let parsed = FieldSelector::parse(selector, &widgets(true), true).unwrap();
        let meta: ObjectMeta = serde_json::from_value(object["metadata"].clone()).unwrap();
        assert_eq!(parsed.matches(&meta), expected, "{selector} on {object}");
    }

    #[test]
    fn name_and_namespace_terms() {
        let gear = json!({"metadata": {"name": "gear", "namespace": "default"}});
        check("", gear.clone(), true);
        check("metadata.name=gear", gear.clone(), true);
        check("metadata.name==gear", gear.clone(), true);
        check("metadata.name!=gear", gear.clone(), false);
        check("metadata.name=cog", gear.clone(), false);
        check(
            "metadata.name=gear,metadata.namespace=default",
            gear.clone(),
            true,
        );
        check(
            "metadata.name=gear,metadata.namespace=other",
            gear.clone(),
            false,
        );
        check("metadata.namespace!=other", gear.clone(), true);
        check(
            "metadata.name=a\\,b",
            json!({"metadata": {"name": "a,b"}}),
            true,
        );
        check(
            "metadata.namespace=",
            json!({"metadata": {"name": "x"}}),
            true,
        );
    }

    #[test]
    fn other_fields_are_refused_with_upstreams_messages() {
        let custom = FieldSelector::parse("spec.teeth=3", &widgets(true), true).unwrap_err();
        assert_eq!(custom, "field label not supported: spec.teeth");
        let cluster = FieldSelector::parse("metadata.namespace=a", &widgets(false), true);
        assert_eq!(
            cluster.unwrap_err(),
            "field label not supported: metadata.namespace"
        );
        let configmaps = ResourceRef::new("", "v1", "configmaps", "ConfigMap", true);
        let builtin = FieldSelector::parse("status.phase=Running", &configmaps, false);
        assert_eq!(
            builtin.unwrap_err(),
            "\"status.phase\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        );
        let garbled = FieldSelector::parse("metadata.name", &configmaps, false);
        assert_eq!(
            garbled.unwrap_err(),
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
        );
        assert!(FieldSelector::parse("metadata.name=a\\b", &configmaps, false).is_err());
    }
}
