//! Benchmark: what one run of a scenario costs on one core, against an empty
//! world of the same hosts, network and duration, all measured in this
//! process; what one API request of a run costs, against the floor of the
//! same election, client and server code called in-process; then how the
//! cost grows with replicas and with simulated time, and whether memory
//! stays flat from run to run; last, an exploration of the ranged incident
//! on one worker thread and on every core, its failures drawn as `explore`
//! saves them.
//!
//! `cargo run --release --example bench -- [RUNS]`
//!
//! The scenarios are the incident (`scenarios/grm-deletion-stall.yaml`),
//! its fix (`scenarios/grm-deletion-stall-fixed.yaml`) and its kube-rs twin
//! (`scenarios/kube-rs-controller-stalls.yaml`: kube-rs's client over HTTP,
//! kube-runtime's informer), each at its own seed. It allocates as the
//! `stallsim` binary does, through mimalloc.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use stallsim_apiserver::{ApiServer, ApiServerConfig, InProcessTransport};
use stallsim_client::RestClient;
use stallsim_harness::manager::{LeaderElectionConfig, LeaderElector};
use stallsim_harness::{ReplicaSpec, WorldConfig};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs of each measurement unless the first argument says otherwise.
const RUNS_DEFAULT: u32 = 5;
const SCENARIOS: [&str; 3] = [
    "scenarios/grm-deletion-stall.yaml",
    "scenarios/grm-deletion-stall-fixed.yaml",
    "scenarios/kube-rs-controller-stalls.yaml",
];
const REPLICA_COUNTS: [usize; 4] = [2, 4, 8, 16];
const DURATIONS: [Duration; 2] = [Duration::from_secs(20 * 60), Duration::from_secs(2 * 3600)];
/// Simulated time one candidate holds its lease in the in-process floor:
/// a renewal (GET and PUT) every retry period.
const FLOOR_HOLD: Duration = Duration::from_secs(20 * 60);
/// Lease encode+decode round trips timed per run of the floor.
const ROUND_TRIPS: u32 = 10_000;
/// The exploration measured on one thread and on every core.
const EXPLORED: &str = "scenarios/grm-deletion-stall-ranged.yaml";
/// Runs of that exploration per run of the other measurements.
const EXPLORE_RUNS_PER_RUN: u64 = 40;
/// Failures drawn per exploration, as `stallsim explore` saves at most.
const EXPLORE_DRAWN_MAX: usize = 100;

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
    println!("  the empty world's wall ms, and the run's ratio to it;");
    println!("  the API requests the server answered, and cpu us per request");
    println!();
    println!(
        "{:<26} {:>8} {:>9} {:>7} {:>8} {:>9} {:>9} {:>7} {:>7} {:>7}",
        "scenario",
        "wall ms",
        "sim s/s",
        "runs/s",
        "cpu ms",
        "sim s/cpu",
        "empty ms",
        "ratio",
        "reqs",
        "us/req"
    );
    let rows: Vec<Measured> = configs
        .iter()
        .map(|config| row(&config.name, config, runs))
        .collect();

    let incident = &configs[0];
    println!();
    println!("the incident with more replicas (each like the last, starting with it):");
    let scaling: Vec<Measured> = REPLICA_COUNTS
        .iter()
        .map(|&count| {
            let config = with_replicas(incident, count);
            row(&format!("{count} replicas"), &config, runs)
        })
        .collect();
    print_scaling(&scaling);

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
    println!("the incident without its simulated Prometheus (spec.prometheus removed):");
    let unscraped = WorldConfig {
        prometheus: None,
        ..incident.clone()
    };
    let without = row("incident, not scraped", &unscraped, runs);
    if let (Some(with), Some(without)) = (rows[0].cpu, without.cpu) {
        println!(
            "scraping and alert rules cost {:.2} ms of cpu per run ({:+.1}%)",
            (with.as_secs_f64() - without.as_secs_f64()) * 1e3,
            (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0
        );
    }

    println!();
    print_floor(&floor(runs), &rows[0]);

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

    println!();
    explore_rows(&root.join(EXPLORED), u64::from(runs) * EXPLORE_RUNS_PER_RUN);
}

/// Explores `file` for `runs` seeds on one worker thread, then on every
/// core, each failure drawn (its timeline picture and its regression
/// file, in memory) inside the worker that ran it, as `stallsim explore`
/// does; prints the wall time of each and the speedup.
fn explore_rows(file: &Path, runs: u64) {
    let scenario = match stallsim::Scenario::from_file(file) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "exploring {} ({runs} runs, failures drawn as explore saves them) on 1 and {cores} threads:",
        file.file_name().unwrap_or_default().to_string_lossy()
    );
    let draw = |found: &stallsim::explore::FoundFailure<'_>| {
        let svg = stallsim::show::svg(file, &found.drawn.config, found.run);
        let text = scenario.regression_text(found.seed).ok();
        (svg, text)
    };
    let mut walls = Vec::new();
    for jobs in [1, cores] {
        let start = Instant::now();
        let explored = scenario
            .explore()
            .runs(runs)
            .jobs(jobs)
            .run_keeping(EXPLORE_DRAWN_MAX, &draw);
        let wall = start.elapsed();
        let Ok((exploration, drawn)) = explored else {
            println!("  the exploration could not be planned");
            return;
        };
        println!(
            "  {jobs} thread(s): {:.2} s wall, {:.1} runs/s, {} failed, {} drawn",
            wall.as_secs_f64(),
            runs as f64 / wall.as_secs_f64(),
            exploration.failed(),
            drawn.len()
        );
        walls.push(wall);
    }
    if let [one, all] = walls[..] {
        println!(
            "  {cores} threads: {:.2}x one thread (wall; other load on the machine lowers it)",
            one.as_secs_f64() / all.as_secs_f64()
        );
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

/// One row's measurements, per run.
struct Measured {
    /// This thread's time on a core, where the system tells it.
    cpu: Option<Duration>,
    /// API requests the server answered (the same in every run).
    requests: u64,
}

/// Warms up, then times `runs` of the world and of the empty world,
/// interleaved, and prints one line.
fn row(label: &str, config: &WorldConfig, runs: u32) -> Measured {
    let requests = stallsim_harness::run(config).report.api_requests.total;
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
    let cpu = run_cpu.map(|cpu| cpu / runs);
    let (cpu_ms, per_cpu, per_request) = match cpu {
        Some(cpu) => (
            format!("{:.1}", cpu.as_secs_f64() * 1e3),
            format!("{:.0}", simulated / cpu.as_secs_f64()),
            format!("{:.1}", micros_per(cpu, requests)),
        ),
        None => ("-".to_string(), "-".to_string(), "-".to_string()),
    };
    println!(
        "{:<26} {:>8.1} {:>9.0} {:>7.1} {:>8} {:>9} {:>9.3} {:>6.0}x {:>7} {:>7}",
        label,
        per_run * 1e3,
        simulated / per_run,
        1.0 / per_run,
        cpu_ms,
        per_cpu,
        per_empty * 1e3,
        per_run / per_empty,
        requests,
        per_request
    );
    Measured { cpu, requests }
}

/// The largest replica row over the smallest, and the cost of each replica
/// added between them.
fn print_scaling(rows: &[Measured]) {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return;
    };
    let (fewest, most) = (REPLICA_COUNTS[0], REPLICA_COUNTS[REPLICA_COUNTS.len() - 1]);
    let (Some(small), Some(large)) = (first.cpu, last.cpu) else {
        println!("replica scaling: not measurable here (no thread cpu time)");
        return;
    };
    let added = (most - fewest) as f64;
    println!(
        "replica scaling: {most} replicas cost {:.2}x the {fewest}-replica row on a core \
         ({:.2}x its API requests); {:.1} cpu ms and {:.0} requests per added replica",
        large.as_secs_f64() / small.as_secs_f64(),
        last.requests as f64 / first.requests.max(1) as f64,
        (large.as_secs_f64() - small.as_secs_f64()) * 1e3 / added,
        (last.requests as f64 - first.requests as f64) / added
    );
}

/// What a request costs without the simulated network and the wire: the
/// floor a run's cost per request is held against.
struct Floor {
    /// One request of a leader election through the real `LeaderElector`,
    /// `RestClient` and `ApiServer`, over `InProcessTransport`.
    request: Duration,
    /// API requests of one such election.
    requests: u64,
    /// A `Lease` encoded to JSON and decoded back, typed.
    typed_round_trip: Duration,
    /// The same through `serde_json::Value`, as the wire faces did before
    /// bodies were typed end to end.
    value_round_trip: Duration,
}

/// Measures the floor: an election held for [`FLOOR_HOLD`] `runs` times,
/// and [`ROUND_TRIPS`] Lease round trips each way `runs` times (after one
/// of each to warm up).
fn floor(runs: u32) -> Floor {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds");
    let (mut election, mut requests) = (Duration::ZERO, 0);
    let lease = sample_lease();
    let (mut typed, mut value) = (Duration::ZERO, Duration::ZERO);
    for n in 0..=runs {
        let (spent, answered) = timed(|| held_election(&runtime));
        let (typed_spent, ()) = timed(|| {
            for _ in 0..ROUND_TRIPS {
                let text = serde_json::to_vec(std::hint::black_box(&lease)).expect("encodes");
                let back: Lease = serde_json::from_slice(&text).expect("decodes");
                std::hint::black_box(back);
            }
        });
        let (value_spent, ()) = timed(|| {
            for _ in 0..ROUND_TRIPS {
                let tree = serde_json::to_value(std::hint::black_box(&lease)).expect("converts");
                let text = serde_json::to_vec(&tree).expect("encodes");
                let tree: serde_json::Value = serde_json::from_slice(&text).expect("decodes");
                let back: Lease = serde_json::from_value(tree).expect("converts back");
                std::hint::black_box(back);
            }
        });
        if n > 0 {
            election += spent;
            requests = answered;
            typed += typed_spent;
            value += value_spent;
        }
    }
    let trips = runs * ROUND_TRIPS;
    Floor {
        request: election / runs / u32::try_from(requests.max(1)).unwrap_or(u32::MAX),
        requests,
        typed_round_trip: typed / trips,
        value_round_trip: value / trips,
    }
}

/// One candidate acquires the lease on a fresh server and renews it for
/// [`FLOOR_HOLD`] of paused time; the requests the server answered.
fn held_election(runtime: &tokio::runtime::Runtime) -> u64 {
    let server = Rc::new(RefCell::new(ApiServer::new(ApiServerConfig::default())));
    let client = RestClient::new(
        InProcessTransport::new(Rc::clone(&server)),
        Duration::from_secs(30),
    );
    tokio::task::LocalSet::new().block_on(runtime, async move {
        let mut elector = LeaderElector::new(
            client,
            LeaderElectionConfig::default(),
            "grm-0".to_string(),
            "garden".to_string(),
            Rc::new(()),
            1,
            Timestamp::UNIX_EPOCH,
        );
        elector.acquire().await;
        // Renewing never fails here, so only the bound ends it.
        let _ = tokio::time::timeout(FLOOR_HOLD, elector.hold()).await;
    });
    let answered = server.borrow().load().total;
    answered
}

/// A lease as a renewing leader writes it.
fn sample_lease() -> Lease {
    let now = MicroTime(Timestamp::from_second(1_743_465_600).expect("a valid timestamp"));
    Lease {
        metadata: ObjectMeta {
            name: Some("gardener-resource-manager".to_string()),
            namespace: Some("garden".to_string()),
            resource_version: Some("1042".to_string()),
            uid: Some("6c0b5b1e-4a1f-4f3e-9d7a-2f1c3e5d7b90".to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("grm-0".to_string()),
            lease_duration_seconds: Some(15),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(1),
            ..LeaseSpec::default()
        }),
    }
}

fn print_floor(floor: &Floor, incident: &Measured) {
    println!("the floor a request is compared with, measured here:");
    println!(
        "  a request of a leader election in-process (the real LeaderElector, RestClient \
         and ApiServer over InProcessTransport: no network, each body JSON text as on the wire; {} requests): \
         {:.1} us",
        floor.requests,
        micros(floor.request)
    );
    println!(
        "  a Lease encoded to JSON and decoded back: {:.2} us typed, {:.2} us through \
         serde_json::Value",
        micros(floor.typed_round_trip),
        micros(floor.value_round_trip)
    );
    match incident.cpu {
        Some(cpu) => {
            let per_request = micros_per(cpu, incident.requests);
            println!(
                "the incident: {:.1} us per request, {:.1}x the in-process request",
                per_request,
                per_request / micros(floor.request)
            );
        }
        None => println!("the incident: not measurable here (no thread cpu time)"),
    }
}

/// What `f` took: this thread's time on a core where the system tells it,
/// else the wall clock's.
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let (cpu_start, wall_start) = (thread_cpu(), Instant::now());
    let value = f();
    let spent = match (cpu_start, thread_cpu()) {
        (Some(start), Some(end)) => end - start,
        _ => wall_start.elapsed(),
    };
    (spent, value)
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn micros_per(duration: Duration, count: u64) -> f64 {
    micros(duration) / count.max(1) as f64
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
