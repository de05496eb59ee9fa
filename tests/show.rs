//! Showing a run: the timeline picture, the Markdown report, and the
//! pictures `explore` writes beside the failures it saves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stallsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the CLI runs")
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_incident_picture_shows_the_lanes_the_deletion_the_stall_and_the_timeout() {
    let dir = scratch_dir("show-timeline");
    let svg = dir.join("incident.svg");
    let output = stallsim(&[
        "run",
        "scenarios/grm-deletion-stall.yaml",
        "--timeline",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "a stall");
    let text = read(&svg);
    assert!(text.starts_with("<svg ") && text.trim_end().ends_with("</svg>"));
    for shown in [
        ">grm-0</text>",
        ">grm-1</text>",
        ">deletion flow</text>",
        "CRDs deleted at 1m0.017s",
        "STALL: informer monitoring.coreos.com/v1, Kind=Prometheus never syncs",
        "leader from 1m5.510s",
        "LIST monitoring.coreos.com/v1, Kind=Prometheus failed: NotFound",
        // grm-0's node is lost; the ReplicaSet's new pod gets a lane of its own.
        ">node lost</text>",
        "pod evicted: Terminating, its node unreachable",
        ">grm-0-66c7c</text>",
        ">replaces grm-0</text>",
    ] {
        assert!(text.contains(shown), "the picture lacks `{shown}`");
    }
    // Same run, same picture.
    let again = dir.join("again.svg");
    stallsim(&[
        "run",
        "scenarios/grm-deletion-stall.yaml",
        "--timeline",
        again.to_str().unwrap(),
    ]);
    assert!(read(&again) == text, "the picture of one run differs");
}

#[test]
fn the_report_has_the_verdict_the_replay_the_events_and_a_mermaid_timeline() {
    let dir = scratch_dir("show-report");
    let md = dir.join("incident.md");
    let output = stallsim(&[
        "run",
        "scenarios/grm-deletion-stall.yaml",
        "--report",
        md.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "a stall");
    let text = read(&md);
    assert!(
        text.starts_with("# grm-deletion-stall, seed 1: STALL\n"),
        "{text}"
    );
    for shown in [
        "verdict:  STALL: grm-1 not ready since 1m33.067s",
        "cargo run --release -- run scenarios/grm-deletion-stall.yaml --seed 1",
        "```mermaid\n",
        "gantt\n",
        "    section grm-1\n",
        "    CRDs deleted :milestone, crit, 60017, 60017\n",
        "| 1m5.510s | grm-1 | became leader |",
        "    section grm-0-66c7c (replaces grm-0)\n",
        "    node lost :milestone, crit, 50000, 50000\n",
        "| 6m39.543s | grm-0-66c7c | pod created by the ReplicaSet to replace grm-0 |",
    ] {
        assert!(text.contains(shown), "the report lacks `{shown}`:\n{text}");
    }
}

#[test]
fn unwritable_pictures_and_reports_fail_before_the_run() {
    for flag in ["--timeline", "--report"] {
        let output = stallsim(&[
            "run",
            "scenarios/grm-deletion-stall.yaml",
            flag,
            "scenarios/grm-deletion-stall.yaml/out",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains("grm-deletion-stall.yaml/out"), "{stderr}");
        assert!(output.stdout.is_empty(), "{flag} ran");
    }
}

#[test]
fn explore_draws_each_saved_failure_beside_it() {
    let save = scratch_dir("show-explore-save");
    let output = stallsim(&[
        "explore",
        "scenarios/grm-deletion-stall-ranged.yaml",
        "--runs",
        "6",
        "--jobs",
        "2",
        "--seed",
        "1",
        "--save",
        save.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let mut saved: Vec<PathBuf> = std::fs::read_dir(&save)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    saved.sort();
    assert!(!saved.is_empty());
    for file in saved {
        // The copy still names the schema, relative to where it is.
        let text = read(&file);
        let schema = text
            .lines()
            .find_map(|l| l.strip_prefix("# yaml-language-server: $schema="))
            .unwrap_or_else(|| panic!("{}: no modeline", file.display()));
        assert!(
            save.join(schema).is_file(),
            "{}: names {schema}",
            file.display()
        );
        let svg = read(&file.with_extension("svg"));
        assert!(svg.contains(">grm-1</text>"), "{}", file.display());
        assert!(
            svg.contains(&file.display().to_string()),
            "{}: the picture names the saved file",
            file.display()
        );
    }
}

/// `stallsim run` with `RUST_LOG` set: the log on stderr, and the trace.
fn run_logged(rust_log: Option<&str>, trace: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stallsim"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args([
            "run",
            "scenarios/grm-deletion-stall.yaml",
            "--trace",
            trace.to_str().unwrap(),
        ]);
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    command.output().expect("the CLI runs")
}

#[test]
fn logs_are_off_by_default_stamped_when_on_and_change_no_trace() {
    let dir = scratch_dir("show-logs");
    let quiet = run_logged(None, &dir.join("quiet.jsonl"));
    assert!(quiet.stderr.is_empty(), "logs without RUST_LOG");
    let logged = run_logged(
        Some("stallsim_manager=debug,stallsim_harness=trace"),
        &dir.join("logged.jsonl"),
    );
    let log = String::from_utf8_lossy(&logged.stderr);
    // Simulated time, the component, the replica.
    assert!(
        log.lines().any(|line| line.starts_with("   1m5.510s")
            && line.contains("stallsim_manager::election: became leader replica=\"grm-1_")),
        "{log}"
    );
    assert!(
        log.contains("stallsim_manager::informer: LIST failed replica=\"grm-1_"),
        "{log}"
    );
    assert!(log.contains("CrdDeleted"), "{log}");
    assert_eq!(logged.stdout, quiet.stdout, "logging changed the output");
    assert!(
        read(&dir.join("logged.jsonl")) == read(&dir.join("quiet.jsonl")),
        "logging changed the trace"
    );
    let bad = run_logged(Some("[[nonsense"), &dir.join("bad.jsonl"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RUST_LOG=[[nonsense"));
}
