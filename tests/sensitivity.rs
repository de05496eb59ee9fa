//! Sensitivity: the incident's verdict holds for every plausible value of
//! the model's estimated constants, and the bundled file that says its
//! verdict rests on one is right about which and where.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use stallsim::explore::{Estimates, Moved, Sensitivity, SensitivityQuery};
use stallsim::Scenario;

fn scenario(file: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    Scenario::from_file(path).unwrap_or_else(|e| panic!("{e}"))
}

fn query(s: &Scenario, jobs: usize) -> SensitivityQuery {
    SensitivityQuery {
        seed: s.seed(),
        grid_points: stallsim::explore::SENSITIVITY_GRID_POINTS_DEFAULT,
        jobs,
    }
}

/// The bundled files' names, in order.
fn bundled_files() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/ reads")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    files
}

/// The sensitivity of every bundled file at its seed, computed once for
/// the tests that read it.
fn bundled(file: &str) -> &'static Sensitivity {
    static ALL: OnceLock<BTreeMap<String, Sensitivity>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        bundled_files()
            .into_iter()
            .map(|file| {
                let s = scenario(&file);
                let found = s.sensitivity(&query(&s, 2));
                (file, found)
            })
            .collect()
    });
    &all[file]
}

#[test]
fn the_incident_stalls_for_every_plausible_value_of_each_estimate() {
    let found = bundled("grm-deletion-stall.yaml");
    assert_eq!(found.verdict, "stall");
    assert!(found.rests_on().is_empty(), "{}", found.summary());
    // The process's and container's start, the latencies and the lost
    // node's replacement take part in the incident's run.
    for name in [
        "processStart",
        "containerStart",
        "latencyMax",
        "schedulingDelay",
    ] {
        let c = found.constants.iter().find(|c| c.name == name).expect(name);
        assert!(
            matches!(c.moved, Moved::Across { .. }),
            "{name}: {:?}",
            c.moved
        );
    }
    assert_eq!(found.constants.len(), stallsim::ESTIMATES.len());
    assert!(
        found.summary().starts_with("robust to the "),
        "{}",
        found.summary()
    );
}

#[test]
fn the_close_graceful_restart_rests_on_process_start_below_a_second() {
    let found = bundled("graceful-restart-race-rests-on-process-start.yaml");
    assert_eq!(found.verdict, "stall");
    let rests: Vec<&str> = found.rests_on().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(rests, ["processStart"], "{}", found.summary());
    let c = found.rests_on()[0];
    let Moved::Across { edges, .. } = &c.moved else {
        panic!("moved")
    };
    assert_eq!(edges.len(), 1, "{edges:?}");
    let edge = &edges[0];
    assert!(
        edge.above - edge.below <= found.resolution,
        "bisected to the tick: {edge:?}"
    );
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(1)).contains(&edge.above),
        "{edge:?}"
    );
    assert_eq!(
        edge.verdicts,
        ("converges".to_string(), "stall".to_string())
    );
    assert_eq!(
        (edge.below_with.as_deref(), edge.above_with.as_deref()),
        (Some("grm-0 container starts"), Some("grm-1 becomes leader")),
        "the event that flips it"
    );
    assert!(
        found
            .summary()
            .starts_with("rests on processStart (converges below 9"),
        "{}",
        found.summary()
    );
}

#[test]
fn a_sensitivity_does_not_depend_on_the_number_of_threads() {
    // The shared result ran on 2 threads.
    let file = "graceful-restart-race-rests-on-process-start.yaml";
    let s = scenario(file);
    assert_eq!(&s.sensitivity(&query(&s, 1)), bundled(file));
}

#[test]
fn an_exploration_can_draw_the_estimates_and_says_which() {
    let s = scenario("grm-deletion-stall.yaml");
    let drawn = s
        .explore()
        .runs(3)
        .jobs(2)
        .estimates(Estimates::Plausible)
        .run()
        .expect("explores");
    assert_eq!(drawn.estimates.len(), stallsim::ESTIMATES.len());
    assert_eq!(
        drawn.stall_rate().count,
        3,
        "the incident stalls in every draw"
    );
    let as_written = s.explore().runs(3).jobs(2).run().expect("explores");
    assert!(as_written.estimates.is_empty());
    // The draws differ from the file's world, seed by seed, and replay.
    let world = s.world_estimated(1);
    assert_ne!(world.config, s.world(1).config);
    assert_eq!(world, s.world_estimated(1));
    // A saved copy names each drawn estimate and replays without them.
    let text = s.fixed_text_estimated(1).expect("a self-contained copy");
    assert!(text.contains("processStart: "), "{text}");
    let copy = Scenario::parse("copy.yaml", &text).expect("the copy parses");
    assert_eq!(copy.world(1).config, world.config);
}

/// A bundled file's header comment: its leading `#` lines, joined.
fn header(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let text = std::fs::read_to_string(path).expect("bundled file reads");
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every bundled file says in its header what `sensitivity` finds at its
/// seed: robust, and to how many constants taking part; or which constant
/// it rests on, and where.
#[test]
fn every_bundled_header_says_what_its_verdict_rests_on() {
    let files = bundled_files();
    assert!(files.len() >= 15, "{files:?}");
    for file in &files {
        let found = bundled(file);
        let said = header(file);
        let rests = found.rests_on();
        if rests.is_empty() {
            let count = format!("{} that take part", found.moved());
            assert!(
                said.contains("Robust to the estimated constants") && said.contains(&count),
                "{file}: its header must say `Robust to the estimated constants` and `{count}`: {}",
                found.summary()
            );
        } else {
            for c in rests {
                let edge = c.where_it_differs(&found.verdict);
                let place = edge.rsplit(' ').next().unwrap_or_default();
                assert!(
                    said.contains(&format!("rests on {}", c.name)) && said.contains(place),
                    "{file}: its header must say it rests on {} ({edge})",
                    c.name
                );
            }
        }
    }
}
