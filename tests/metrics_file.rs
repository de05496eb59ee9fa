//! `stallsim run --metrics` writes a file that a standard reader loads:
//! Prometheus' own Python client's OpenMetrics parser
//! (`prometheus_client.openmetrics.parser`), pinned in `.ci/run`'s
//! virtual environment. The interpreter is `$STALLSIM_PYTHON`, else that
//! environment, else `python3` on `PATH`; without one that has the
//! parser, the test fails and says how to install it: it never passes
//! without a reader.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The release of `prometheus-client` `.ci/run` installs.
const PARSER_VERSION: &str = "0.26.0";

fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("STALLSIM_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("../ci-tools/python-kubernetes-37.0.2/bin/python");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("python3")
}

const READER: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
for family in families:
    for sample in family.samples:
        print(family.name, family.type, sample.name, sample.timestamp, sample.value,
              ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items())))
"#;

#[test]
fn the_incidents_metrics_load_in_prometheus_clients_openmetrics_parser() {
    let dir = std::env::temp_dir().join(format!("stallsim-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("incident.prom");
    let run = Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .args(["run", "scenarios/grm-deletion-stall.yaml", "--metrics"])
        .arg(&out)
        .output()
        .expect("stallsim runs");
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with("# EOF\n"));

    let python = python();
    let parsed = Command::new(&python)
        .arg("-c")
        .arg(READER)
        .arg(&out)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "no Python at {} ({e}): run .ci/run, or set STALLSIM_PYTHON to a Python with \
                 `pip install prometheus-client=={PARSER_VERSION}`",
                python.display()
            )
        });
    assert!(
        parsed.status.success(),
        "the parser refused the file (or is missing: `pip install prometheus-client=={PARSER_VERSION}`): {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let lines = String::from_utf8(parsed.stdout).unwrap();
    let samples: Vec<&str> = lines.lines().collect();
    // Every sample line of the file is read back, with its timestamp.
    let written = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(samples.len(), written);
    assert!(
        samples.iter().all(|s| !s.contains(" None ")),
        "every sample has a timestamp"
    );
    // The stalled replica's unsynced informer is there, growing past 180s.
    let unsynced: Vec<f64> = samples
        .iter()
        .filter(|s| s.starts_with("stallsim_informer_unsynced_seconds ") && s.contains("pod=grm-1"))
        .filter_map(|s| s.split(' ').nth(4)?.parse().ok())
        .collect();
    assert!(unsynced.iter().any(|v| *v > 900.0), "{unsynced:?}");
    // grm-0's target is down after its node is lost.
    let value = |s: &str| s.split(' ').nth(4).and_then(|v| v.parse::<f64>().ok());
    assert!(samples.iter().any(|s| s.starts_with("up gauge up ")
        && value(s) == Some(0.0)
        && s.contains("instance=grm-0,")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_without_a_prometheus_are_refused_before_the_run() {
    let out = std::env::temp_dir().join(format!("stallsim-no-metrics-{}.prom", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .args([
            "run",
            "scenarios/grm-deletion-stall-fixed.yaml",
            "--metrics",
        ])
        .arg(&out)
        .output()
        .expect("stallsim runs");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("spec.prometheus"));
    assert!(!out.exists());
}
