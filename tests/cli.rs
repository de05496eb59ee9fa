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
    // The stalled replica's LIST rate explains the stall; every replica's
    // requests by class follow the overall figures.
    let why = text.lines().skip_while(|l| !l.starts_with("why:")).take(4);
    assert!(
        why.clone()
            .any(|l| l.contains("it sent ") && l.contains(" LISTs, ")),
        "{text}"
    );
    for replica in ["grm-0", "grm-1"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{replica}: LIST "))
                    && l.contains("busiest minute")
                    && l.contains("lease ")),
            "{text}"
        );
    }
}

#[test]
fn run_json_reports_each_replicas_requests_by_class() {
    let output = stallsim(&["run", "scenarios/grm-deletion-stall.yaml", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["verdict"], "stall");
    let replicas = json["api_by_replica"].as_array().unwrap();
    let names: Vec<&str> = replicas
        .iter()
        .map(|r| r["replica"].as_str().unwrap())
        .collect();
    // The lost pod's replacement is a pod of its own, with requests of its own.
    assert_eq!(names, ["grm-0", "grm-1", "grm-0-66c7c"]);
    let total: u64 = replicas
        .iter()
        .flat_map(|r| ["list", "watch", "lease", "other"].map(|c| r[c]["total"].as_u64().unwrap()))
        .sum();
    assert!(total > 0 && total <= json["api_requests"]["total"].as_u64().unwrap());
    let list = &replicas[1]["list"];
    let per_second = list["total"].as_f64().unwrap() / 1200.0;
    assert_eq!(list["per_second"].as_f64().unwrap(), per_second, "{list}");
    assert!(list["busiest_minute"].as_u64().unwrap() >= 1, "{list}");
}

#[test]
fn a_broken_request_bound_fails_test_and_explore() {
    let file = scratch(
        "list-bound-broken.yaml",
        &incident_text().replace("listPerMinuteMax: 20", "listPerMinuteMax: 5"),
    );
    let output = stallsim(&["test", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("grm-1 sent ")
            && text.contains(
                " LIST requests in its busiest minute, above the bound of 5 \
                 (spec.expect.apiRequests.listPerMinuteMax)"
            ),
        "{text}"
    );
    let output = stallsim(&["explore", file.to_str().unwrap(), "--runs", "2", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (json["held"].as_u64(), json["failed"].as_u64()),
        (Some(0), Some(2))
    );
    assert!(
        json["property"]["expect"]
            .as_str()
            .unwrap()
            .contains("at most 5 LIST a minute per replica"),
        "{}",
        json["property"]
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
        // Under a file: no directory can be made there.
        "scenarios/grm-deletion-stall.yaml/run.jsonl",
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

/// A fresh, empty directory in the test's scratch space.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The incident, expecting convergence: every run fails its property.
fn incident_expecting_convergence(name: &str) -> PathBuf {
    scratch(
        name,
        &incident_text()
            .replace("verdict: stall", "verdict: converges")
            .replace("stalledReplica: grm-1", ""),
    )
}

#[test]
fn explore_of_the_fixed_scenario_holds() {
    let save = scratch_dir("explore-fixed-save");
    let output = stallsim(&[
        "explore",
        "scenarios/grm-deletion-stall-fixed.yaml",
        "--runs",
        "3",
        "--jobs",
        "2",
        "--save",
        save.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("3 runs, seeds 1 to 3"), "{text}");
    assert!(text.contains("held in 3 of 3 runs"), "{text}");
    let converges = text
        .lines()
        .find(|l| l.trim_start().starts_with("converges"));
    let columns: Vec<&str> = converges.unwrap_or("").split_whitespace().collect();
    assert_eq!(columns[..3], ["converges", "3", "100.0%"], "{text}");
    assert!(text.contains("deletion to ready: median"), "{text}");
    assert!(text.contains("failures: none"), "{text}");
    assert_eq!(
        std::fs::read_dir(&save).unwrap().count(),
        0,
        "nothing to save"
    );
}

#[test]
fn explore_json_has_the_counts() {
    let output = stallsim(&[
        "explore",
        "scenarios/grm-deletion-stall-fixed.yaml",
        "--runs",
        "2",
        "--jobs",
        "2",
        "--seed",
        "5",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["runs"], 2);
    assert_eq!(json["first_seed"], 5);
    assert_eq!(json["interrupted"], false);
    assert_eq!(json["held"], 2);
    assert_eq!(json["verdicts"]["converges"]["count"], 2);
    assert_eq!(json["verdicts"]["stall"]["count"], 0);
    assert_eq!(json["verdicts"]["stall"]["ci95"][0], 0.0);
    assert_eq!(json["deletion_to_ready"]["runs"], 2);
    assert_eq!(json["failures"].as_array().unwrap().len(), 0);
    let lists = &json["api_requests"]["list_peak_per_minute"];
    for replica in ["grm-0", "grm-1"] {
        assert!(lists[replica].as_u64().unwrap() >= 1, "{lists}");
    }
    // Coverage: every run came in one of the orderings, each of which
    // starts with the first leader's discovery and includes the deletion.
    let orderings = json["orderings"].as_array().unwrap();
    let covered: u64 = orderings.iter().map(|o| o["runs"].as_u64().unwrap()).sum();
    assert_eq!(covered, 2, "{orderings:?}");
    for ordering in orderings {
        let events: Vec<&str> = ordering["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(events.first(), Some(&"grm-0 discovers"), "{events:?}");
        assert!(events.contains(&"CRDs deleted"), "{events:?}");
        assert_eq!(ordering["stalled"], 0);
    }
}

#[test]
fn explore_saves_each_failing_run_as_a_file_that_replays_it() {
    let file = incident_expecting_convergence("explore-incident.yaml");
    let save = scratch_dir("explore-incident-save");
    let output = stallsim(&[
        "explore",
        file.to_str().unwrap(),
        "--runs",
        "3",
        "--jobs",
        "2",
        "--seed",
        "4",
        "--save",
        save.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("held in 0 of 3 runs"), "{text}");
    assert!(
        text.contains("failures: 3 runs did not hold the property"),
        "{text}"
    );
    assert!(
        text.contains("seed 5: stall of grm-1; replay: cargo run --release -- run"),
        "{text}"
    );
    assert!(text.contains("saved: 3 files in"), "{text}");
    let saved = save.join("grm-deletion-stall-seed-5.yaml");
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        saved_text.contains("# verdict: stall of grm-1"),
        "{saved_text}"
    );
    assert!(saved_text.contains("seed: 5"), "{saved_text}");
    // The file alone replays the run: same seed, same verdict.
    let output = stallsim(&["run", saved.to_str().unwrap()]);
    let replay = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{replay}");
    assert!(replay.contains("seed:     5"), "{replay}");
    assert!(replay.contains("STALL: grm-1"), "{replay}");
}

#[test]
fn explore_refuses_bad_input_and_runs_nothing() {
    let fixed = "scenarios/grm-deletion-stall-fixed.yaml";
    for args in [
        &["explore", "scenarios/no-such-file.yaml", "--runs", "2"][..],
        &["explore", fixed, "--runs", "0"],
        &["explore", fixed, "--for", "10 minutes"],
        &["explore", fixed, "--runs", "2", "--for", "1m"],
        &["explore", fixed, "--jobs", "0"],
        &["explore", fixed, "--save", "Cargo.toml"],
    ] {
        let output = stallsim(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stdout(&output).is_empty(),
            "{args:?} ran: {}",
            stdout(&output)
        );
    }
}

#[test]
fn explore_refuses_seeds_that_would_wrap() {
    let incident = "scenarios/grm-deletion-stall.yaml";
    let last = u64::MAX.to_string();
    let output = stallsim(&["explore", incident, "--seed", &last, "--runs", "3"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stdout(&output).is_empty(), "it ran: {}", stdout(&output));
    assert!(
        stderr.contains("3 runs from seed 18446744073709551615 would pass the last seed")
            && stderr.contains("expected a first seed of at most 18446744073709551613"),
        "{stderr}"
    );
    // The last seed alone is a plan like any other.
    let save = scratch_dir("wrap-save");
    let output = stallsim(&[
        "explore",
        incident,
        "--seed",
        &last,
        "--runs",
        "1",
        "--save",
        save.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("1 runs, seed 18446744073709551615"));
}

#[test]
fn explore_stops_on_ctrl_c_with_the_summary_so_far() {
    let child = Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "explore",
            "scenarios/grm-deletion-stall-fixed.yaml",
            "--runs",
            "100000",
            "--jobs",
            "2",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let output = child.wait_with_output().expect("the CLI ends");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("INTERRUPTED after"), "{text}");
    assert!(text.contains("of 100000 runs"), "{text}");
    assert!(text.contains("failures: none"), "{text}");
}

#[test]
fn explore_gives_the_same_summary_on_one_thread_and_on_two() {
    let summary = |jobs: &str| {
        let output = stallsim(&[
            "explore",
            "scenarios/grm-deletion-stall-ranged.yaml",
            "--runs",
            "4",
            "--jobs",
            jobs,
            "--json",
            "--save",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("jobs-{jobs}"))
                .to_str()
                .unwrap(),
        ]);
        let mut json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        // Where the failures were saved differs by design; nothing else may.
        json["saved"]["dir"] = serde_json::Value::Null;
        json["saved"]["written"] = serde_json::Value::Null;
        json
    };
    let one = summary("1");
    assert_eq!(one["runs"], 4);
    assert_eq!(one, summary("2"));
}

#[test]
fn test_skips_a_directory_file_without_expect_but_refuses_a_named_one() {
    let output = stallsim(&["test", "scenarios"]);
    let text = stdout(&output);
    assert!(
        text.contains("skip  scenarios/grm-deletion-stall-ranged.yaml: no expect"),
        "{text}"
    );
    // The ranged incident, and the two bundled files for `window` and
    // `shrink`: explored, never tested.
    assert!(text.contains(", 3 skipped"), "{text}");
    let output = stallsim(&["test", "scenarios/grm-deletion-stall-ranged.yaml"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn explore_shrinks_the_first_failure_of_the_ranged_incident() {
    let save = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ranged-shrink");
    let output = stallsim(&[
        "explore",
        "scenarios/grm-deletion-stall-ranged.yaml",
        "--runs",
        "2",
        "--jobs",
        "2",
        "--shrink",
        "--save",
        save.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("seed 1: stall of grm-1; replay: cargo run --release -- run scenarios/grm-deletion-stall-ranged.yaml --seed 1"), "{text}");
    assert!(text.contains("the first failure, shrunk:"), "{text}");
    assert!(text.contains("needs:    kill grm-0"), "{text}");
    assert!(text.contains("the shrunk run's timeline:"), "{text}");
    // The saved file replays the failure on its own.
    let saved = save.join("grm-deletion-stall-ranged-seed-1.yaml");
    let replay = stallsim(&["run", saved.to_str().unwrap()]);
    assert_eq!(replay.status.code(), Some(1), "{}", stdout(&replay));
    assert!(stdout(&replay).contains("STALL: grm-1"));
}

#[test]
fn matrix_judges_the_same_draws_under_each_fix() {
    let output = stallsim(&[
        "matrix",
        "scenarios/grm-deletion-stall-ranged.yaml",
        "--runs",
        "2",
        "--jobs",
        "2",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let row = |fix: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("| {fix} |")))
            .unwrap_or_else(|| panic!("no row for {fix}: {text}"))
            .to_string()
    };
    // Seed 1 stalls without a fix; seed 2 does not.
    assert!(row("none").contains("| 1/2 |"), "{text}");
    assert!(row("none").ends_with("| not closed |"), "{text}");
    assert!(
        row("livenessCacheSyncDeadline: 3m").contains("| 0/2 |"),
        "{text}"
    );
    assert!(
        row("livenessCacheSyncDeadline: 3m").ends_with("| closed |"),
        "{text}"
    );
    assert!(row("ignoreNotFound").contains("| 1/2 |"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("| ")).count(),
        7,
        "{text}"
    );
}

#[test]
fn shards_merge_to_the_unsharded_summary() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("shards");
    std::fs::create_dir_all(&dir).unwrap();
    let explore = |extra: &[&str], out: &str| {
        let save = dir.join(format!("saved-{out}"));
        let mut args = vec![
            "explore",
            "scenarios/grm-deletion-stall-ranged.yaml",
            "--runs",
            "5",
            "--jobs",
            "2",
            "--json",
            "--save",
            save.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = stallsim(&args);
        let path = dir.join(out);
        std::fs::write(&path, &output.stdout).unwrap();
        path
    };
    let whole = explore(&[], "whole.json");
    let first = explore(&["--shard", "0/2"], "shard-0.json");
    let second = explore(&["--shard", "1/2"], "shard-1.json");
    let json = |bytes: &[u8]| -> serde_json::Value {
        let mut value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        value["saved"] = serde_json::Value::Null;
        value
    };
    let shard: serde_json::Value = json(&std::fs::read(&first).unwrap());
    assert_eq!(shard["shard"], "0/2");
    assert_eq!(shard["runs"], 3, "seeds 1, 3, 5");
    let merged = stallsim(&[
        "merge",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(merged.status.code(), Some(1), "the ranged incident stalls");
    assert_eq!(json(&merged.stdout), json(&std::fs::read(&whole).unwrap()));
    // A shard twice is refused.
    let twice = stallsim(&["merge", first.to_str().unwrap(), first.to_str().unwrap()]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("shard 0/2 is given twice"));
    // So is a shard missing: the rest are not the unsharded runs.
    let alone = stallsim(&["merge", first.to_str().unwrap()]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("shard 1/2 is missing"));
    // The index can come from an Indexed Job.
    let output = Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("JOB_COMPLETION_INDEX", "1")
        .args([
            "explore",
            "scenarios/grm-deletion-stall-fixed.yaml",
            "--runs",
            "2",
            "--shard",
            "2",
            "--json",
            "--save",
            dir.join("saved-job").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let job: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["shard"], "1/2");
    assert_eq!(job["tally"]["seeds"][0], 2);
}

/// A reflector whose backoff never grows past its first step retries the
/// 404 LIST about once a second, as kube-runtime 5.0.0's watcher does: the
/// incident's bound, which client-go's backoff keeps, catches it.
#[test]
fn a_backoff_that_never_grows_breaks_the_incidents_list_bound() {
    let file = scratch(
        "list-a-second.yaml",
        &incident_text().replace(
            "  duration: 20m\n",
            "  duration: 20m\n  manager:\n    reflector:\n      backoff: {cap: 800ms}\n",
        ),
    );
    let output = stallsim(&["run", file.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(1), "still a stall");
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let list = &json["api_by_replica"][1]["list"];
    assert_eq!(json["api_by_replica"][1]["replica"], "grm-1");
    // Waits of 0.8s to 1.6s: 37 to 75 LISTs a minute.
    let busiest = list["busiest_minute"].as_u64().unwrap();
    assert!((37..=80).contains(&busiest), "{list}");
    assert!(list["per_second"].as_f64().unwrap() > 0.6, "{list}");

    let output = stallsim(&["test", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "grm-1 sent {busiest} LIST requests in its busiest minute, above the bound of 20"
        )),
        "{text}"
    );
}

#[test]
fn sensitivity_prints_a_row_for_every_estimated_constant_and_exits_0_when_robust() {
    let output = stallsim(&[
        "sensitivity",
        "scenarios/grm-deletion-stall.yaml",
        "--jobs",
        "2",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "robust: {text}");
    assert!(
        text.contains("verdict:  stall with every constant as written; robust to the "),
        "{text}"
    );
    for estimate in stallsim::ESTIMATES {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{} ", estimate.name()))),
            "no row for {}: {text}",
            estimate.name()
        );
    }
    let json = stallsim(&[
        "sensitivity",
        "scenarios/crds-deleted-before-start.yaml",
        "--json",
    ]);
    let found: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(found["verdict"], "converges");
    assert_eq!(
        found["constants"].as_array().unwrap().len(),
        stallsim::ESTIMATES.len()
    );
    let missing = stallsim(&["sensitivity", "scenarios/no-such-file.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn run_says_what_its_verdict_rests_on_when_asked() {
    let output = stallsim(&["run", "scenarios/grm-deletion-stall.yaml", "--sensitivity"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("estimates: "))
        .unwrap_or_else(|| panic!("no estimates line: {text}"));
    assert!(
        line.contains("robust to the 5 estimated constants"),
        "{line}"
    );
    let plain = stdout(&stallsim(&["run", "scenarios/grm-deletion-stall.yaml"]));
    assert!(!plain.contains("estimates: "), "only when asked: {plain}");
}

#[test]
fn a_file_that_names_a_program_is_refused_by_the_command_line() {
    let file = scratch(
        "program.yaml",
        "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: p}\nspec:\n  \
         components: [{name: widgets, program: widget-controller, replicas: [{name: w-0}]}]\n  \
         expect: {verdict: converges}\n",
    );
    for command in ["run", "test", "explore"] {
        let output = stallsim(&[command, file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("runs the program `widget-controller`, which is code")
                && stderr.contains("docs/your-controller.md"),
            "{command}: {stderr}"
        );
    }
    // Manager fields beside `program` are refused with their place.
    let file = scratch(
        "program-and-watches.yaml",
        "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: p}\nspec:\n  \
         components:\n    - name: widgets\n      program: widget-controller\n      \
         replicas: [{name: w-0}]\n      watches: [{kind: v1/Secret}]\n",
    );
    let output = stallsim(&["run", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("program-and-watches.yaml:9:16")
            && stderr.contains("field `spec.components[0].watches`")
            && stderr.contains("this component runs the program `widget-controller`"),
        "{stderr}"
    );
}
