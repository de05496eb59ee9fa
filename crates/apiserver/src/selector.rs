//! Label selectors: the equality and existence terms of `labelSelector`.

use std::collections::BTreeMap;

/// A parsed `labelSelector`: every term must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    terms: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    /// `k=v` or `k==v`
    Equals(String, String),
    /// `k!=v` (also true when `k` is absent)
    NotEquals(String, String),
    /// `k`
    Exists(String),
    /// `!k`
    Absent(String),
}

impl LabelSelector {
    /// Parses `k=v,k2==v2,k3!=v3,k4,!k5`; set-based terms (`in`, `notin`)
    /// are not supported and are an error.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for raw in text.split(',') {
            let term = raw.trim();
            if term.is_empty() {
                continue;
            }
            let parsed = if let Some((key, value)) = term.split_once("!=") {
                Term::NotEquals(key_of(key, term)?, value.trim().to_string())
            } else if let Some((key, value)) = term.split_once("==") {
                Term::Equals(key_of(key, term)?, value.trim().to_string())
            } else if let Some((key, value)) = term.split_once('=') {
                Term::Equals(key_of(key, term)?, value.trim().to_string())
            } else if let Some(key) = term.strip_prefix('!') {
                Term::Absent(key_of(key, term)?)
            } else {
                Term::Exists(key_of(term, term)?)
            };
            terms.push(parsed);
        }
        Ok(LabelSelector { terms })
    }

    /// Whether an object with these labels is selected.
    pub(crate) fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let label = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
        self.terms.iter().all(|term| match term {
            Term::Equals(key, value) => label(key) == Some(value.as_str()),
            Term::NotEquals(key, value) => label(key) != Some(value.as_str()),
            Term::Exists(key) => label(key).is_some(),
            Term::Absent(key) => label(key).is_none(),
        })
    }
}

fn key_of(key: &str, term: &str) -> Result<String, String> {
    let key = key.trim();
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(key.to_string())
    } else {
        Err(format!(
            "unable to parse requirement {term:?}: only k=v, k==v, k!=v, k and !k are supported"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn check(selector: &str, labels: Value, expected: bool) {
        let selector = LabelSelector::parse(selector).unwrap();
        let labels: Option<BTreeMap<String, String>> =
            serde_json::from_value(labels.clone()).unwrap();
        assert_eq!(
            selector.matches(labels.as_ref()),
            expected,
            "{selector:?} on {labels:?}"
        );
    }

    #[test]
    fn equality_and_existence_terms() {
        check("", json!(null), true);
        check("app=grm", json!({"app": "grm"}), true);
        check("app==grm", json!({"app": "grm"}), true);
        check("app=grm", json!({"app": "other"}), false);
        check("app=grm,tier=x", json!({"app": "grm"}), false);
        check("app=grm, tier=x", json!({"app": "grm", "tier": "x"}), true);
        check("app!=grm", json!({}), true);
        check("app!=grm", json!({"app": "grm"}), false);
        check("app", json!({"app": ""}), true);
        check("!app", json!({"app": ""}), false);
        check("!app", json!(null), true);
    }

    #[test]
    fn set_based_terms_are_refused() {
        assert!(LabelSelector::parse("app in (a,b)").is_err());
        assert!(LabelSelector::parse("=x").is_err());
    }
}
