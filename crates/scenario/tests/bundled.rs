//! The scenario files shipped in `scenarios/` parse, and say what they are meant to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use stallsim_harness::FaultAction;
use stallsim_scenario::{discover, load, ExpectedVerdict, Scenario};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

fn bundled(name: &str) -> Scenario {
    let path = scenarios_dir().join(name);
    load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_scenario_file_parses() {
    let dir = scenarios_dir();
    if !dir.is_dir() {
        return;
    }
    let files = discover(&dir).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = files
        .iter()
        .filter_map(|f| load(f).err())
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// When `replica` starts, in `s`.
fn start_of(s: &Scenario, replica: &str) -> Duration {
    let config = s.config();
    let found = config.replicas.iter().find(|r| r.name == replica);
    found
        .map(|r| r.start_at)
        .unwrap_or_else(|| panic!("{}: no replica {replica}", s.path.display()))
}

/// When the deletion flow deletes the CRDs, in `s`.
fn delete_at(s: &Scenario) -> Duration {
    let config = s.config();
    config
        .flow
        .as_ref()
        .map(|f| f.delete_at)
        .unwrap_or_else(|| panic!("{}: no deletion flow", s.path.display()))
}

/// When the old leader grm-0 dies without releasing its lease (killed, or
/// lost with its node), in `s`.
fn kill_of_grm_0(s: &Scenario) -> Duration {
    let config = s.config();
    let kill = config.faults.iter().find(|f| {
        matches!(&f.action,
            FaultAction::Kill { replica, .. } | FaultAction::NodeLoss { replica }
                if replica == "grm-0")
    });
    kill.map(|f| f.at).unwrap_or_else(|| {
        panic!(
            "{}: grm-0 is never killed nor lost with its node",
            s.path.display()
        )
    })
}

// These tests hold the bundled files to the stall window of docs/model.md, not to exact timings, which may be tuned.

#[test]
fn the_incident_sits_in_the_stall_window() {
    let s = bundled("grm-deletion-stall.yaml");
    // grm-1 discovers the CRDs before they are deleted; grm-0's lease, left
    // unreleased by its node's loss, expires only after the deletion, so grm-1
    // becomes leader after it; no fix.
    assert!(start_of(&s, "grm-0") < start_of(&s, "grm-1"));
    assert!(start_of(&s, "grm-1") < delete_at(&s));
    let lease_duration = s.config().manager.leader_election.lease_duration;
    assert!(delete_at(&s) < kill_of_grm_0(&s) + lease_duration);
    let flow = s
        .config()
        .flow
        .as_ref()
        .map(|f| f.crds.clone())
        .unwrap_or_default();
    assert_eq!(
        flow,
        [
            "prometheuses.monitoring.coreos.com",
            "alertmanagers.monitoring.coreos.com"
        ]
    );
    assert_eq!(s.config().manager.mitigations, Default::default());
    assert_eq!(s.expectation().unwrap().verdict, ExpectedVerdict::Stall);
    assert_eq!(
        s.expectation().unwrap().stalled_replica.as_deref(),
        Some("grm-1")
    );
    // The flow's first poll finds the lost node's pod still Ready: its
    // condition changes only when the node lifecycle controller marks it.
    assert_eq!(
        s.expectation()
            .unwrap()
            .deployment_ready_within_flow_timeout,
        Some(true)
    );
}

#[test]
fn the_fixed_incident_differs_only_by_the_fix() {
    let stall = bundled("grm-deletion-stall.yaml").config();
    let fixed = bundled("grm-deletion-stall-fixed.yaml");
    assert_eq!(
        fixed
            .config()
            .manager
            .mitigations
            .liveness_cache_sync_deadline,
        Some(Duration::from_secs(180))
    );
    assert_eq!(
        fixed.expectation().unwrap().verdict,
        ExpectedVerdict::Converges
    );
    let mut unfixed = fixed.config().clone();
    unfixed.manager.mitigations = Default::default();
    unfixed.name = stall.name.clone();
    // The incident also has a simulated Prometheus, which observes and
    // changes nothing in the world (tests/scenarios.rs holds the trace).
    assert!(unfixed.prometheus.is_none() && stall.prometheus.is_some());
    unfixed.prometheus = stall.prometheus.clone();
    assert_eq!(unfixed, stall);
}

#[test]
fn the_controls_sit_outside_the_stall_window() {
    // Deleted before any replica starts: nobody ever discovers the CRDs.
    let before = bundled("crds-deleted-before-start.yaml");
    assert!(delete_at(&before) < start_of(&before, "grm-0"));
    assert!(delete_at(&before) < start_of(&before, "grm-1"));
    // Deleted well after grm-0 died and grm-1 took over (and synced).
    let after = bundled("crds-deleted-after-sync.yaml");
    assert!(kill_of_grm_0(&after) + Duration::from_secs(60) < delete_at(&after));

    for s in [before, after] {
        assert_eq!(
            s.expectation().unwrap().verdict,
            ExpectedVerdict::Converges,
            "{}",
            s.path.display()
        );
        assert_eq!(
            s.config().manager.mitigations,
            Default::default(),
            "{}",
            s.path.display()
        );
    }
}

#[test]
fn discover_finds_yaml_files_recursively_in_order() {
    let root =
        std::env::temp_dir().join(format!("stallsim-scenario-discover-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let make = |p: &str| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap_or(&root)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&path, "").unwrap_or_else(|e| panic!("{e}"));
    };
    for p in [
        "b.yaml",
        "a.yml",
        "notes.txt",
        "regressions/z.yaml",
        "regressions/deeper/c.yaml",
        "x.yaml.bak",
    ] {
        make(p);
    }
    let found = discover(&root).unwrap_or_else(|e| panic!("{e}"));
    let relative: Vec<String> = found
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        relative,
        [
            "a.yml",
            "b.yaml",
            "regressions/deeper/c.yaml",
            "regressions/z.yaml"
        ]
    );

    let missing = discover(&root.join("nope"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(missing.contains("cannot list the directory"), "{missing}");

    // An empty file loads as an error naming it, not a panic.
    let empty = load(&root.join("b.yaml"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(empty.ends_with("b.yaml: the file holds no scenario; expected a document starting with `apiVersion: stallsim/v1alpha1` and `kind: Scenario`"), "{empty}");
    let absent = load(&root.join("absent.yaml"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        absent.contains("absent.yaml: cannot open the file"),
        "{absent}"
    );
    std::fs::write(root.join("latin1.yaml"), b"name: caf\xe9\n").unwrap_or_else(|e| panic!("{e}"));
    let latin1 = load(&root.join("latin1.yaml"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        latin1.contains("latin1.yaml: the file is not UTF-8 text"),
        "{latin1}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
