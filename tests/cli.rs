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
