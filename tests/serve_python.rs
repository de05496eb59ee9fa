//! `stallsim serve` with the official Kubernetes Python client (`kubernetes`
//! 37.0.2): discovery, a CRD, create, list, watch, delete and NotFound, with
//! the client's own requests and no header added (tests/python).
//!
//! The interpreter is `$STALLSIM_PYTHON`, else the virtual environment
//! `.ci/run` installs the client into (`ci-tools/` in the target
//! directory), else `python3` on `PATH`. The test is skipped, saying so,
//! only where there is no Python at all; a Python without the client
//! fails it, with how to install it.

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serve_support::{manifest, texts, Served};

/// The client release the test is written against, as `.ci/run` installs it.
const CLIENT_VERSION: &str = "37.0.2";

/// The interpreter to run the client with; `None` when there is no Python.
fn python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("STALLSIM_PYTHON") {
        return Some(PathBuf::from(python));
    }
    // CARGO_TARGET_TMPDIR is `<target>/tmp`; .ci/run's tools sit beside it.
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("../ci-tools")
        .join(format!("python-kubernetes-{CLIENT_VERSION}"))
        .join("bin/python");
    if venv.exists() {
        return Some(venv);
    }
    let found = Command::new("python3").arg("--version").output();
    found
        .is_ok_and(|output| output.status.success())
        .then(|| PathBuf::from("python3"))
}

fn run_sequence(python: &Path, served: &Served) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_sequence.py");
    let output = Command::new(python)
        .arg(script)
        .arg(&served.kubeconfig)
        .arg(manifest("crd.yaml"))
        .arg(manifest("gear.yaml"))
        .output()
        .expect("python runs");
    let (out, err) = texts(&output);
    assert!(
        err.find("No module named 'kubernetes'").is_none(),
        "the Python client is missing: run .ci/run, or \
         `{} -m pip install kubernetes=={CLIENT_VERSION}`",
        python.display()
    );
    assert!(output.status.success(), "{out}{err}");
    let steps: Vec<&str> = out.lines().collect();
    assert_eq!(
        steps,
        [
            "ok: discovery",
            "ok: crd",
            "ok: create",
            "ok: list",
            "ok: watch",
            "ok: delete",
            "ok: notfound"
        ],
        "{err}"
    );
}

#[test]
fn the_python_client_runs_its_sequence_against_serve() {
    let Some(python) = python() else {
        println!("skipped: no Python interpreter (python3) to run the Kubernetes Python client");
        return;
    };
    let served = Served::start("python", &[]);
    run_sequence(&python, &served);
}

#[test]
fn the_python_client_sends_the_token_from_the_kubeconfig() {
    let Some(python) = python() else {
        println!("skipped: no Python interpreter (python3) to run the Kubernetes Python client");
        return;
    };
    let served = Served::start("python-token", &["--token", "python-s3cret"]);
    let anonymous = served.http("GET", "/apis", "", b"");
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    run_sequence(&python, &served);
}
