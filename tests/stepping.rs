//! The event-driven world against the tick-stepped one it replaced: every
//! bundled scenario, at its seed and the next two, has the same key events
//! (`stallsim_explore::milestones`) as in `tests/fixtures/key-event-times.txt`,
//! which `examples/key_event_times.rs` wrote from turmoil 0.7.2 stepping
//! every host every 10ms tick.
//!
//! Tolerance: each event within `SHIFT_MAX` (one readiness-probe period,
//! plus the drift `CLOSE` allows) of its old time, and at least
//! `CLOSE_SHARE_MIN` of them within `CLOSE`.
//! Hops now take their drawn latency instead of waiting for a tick, so a
//! probe or lease cycle is some 30ms shorter, and the drift adds up over a
//! run; where it moves a lease renewal or a probe across its period, the
//! event moves by that period.
//!
//! The files that lose grm-0 with its node (`nodeLoss`) killed it for 2m
//! (`kill`, `down: 2m`) when the fixture was written, and a node loss has
//! other key events (a new pod, no restart in place); they are compared in
//! the world the fixture recorded, with that kill (`KILLED_WHEN_RECORDED`).

use std::collections::BTreeMap;
use std::path::Path;

/// Most events move less than this...
const CLOSE_MS: u64 = 1_000;
/// The most any key event may move: across one probe period (10s), and
/// by a drift as large as a close event's.
const SHIFT_MAX_MS: u64 = 10_000 + CLOSE_MS;
/// ...this share of them, in percent.
const CLOSE_SHARE_MIN_PERCENT: usize = 90;

type Times = BTreeMap<(String, String), u64>;

/// Files whose node loss was a kill when the fixture was written: the
/// fault as written then, and as written now.
const KILLED_WHEN_RECORDED: &[&str] = &["grm-deletion-stall.yaml", "grm-deletion-stall-fixed.yaml"];
const NODE_LOSS_NOW: &str = "{at: 50s, nodeLoss: grm-0}";
const KILL_WHEN_RECORDED: &str = "{at: 50s, kill: grm-0, down: 2m}";

fn parse(text: &str) -> Times {
    text.lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let run = fields.next().expect("a run").to_string();
            let event = fields.next().expect("an event").to_string();
            let at_ms = fields
                .next()
                .and_then(|ms| ms.parse().ok())
                .expect("a time in ms");
            ((run, event), at_ms)
        })
        .collect()
}

fn current(runs: &[(String, u64)]) -> Times {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut times = Times::new();
    for (file, seed) in runs {
        let path = dir.join(file);
        let mut text = std::fs::read_to_string(&path).expect("bundled scenario reads");
        if KILLED_WHEN_RECORDED.contains(&file.as_str()) {
            assert!(text.contains(NODE_LOSS_NOW), "{file}: its node loss moved");
            text = text.replace(NODE_LOSS_NOW, KILL_WHEN_RECORDED);
        }
        let scenario = stallsim_scenario::parse(&path, &text).expect("bundled scenario loads");
        let run = stallsim_harness::run(&scenario.world(*seed).config);
        for (event, at_ms) in stallsim_explore::milestones(&run) {
            times.insert((format!("{file} {seed}"), event), at_ms);
        }
    }
    times
}

#[test]
fn key_events_keep_their_times_within_the_tolerance() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/key-event-times.txt");
    let old = parse(&std::fs::read_to_string(fixture).expect("the fixture is readable"));
    let mut runs: Vec<(String, u64)> = old
        .keys()
        .map(|(run, _)| {
            let (file, seed) = run.rsplit_once(' ').expect("file and seed");
            (file.to_string(), seed.parse().expect("a seed"))
        })
        .collect();
    runs.dedup();
    assert!(
        runs.len() >= 30,
        "the fixture covers every bundled scenario"
    );
    let new = current(&runs);

    let old_events: Vec<_> = old.keys().collect();
    let new_events: Vec<_> = new.keys().collect();
    assert_eq!(old_events, new_events, "the same key events in every run");

    let mut close = 0;
    for (key, old_ms) in &old {
        let new_ms = new[key];
        let shift = old_ms.abs_diff(new_ms);
        assert!(
            shift <= SHIFT_MAX_MS,
            "{key:?} moved from {old_ms}ms to {new_ms}ms"
        );
        close += usize::from(shift <= CLOSE_MS);
    }
    eprintln!(
        "{close} of {} key events within {CLOSE_MS}ms of their tick-stepped times",
        old.len()
    );
    assert!(
        close * 100 >= old.len() * CLOSE_SHARE_MIN_PERCENT,
        "only {close} of {} key events within {CLOSE_MS}ms",
        old.len()
    );
}
