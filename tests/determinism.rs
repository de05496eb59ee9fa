//! The same scenario and seed give a byte-identical trace, in one process
//! and in two; another seed gives another trace.

use std::path::{Path, PathBuf};
use std::process::Command;

fn incident() -> PathBuf {
    scenario("grm-deletion-stall.yaml")
}

fn scenario(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file)
}

fn trace_of(seed: u64) -> String {
    let config = stallsim_scenario::load(&incident())
        .expect("bundled scenario parses")
        .world(seed)
        .config;
    let run = stallsim_harness::run(&config);
    run.trace.iter().map(|e| e.to_json_line() + "\n").collect()
}

#[test]
fn same_seed_same_trace_in_one_process() {
    let first = trace_of(7);
    let second = trace_of(7);
    assert!(
        first.lines().count() > 100,
        "a trace this short shows nothing"
    );
    assert!(first == second, "two runs with seed 7 differ");
}

#[test]
fn another_seed_another_trace() {
    assert_ne!(trace_of(7), trace_of(8));
}

#[test]
fn same_seed_same_trace_in_two_processes() {
    traces_agree_across_processes(&incident(), "incident");
}

/// kube-rs's client and kube-runtime's watcher, over hyper and the HTTP
/// face, with their jitter drawn from the seed: also one trace per seed.
#[test]
fn same_seed_same_trace_in_two_processes_with_kube_rs() {
    traces_agree_across_processes(&scenario("kube-rs-controller-stalls.yaml"), "kube-rs");
}

fn traces_agree_across_processes(file: &Path, label: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let traces: Vec<Vec<u8>> = ["a", "b"]
        .iter()
        .map(|name| {
            let out = dir.join(format!("determinism-{label}-{name}.jsonl"));
            let status = Command::new(env!("CARGO_BIN_EXE_stallsim"))
                .args([
                    "run",
                    file.to_str().unwrap(),
                    "--seed",
                    "11",
                    "--trace",
                    out.to_str().unwrap(),
                ])
                .output()
                .expect("the CLI runs");
            assert_eq!(
                status.status.code(),
                Some(1),
                "{label} stalls: {}",
                String::from_utf8_lossy(&status.stdout)
            );
            std::fs::read(&out).expect("the trace was written")
        })
        .collect();
    assert!(!traces[0].is_empty());
    assert!(
        traces[0] == traces[1],
        "the two processes wrote different traces"
    );
}
