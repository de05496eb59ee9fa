//! Writes the key-event times of every bundled scenario, at its seed and
//! the next few, one line per event: `file seed<TAB>event<TAB>ms`. The
//! committed fixture `tests/fixtures/key-event-times.txt` was written by
//! this program from the world as it stepped turmoil 0.7.2 tick by tick;
//! `tests/stepping.rs` holds the event-driven world to it.
//!
//! `cargo run --release --example key_event_times > tests/fixtures/key-event-times.txt`

use std::path::Path;

/// Seeds per scenario, from the scenario's own.
const SEEDS_PER_SCENARIO: u64 = 3;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the scenarios directory is readable")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for path in files {
        let scenario = match stallsim_scenario::load(&path) {
            Ok(scenario) => scenario,
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(2);
            }
        };
        let file = path.file_name().expect("a file").to_string_lossy();
        for offset in 0..SEEDS_PER_SCENARIO {
            let seed = scenario.seed().wrapping_add(offset);
            let run = stallsim_harness::run(&scenario.world(seed).config);
            for (event, at_ms) in stallsim_explore::milestones(&run) {
                println!("{file} {seed}\t{event}\t{at_ms}");
            }
        }
    }
}
