//! Benchmark: what one run of a scenario costs on one core, against an empty
//! world of the same hosts, network and duration, all measured in this
//! process; then how the cost grows with replicas and with simulated time,
//! and whether memory stays flat from run to run.
//!
//! `cargo run --release --example bench -- [RUNS]`
//!
//! The scenarios are the incident (`scenarios/grm-deletion-stall.yaml`),
//! its fix (`scenarios/grm-deletion-stall-fixed.yaml`) and its kube-rs twin
//! (`scenarios/kube-rs-controller-stalls.yaml`: kube-rs's client over HTTP,
//! kube-runtime's informer), each at its own seed.

use std::path::Path;
use std::time::{Duration, Instant};

use stallsim_harness::{ReplicaSpec, WorldConfig};

/// Runs of each measurement unless the first argument says otherwise.
const RUNS_DEFAULT: u32 = 5;
const SCENARIOS: [&str; 3] = [
    "scenarios/grm-deletion-stall.yaml",
    "scenarios/grm-deletion-stall-fixed.yaml",
    "scenarios/kube-rs-controller-stalls.yaml",
];
const REPLICA_COUNTS: [usize; 4] = [2, 4, 8, 16];
const DURATIONS: [Duration; 2] = [Duration::from_secs(20 * 60), Duration::from_secs(2 * 3600)];

fn main() {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(RUNS_DEFAULT)
        .max(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let configs: Vec<WorldConfig> = SCENARIOS
        .iter()
        .map(|file| load(&root.join(file)))
        .collect();

    println!("{runs} runs per measurement on one thread; per run:");
    println!("  wall ms, simulated s per wall s, runs per wall s;");
    println!("  cpu ms and simulated s per cpu s (this thread's time on a core,");
    println!("  from /proc/thread-self/schedstat: apart from other load);");
    println!("  the empty world's wall ms, and the run's ratio to it");
    println!();
    println!(
        "{:<26} {:>8} {:>9} {:>7} {:>8} {:>9} {:>9} {:>7}",
        "scenario", "wall ms", "sim s/s", "runs/s", "cpu ms", "sim s/cpu", "empty ms", "ratio"
    );
    for config in &configs {
        row(&config.name, config, runs);
    }

    let incident = &configs[0];
    println!();
    println!("the incident with more replicas (each like the last, starting with it):");
    for count in REPLICA_COUNTS {
        let config = with_replicas(incident, count);
        row(&format!("{count} replicas"), &config, runs);
    }
    println!();
    println!("the incident for longer:");
    for duration in DURATIONS {
        let config = WorldConfig {
            duration,
            ..incident.clone()
        };
        row(
            &format!("{}m simulated", duration.as_secs() / 60),
            &config,
            runs,
        );
    }

    println!();
    let before = resident_kib();
    for _ in 0..runs * 4 {
        stallsim_harness::run(incident);
    }
    let after = resident_kib();
    match (before, after) {
        (Some(before), Some(after)) => println!(
            "memory: resident {} KiB before {} more incident runs, {} KiB after",
            before,
            runs * 4,
            after
        ),
        _ => println!("memory: not measurable here (no /proc/self/status)"),
    }
}

fn load(path: &Path) -> WorldConfig {
    match stallsim_scenario::load(path) {
        Ok(scenario) => scenario.world(scenario.seed()).config,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    }
}

/// Warms up, then times `runs` of the world and of the empty world,
/// interleaved, and prints one line.
fn row(label: &str, config: &WorldConfig, runs: u32) {
    stallsim_harness::run(config);
    stallsim_harness::run_empty(config);
    let (mut run_wall, mut empty_wall) = (Duration::ZERO, Duration::ZERO);
    let mut run_cpu = Some(Duration::ZERO);
    for _ in 0..runs {
        let start = Instant::now();
        let cpu_start = thread_cpu();
        std::hint::black_box(stallsim_harness::run(config));
        run_wall += start.elapsed();
        run_cpu = run_cpu
            .zip(cpu_start)
            .zip(thread_cpu())
            .map(|((sum, start), end)| sum + (end - start));
        let start = Instant::now();
        std::hint::black_box(stallsim_harness::run_empty(config));
        empty_wall += start.elapsed();
    }
    let per_run = (run_wall / runs).as_secs_f64();
    let per_empty = (empty_wall / runs).as_secs_f64();
    let simulated = config.duration.as_secs_f64();
    let (cpu_ms, per_cpu) = match run_cpu {
        Some(cpu) => {
            let per_run_cpu = (cpu / runs).as_secs_f64();
            (
                format!("{:.1}", per_run_cpu * 1e3),
                format!("{:.0}", simulated / per_run_cpu),
            )
        }
        None => ("-".to_string(), "-".to_string()),
    };
    println!(
        "{:<26} {:>8.1} {:>9.0} {:>7.1} {:>8} {:>9} {:>9.3} {:>6.0}x",
        label,
        per_run * 1e3,
        simulated / per_run,
        1.0 / per_run,
        cpu_ms,
        per_cpu,
        per_empty * 1e3,
        per_run / per_empty
    );
}

/// The config with `count` replicas: the first ones as they are, more like
/// the last, starting when it does.
fn with_replicas(config: &WorldConfig, count: usize) -> WorldConfig {
    let mut config = config.clone();
    let last = config.replicas.last().cloned().expect("a replica");
    config.replicas.truncate(count);
    for n in config.replicas.len()..count {
        config.replicas.push(ReplicaSpec {
            name: format!("grm-{n}"),
            ..last.clone()
        });
    }
    config
}

/// This thread's time on a core so far, from Linux's
/// `/proc/thread-self/schedstat` (its first field, in nanoseconds).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// This process's resident memory, from Linux's `/proc/self/status`.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
