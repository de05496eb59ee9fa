//! The scenario format's JSON Schema: committed, in sync with the parser's
//! types, pointed at by every bundled scenario, and strict enough for an
//! editor to flag what the parser would refuse.

use std::path::{Path, PathBuf};

/// Where the schema is committed, beside the scenarios that name it.
const SCHEMA_FILE: &str = "scenarios/scenario.schema.json";

/// The first line of every bundled scenario: the YAML language server's
/// modeline, naming the schema relative to the file.
const MODELINE: &str = "# yaml-language-server: $schema=./scenario.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bundled() -> Vec<PathBuf> {
    stallsim_scenario::discover(&root().join("scenarios"))
        .expect("scenarios/ is readable")
        .into_iter()
        .filter(|p| !p.starts_with(root().join("scenarios/regressions")))
        .collect()
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&stallsim_scenario::json_schema()).expect("the schema is JSON");
    jsonschema::draft7::new(&schema).expect("the schema is a valid draft-7 schema")
}

/// The schema's complaints about a YAML document, one a line.
fn errors(validator: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    let document: serde_json::Value =
        serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("not YAML: {e}\n{yaml}"));
    validator
        .iter_errors(&document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let committed = std::fs::read_to_string(root().join(SCHEMA_FILE)).unwrap_or_default();
    assert!(
        committed == stallsim_scenario::json_schema(),
        "{SCHEMA_FILE} is out of date; regenerate it: cargo run --release -- schema > {SCHEMA_FILE}"
    );
}

#[test]
fn every_bundled_scenario_names_the_schema_and_validates() {
    let validator = validator();
    let files = bundled();
    assert!(files.len() >= 10, "found only {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        assert_eq!(
            text.lines().next(),
            Some(MODELINE),
            "{}: the first line names the schema",
            path.display()
        );
        let errors = errors(&validator, &text);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

const VALID: &str = "\
apiVersion: stallsim/v1alpha1
kind: Scenario
metadata: {name: ok}
spec:
  duration: 20m
  replicas: [{name: grm-0, startAt: 0}, {name: grm-1, startAt: 20s..1m0.5s}]
  deletionFlow: {deleteAt: 1m30s, waitTimeout: 5m}
  faults: [{at: 50s, kill: grm-0, down: 1500ms}]
  manager: {garbageCollector: {extraKinds: [v1/ConfigMap, monitoring.coreos.com/v1/Prometheus]}}
  expect: {verdict: stall, stalledReplica: grm-1}
";

/// `VALID` with its first `from` replaced by `to`.
fn with(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from}");
    VALID.replacen(from, to, 1)
}

#[test]
fn the_schema_accepts_what_the_parser_accepts() {
    assert_eq!(errors(&validator(), VALID), Vec::<String>::new());
    let parsed = stallsim_scenario::parse(Path::new("valid.yaml"), VALID);
    assert!(parsed.is_ok(), "{:?}", parsed.err().map(|e| e.to_string()));
}

#[test]
fn the_schema_rejects_a_misspelt_field() {
    let errors = errors(&validator(), &with("deleteAt:", "deletAt:"));
    assert!(errors.iter().any(|e| e.contains("deletAt")), "{errors:#?}");
}

#[test]
fn the_schema_rejects_bad_durations_and_ranges() {
    let validator = validator();
    for (from, to) in [
        ("duration: 20m", "duration: 20"),
        ("duration: 20m", "duration: 20 m"),
        ("duration: 20m", "duration: 20min"),
        ("waitTimeout: 5m", "waitTimeout: 5m3"),
        ("startAt: 20s..1m0.5s", "startAt: 20s..."),
        ("startAt: 20s..1m0.5s", "startAt: 20s-1m"),
        ("startAt: 20s..1m0.5s", "startAt: ..1m"),
        ("deleteAt: 1m30s", "deleteAt: 1m30s..2m..3m"),
        ("v1/ConfigMap", "configmap"),
        ("verdict: stall", "verdict: stalls"),
    ] {
        let text = with(from, to);
        assert!(
            !errors(&validator, &text).is_empty(),
            "the schema accepts `{to}`"
        );
        assert!(
            stallsim_scenario::parse(Path::new("bad.yaml"), &text).is_err(),
            "the parser accepts `{to}`"
        );
    }
}

/// The format's documentation names every field: the schema knows each.
#[test]
fn the_schema_accepts_every_documented_field() {
    let doc = std::fs::read_to_string(root().join("docs/scenario-format.md")).expect("readable");
    let start = doc.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + doc[start..].find("```").expect("the block ends");
    let errors = errors(&validator(), &doc[start..end]);
    assert!(errors.is_empty(), "{errors:#?}");
}
