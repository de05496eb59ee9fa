//! The CLI's contract: verdicts, exit codes, replay lines and input errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stallsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the CLI runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_incident_is_a_stall_of_the_replica_whose_informer_never_synced() {
    let output = stallsim(&["run", "scenarios/grm-deletion-stall.yaml"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("STALL: grm-1"), "{text}");
    assert!(
        text.contains("monitoring.coreos.com/v1, Kind=Prometheus"),
        "{text}"
    );
    assert!(text.contains("seed:     1"), "{text}");
    assert!(
        text.contains(
            "replay:   cargo run --release -- run scenarios/grm-deletion-stall.yaml --seed 1"
        ),
        "{text}"
    );
}

#[test]
fn the_liveness_deadline_converges() {
    let output = stallsim(&["run", "scenarios/grm-deletion-stall-fixed.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("CONVERGES"));
}

#[test]
fn a_malformed_file_exits_2_naming_line_and_column() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("malformed.yaml");
    let text = "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata:\n  name: bad\nspec:\n  duration: 20 minutes\nexpect:\n  verdict: stall\n";
    std::fs::write(&file, text).unwrap();
    let output = stallsim(&["run", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("malformed.yaml:6:"),
        "no line and column: {stderr}"
    );
    assert!(stderr.contains("duration"), "no field: {stderr}");
    assert!(stdout(&output).is_empty(), "a bad file runs nothing");
}

#[test]
fn a_missing_file_exits_2() {
    let output = stallsim(&["run", "scenarios/no-such-file.yaml"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn test_checks_every_expectation() {
    let output = stallsim(&[
        "test",
        "scenarios/crds-deleted-before-start.yaml",
        "scenarios/grm-deletion-stall.yaml",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("2 passed, 0 failed"), "{text}");
}

#[test]
fn test_fails_when_an_expectation_does_not_hold() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/grm-deletion-stall.yaml"),
    )
    .unwrap();
    let wrong = source
        .replace("verdict: stall", "verdict: converges")
        .replace("stalledReplica: grm-1", "");
    let file = dir.join("wrong-expectation.yaml");
    std::fs::write(&file, wrong).unwrap();
    let output = stallsim(&["test", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("0 passed, 1 failed"), "{text}");
    assert!(
        text.contains("replay: cargo run --release -- run"),
        "{text}"
    );
}

/// Writes `text` as a scenario file in the test's scratch directory.
fn scratch(name: &str, text: &str) -> PathBuf {
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&file, text).unwrap();
    file
}

fn incident_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/grm-deletion-stall.yaml"),
    )
    .unwrap()
}

#[test]
fn a_run_too_short_to_judge_is_refused_before_it_runs() {
    let file = scratch(
        "too-short.yaml",
        &incident_text().replace("duration: 20m", "duration: 30s"),
    );
    let output = stallsim(&["run", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("field `spec.duration`: a run of 30s cannot outlast the stall bound of 5m"),
        "{stderr}"
    );
    assert!(
        stdout(&output).is_empty(),
        "nothing ran: {}",
        stdout(&output)
    );
}

#[test]
fn a_run_that_ends_before_the_bound_ran_out_is_inconclusive() {
    // The deletion comes 4 minutes before the end: a stall could not show yet.
    let file = scratch(
        "late-deletion.yaml",
        &incident_text()
            .replace("deleteAt: 60s", "deleteAt: 16m")
            .replace(
                "{at: 50s, kill: grm-0, down: 2m}",
                "{at: 15m, kill: grm-0, down: 2m}",
            ),
    );
    let output = stallsim(&["run", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("INCONCLUSIVE"), "{text}");
    assert!(text.contains("after the last scheduled event"), "{text}");
    // `test` counts it as a failed expectation, whatever was expected.
    let output = stallsim(&["test", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("the run was inconclusive"), "{text}");
}

#[test]
fn a_trace_that_cannot_be_written_fails_before_the_run() {
    let output = stallsim(&[
        "run",
        "scenarios/grm-deletion-stall.yaml",
        "--trace",
        "no-such-directory/run.jsonl",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write the trace"), "{stderr}");
    assert!(
        stdout(&output).is_empty(),
        "nothing ran: {}",
        stdout(&output)
    );
}

#[test]
fn the_trace_file_stands_alone() {
    let trace = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("standalone.jsonl");
    let output = stallsim(&[
        "run",
        "scenarios/grm-deletion-stall.yaml",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = &lines[0];
    assert_eq!(first["type"], "RunStarted");
    assert_eq!(first["scenario"], "grm-deletion-stall");
    assert_eq!(first["seed"], 1);
    assert_eq!(first["stallsim_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        first["config"]["manager"]["leader_election"]["lease_duration"]["secs"],
        15
    );
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "RunJudged");
    assert_eq!(last["verdict"], "stall");
    assert_eq!(last["replica"], "grm-1");
}

#[test]
fn run_needs_no_expectation_but_test_does() {
    let text = incident_text();
    let start = text.find("  expect:").unwrap();
    let file = scratch("no-expect.yaml", &text[..start]);
    let output = stallsim(&["run", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let output = stallsim(&["test", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("field `spec.expect`: missing"), "{stderr}");
}
