//! `Expect::check` names every difference between a report and the expectation.

use std::time::Duration;

use stallsim_harness::{
    AlertReport, ClassRequests, FlowOutcome, ReplicaRequests, Report, Stall, Verdict,
};
use stallsim_scenario::{AlertExpectation, ApiRequestBounds, Expect, ExpectedVerdict};

fn stall(replica: &str) -> Verdict {
    Verdict::Stall(Stall {
        replica: replica.to_string(),
        not_ready_since: Duration::from_secs(90),
        detected_at: Duration::from_secs(390),
        unsynced_informers: vec!["monitoring.coreos.com/v1, Kind=Prometheus".to_string()],
        last_list_error: Some("404 NotFound".to_string()),
        last_probe: None,
        lease_holder: Some(replica.to_string()),
    })
}

fn report(verdict: Verdict, ready_within_timeout: Option<bool>) -> Report {
    Report {
        scenario: "s".to_string(),
        seed: 1,
        verdict,
        flow: ready_within_timeout.map(|ready| FlowOutcome {
            deleted_at: Some(Duration::from_secs(60)),
            ready_within_timeout: ready,
            ready_at: ready.then_some(Duration::from_secs(120)),
            failed_waits: if ready { 0 } else { 3 },
        }),
        restarts: vec![("grm-0".to_string(), 1), ("grm-1".to_string(), 0)],
        simulated: Duration::from_secs(1200),
        model_error: None,
        api_requests: Default::default(),
        api_by_replica: Vec::new(),
        api_by_component: Vec::new(),
        alerts: Vec::new(),
    }
}

fn expect(verdict: ExpectedVerdict, stalled: Option<&str>, ready: Option<bool>) -> Expect {
    Expect {
        alerts: Vec::new(),
        verdict,
        stalled_replica: stalled.map(str::to_string),
        deployment_ready_within_flow_timeout: ready,
        api_requests: None,
    }
}

/// `check` finds exactly the differences containing `expected`, in order.
fn check(expect: &Expect, report: &Report, expected: &[&str]) {
    let differences = expect.check(report);
    assert_eq!(differences.len(), expected.len(), "{differences:#?}");
    for (difference, expected) in differences.iter().zip(expected) {
        assert!(
            difference.contains(expected),
            "`{difference}` lacks `{expected}`"
        );
    }
}

#[test]
fn matching_reports_have_no_differences() {
    use ExpectedVerdict::*;
    check(
        &expect(Stall, Some("grm-1"), Some(false)),
        &report(stall("grm-1"), Some(false)),
        &[],
    );
    check(
        &expect(Stall, None, None),
        &report(stall("grm-0"), None),
        &[],
    );
    check(
        &expect(Converges, None, Some(true)),
        &report(Verdict::Converges, Some(true)),
        &[],
    );
}

#[test]
fn every_difference_is_named() {
    use ExpectedVerdict::*;
    check(
        &expect(Stall, Some("grm-1"), Some(false)),
        &report(Verdict::Converges, Some(true)),
        &[
            "expected a stall of grm-1, but every replica converged within the 20m run",
            "expected the deployment to not be ready within the deletion flow's wait, but it was ready at 2m",
        ],
    );
    check(
        &expect(Converges, None, Some(true)),
        &report(stall("grm-1"), Some(false)),
        &[
            "expected convergence, but grm-1 stalled: not ready since 1m30s, still unrestarted at 6m30s; \
             unsynced informers: monitoring.coreos.com/v1, Kind=Prometheus; last LIST error: 404 NotFound; \
             lease held by grm-1",
            "expected the deployment to be ready within the deletion flow's wait, but the wait timed out 3 time(s) \
             and the deployment was never ready",
        ],
    );
    check(
        &expect(Stall, Some("grm-1"), None),
        &report(stall("grm-0"), None),
        &["expected grm-1 to stall, but grm-0 stalled (not ready since 1m30s)"],
    );
    check(
        &expect(Converges, None, Some(false)),
        &report(Verdict::Converges, None),
        &["expected the deployment to not be ready within the deletion flow's wait, but the run had no deletion flow"],
    );
}

#[test]
fn verdict_names_match_the_harness() {
    assert_eq!(ExpectedVerdict::Stall.name(), stall("x").name());
    assert_eq!(ExpectedVerdict::Converges.name(), Verdict::Converges.name());
}

/// A replica that sent `list` LISTs in its busiest minute and `lease` lease
/// requests, over a 20-minute run.
fn requests(replica: &str, list: u64, lease: u64) -> ReplicaRequests {
    let figures = |busiest_minute: u64| ClassRequests {
        total: busiest_minute * 3,
        per_second: (busiest_minute * 3) as f64 / 1200.0,
        busiest_minute,
    };
    ReplicaRequests {
        replica: replica.to_string(),
        list: figures(list),
        watch: figures(2),
        lease: figures(lease),
        other: figures(1),
    }
}

fn bounded(bounds: ApiRequestBounds) -> Expect {
    Expect {
        alerts: Vec::new(),
        api_requests: Some(bounds),
        ..expect(ExpectedVerdict::Stall, None, None)
    }
}

#[test]
fn request_bounds_hold_up_to_and_including_the_bound() {
    let mut report = report(stall("grm-1"), None);
    report.api_by_replica = vec![requests("grm-0", 9, 30), requests("grm-1", 10, 60)];
    let bounds = ApiRequestBounds {
        list_per_minute_max: Some(10),
        watch_per_minute_max: Some(2),
        lease_per_minute_max: Some(60),
    };
    check(&bounded(bounds), &report, &[]);
}

#[test]
fn a_request_bound_broken_names_replica_class_busiest_minute_and_bound() {
    let mut report = report(stall("grm-1"), None);
    report.api_by_replica = vec![requests("grm-0", 9, 30), requests("grm-1", 61, 62)];
    let bounds = ApiRequestBounds {
        list_per_minute_max: Some(10),
        watch_per_minute_max: None,
        lease_per_minute_max: Some(60),
    };
    check(
        &bounded(bounds),
        &report,
        &[
            "grm-1 sent 61 LIST requests in its busiest minute, above the bound of 10 \
             (spec.expect.apiRequests.listPerMinuteMax); 183 in all, 0.15/s",
            "grm-1 sent 62 lease requests in its busiest minute, above the bound of 60 \
             (spec.expect.apiRequests.leasePerMinuteMax)",
        ],
    );
}

#[test]
fn an_unexpected_stall_names_the_stalled_replicas_lists() {
    let mut report = report(stall("grm-1"), None);
    report.api_by_replica = vec![requests("grm-0", 9, 30), requests("grm-1", 14, 60)];
    check(
        &expect(ExpectedVerdict::Converges, None, None),
        &report,
        &["last LIST error: 404 NotFound; it sent 42 LISTs, at most 14 in any minute; lease held by grm-1"],
    );
}

fn alert(name: &str, firing_at: Option<u64>) -> AlertReport {
    AlertReport {
        alert: name.to_string(),
        pending_at: firing_at.map(|s| Duration::from_secs(s.saturating_sub(60))),
        firing_at: firing_at.map(Duration::from_secs),
        labels: Default::default(),
        error: None,
    }
}

#[test]
fn alert_bounds_hold_and_fail_against_the_stall_start() {
    let mut report = report(stall("grm-1"), None);
    let Verdict::Stall(s) = &report.verdict else {
        unreachable!()
    };
    let start = s.not_ready_since.as_secs();
    report.alerts = vec![alert("Caught", Some(start + 300)), alert("Missed", None)];
    let mut expect = expect(ExpectedVerdict::Stall, None, None);
    expect.alerts = vec![
        AlertExpectation::Fires {
            name: "Caught".to_string(),
            within: Duration::from_secs(600),
        },
        AlertExpectation::Silent {
            name: "Missed".to_string(),
        },
    ];
    assert_eq!(expect.check(&report), Vec::<String>::new());
    expect.alerts[0] = AlertExpectation::Fires {
        name: "Caught".to_string(),
        within: Duration::from_secs(299),
    };
    expect.alerts.push(AlertExpectation::Silent {
        name: "Caught".to_string(),
    });
    expect.alerts.push(AlertExpectation::Fires {
        name: "Missed".to_string(),
        within: Duration::from_secs(600),
    });
    let differences = expect.check(&report);
    assert_eq!(differences.len(), 3, "{differences:?}");
    assert!(differences[0].contains("fired at"), "{}", differences[0]);
    assert!(
        differences[1].contains("never to fire"),
        "{}",
        differences[1]
    );
    assert!(differences[2].contains("never fired"), "{}", differences[2]);
}
