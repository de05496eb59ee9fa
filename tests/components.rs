//! Components in the scenario (`spec.components`): the restart-loop verdict
//! counted by `explore` and `matrix`, every replica of a component without
//! leader election stalling, and a malformed component refused before
//! anything runs.

use std::path::{Path, PathBuf};

use stallsim::explore::MatrixQuery;
use stallsim::{Error, Scenario, Verdict};

fn bundled(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file)
}

const LOOP: &str = "component-cache-sync-timeout-restart-loop.yaml";

#[test]
fn a_restart_loop_names_the_replica_and_the_watched_kind() -> Result<(), Error> {
    let run = Scenario::from_file(bundled(LOOP))?.run(1);
    let Verdict::RestartLoop(looping) = &run.report.verdict else {
        panic!("expected a restart loop, got {:?}", run.report.verdict)
    };
    assert_eq!(looping.replica, "mon-0");
    assert!(looping.restarts >= 2, "{looping:?}");
    assert_eq!(
        looping.watched_kinds,
        ["monitoring.coreos.com/v1, Kind=Prometheus"]
    );
    assert!(
        looping
            .cause
            .contains("timed out waiting for cache to be synced"),
        "{}",
        looping.cause
    );
    assert!(run.report.verdict.is_restart_loop());
    Ok(())
}

#[test]
fn explore_counts_restart_loops_as_failures_of_convergence() -> Result<(), Error> {
    let s = Scenario::from_file(bundled(LOOP))?;
    // Held to its own expect (restart-loop): every run holds.
    let held = s.explore().runs(4).jobs(2).run()?;
    assert_eq!(held.verdicts().restart_loop.count, 4);
    assert_eq!(held.verdicts().stall.count, 0);
    assert_eq!(held.failed(), 0);
    // Held to convergence: every run breaks it.
    let converging = s
        .explore()
        .runs(4)
        .jobs(2)
        .property(stallsim::Expect::converges())
        .run()?;
    assert_eq!(converging.verdicts().restart_loop.count, 4);
    assert_eq!(converging.failed(), 4);
    Ok(())
}

#[test]
fn matrix_counts_restart_loops_and_no_fix_closes_them() -> Result<(), Error> {
    let s = Scenario::from_file(bundled(LOOP))?;
    let matrix = s.matrix(&MatrixQuery { runs: 2, jobs: 2 })?;
    let none = &matrix.rows[0];
    assert_eq!(none.restart_loops, 2, "{none:?}");
    assert_eq!(none.stalls, 0);
    // Exiting on CacheSyncTimeout is upstream behaviour: no candidate fix
    // of the resource manager touches it.
    for row in &matrix.rows {
        assert_eq!(row.restart_loops, 2, "{row:?}");
        assert_ne!(row.finding.label(), "closed", "{row:?}");
    }
    Ok(())
}

#[test]
fn without_leader_election_every_replica_stalls() -> Result<(), Error> {
    let file = "component-without-election-all-replicas-stall.yaml";
    let run = Scenario::from_file(bundled(file))?.run(1);
    assert!(run.report.verdict.is_stall(), "{:?}", run.report.verdict);
    for replica in ["reader-0", "reader-1", "reader-2"] {
        let ready = run.trace.iter().any(|e| {
            e.source == replica
                && format!("{:?}", e.what).contains("ReadinessChanged { ready: true }")
        });
        assert!(!ready, "{replica} became ready");
        assert_eq!(run.report.restarts_of(replica), 0, "{replica}");
    }
    Ok(())
}

#[test]
fn a_malformed_component_is_refused_with_its_place_and_nothing_runs() {
    let dir = Path::new("scenarios");
    let cases = [
        (
            "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: bad}\nspec:\n  components:\n    - name: op\n      replicas: [{name: op-0}]\n      watches:\n        - {kind: monitoring.coreos.com/v1/Prometheus, cacheSyncTimeout: 0s}\n",
            ":9:",
            "spec.components[0].watches[0].cacheSyncTimeout",
        ),
        (
            "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: bad}\nspec:\n  components:\n    - name: op\n      replicas: [{name: kubelet}]\n",
            ":7:",
            "spec.components[0].replicas[0].name",
        ),
        (
            "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: bad}\nspec:\n  components:\n    - name: op\n      replicas: [{name: op-0}]\n    - name: other\n      replicas: [{name: op-0}]\n",
            ":9:",
            "spec.components[1].replicas[0].name",
        ),
        (
            "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: bad}\nspec:\n  components:\n    - name: op\n      replicas: [{name: op-0}]\n  deletionFlow:\n    deleteAt: 60s\n    waitFor: [gardener-resource-manager]\n",
            ":10:",
            "spec.deletionFlow.waitFor[0]",
        ),
    ];
    for (i, (text, line, field)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad-{i}.yaml"));
        // Refused when read: no world is built, so nothing runs.
        let error = match Scenario::parse(&path, text) {
            Ok(_) => panic!("case {i}: accepted"),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains(&format!("{}{line}", path.display())),
            "case {i}: no file:line:column in {error}"
        );
        assert!(
            error.contains(field),
            "case {i}: no field {field} in {error}"
        );
    }
}
