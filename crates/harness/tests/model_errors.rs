//! Worlds whose model breaks, built in code with values no scenario file
//! accepts: a task that panics, or a host that keeps waking itself while
//! time stands still, ends the run there, inconclusive, naming the host,
//! the time and what happened.

use std::time::Duration;

use stallsim_harness::{
    CrdSpec, DeletionFlowConfig, Fault, FaultAction, ReplicaSpec, Run, Verdict, What, WorldConfig,
    WorldEvent,
};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The incident: grm-1 leads after the deletion and its Prometheus LIST
/// fails from about 65s on.
fn incident() -> WorldConfig {
    let defaults = WorldConfig::default();
    WorldConfig {
        name: "model-errors".to_string(),
        flow: Some(DeletionFlowConfig::new(
            secs(60),
            defaults.crds.iter().map(CrdSpec::name).collect(),
        )),
        replicas: ["grm-0", "grm-1"]
            .iter()
            .zip([0, 40])
            .map(|(name, start)| ReplicaSpec {
                name: name.to_string(),
                start_at: secs(start),
                probe_phase: None,
            })
            .collect(),
        faults: vec![Fault {
            at: secs(50),
            action: FaultAction::Kill {
                replica: "grm-0".to_string(),
                down: secs(120),
            },
        }],
        ..defaults
    }
}

/// The run's one reason, its last trace event, and that event's source.
fn breakdown(run: &Run) -> (&str, &WorldEvent, &str) {
    let timeline = stallsim_harness::render_timeline(&run.trace);
    let Verdict::Inconclusive { reasons } = &run.report.verdict else {
        panic!(
            "expected inconclusive, got {:?}\n{timeline}",
            run.report.verdict
        );
    };
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(run.report.model_error.as_ref(), Some(&reasons[0]));
    let last = run.trace.last().expect("a trace");
    let What::World(event) = &last.what else {
        panic!("the trace ends with the failure, not {last:?}");
    };
    assert_eq!(
        last.at(),
        run.report.simulated,
        "the run stops where the model broke"
    );
    assert!(
        timeline.contains("MODEL ERROR, the run stops:"),
        "{timeline}"
    );
    (&reasons[0], event, &last.source)
}

#[test]
fn a_panicking_task_makes_the_run_inconclusive_with_its_message_host_and_time() {
    // client-go's jitter stretches a wait by up to `jitter` times itself:
    // at 1e308 the first backoff after grm-1's failing LIST overflows.
    let mut config = incident();
    config.manager.reflector.backoff.jitter = 1e308;
    let run = stallsim_harness::run(&config);
    let (reason, event, source) = breakdown(&run);
    assert_eq!(source, "grm-1");
    let WorldEvent::TaskPanicked { message, location } = event else {
        panic!("expected a panic, got {event:?}");
    };
    assert!(
        message.contains("cannot convert float seconds to Duration"),
        "{message}"
    );
    assert!(location.is_some(), "{event:?}");
    let at = stallsim_harness::format_duration(run.report.simulated);
    assert!(
        reason.starts_with(&format!(
            "model error at {at}: a task of grm-1 panicked: cannot convert float seconds"
        )),
        "{reason}"
    );
    assert!(
        run.report.simulated > secs(60) && run.report.simulated < secs(120),
        "{reason}"
    );
    // The JSON report carries the reason and the error.
    let json = stallsim_harness::verdict_line(&run.report);
    assert!(json.contains("\"verdict\":\"inconclusive\""), "{json}");
    assert!(json.contains("\"model_error\":\"model error at"), "{json}");
}

#[test]
fn a_panic_in_the_api_server_names_the_server() {
    // Above tokio's semaphore maximum: the first watch's channel panics.
    let mut config = incident();
    config.apiserver.watch_channel_capacity = usize::MAX >> 2;
    let run = stallsim_harness::run(&config);
    let (reason, event, source) = breakdown(&run);
    assert_eq!(source, "apiserver");
    assert!(
        matches!(event, WorldEvent::TaskPanicked { message, .. } if message.contains("MAX_PERMITS")),
        "{event:?}"
    );
    assert!(reason.contains("a task of apiserver panicked"), "{reason}");
}

#[test]
fn a_host_that_never_lets_time_pass_freezes_and_makes_the_run_inconclusive() {
    // A garbage collector requeued after zero time reconciles again at once,
    // forever, once its informers have synced.
    let mut config = incident();
    config.manager.controllers[0].sync_period = Duration::ZERO;
    let run = stallsim_harness::run(&config);
    let (reason, event, source) = breakdown(&run);
    assert_eq!(source, "grm-0", "the first leader freezes");
    assert_eq!(
        event,
        &WorldEvent::HostFroze {
            polls: stallsim_net::POLLS_PER_INSTANT_MAX + 1
        }
    );
    assert!(
        reason.contains("grm-0 froze: polled 1001 times at one instant"),
        "{reason}"
    );
    assert!(run.report.simulated < secs(60), "{reason}");
}

#[test]
fn a_broken_run_is_the_same_every_time() {
    let mut config = incident();
    config.manager.reflector.backoff.jitter = 1e308;
    let first = stallsim_harness::run(&config);
    let second = stallsim_harness::run(&config);
    assert_eq!(first.trace, second.trace);
    assert_eq!(first.report, second.report);
}
