//! `Expect::check` names every difference between a report and the expectation.

use std::time::Duration;

use stallsim_harness::{FlowOutcome, Report, Stall, Verdict};
use stallsim_scenario::{Expect, ExpectedVerdict};

fn stall(replica: &str) -> Verdict {
    Verdict::Stall(Stall {
        replica: replica.to_string(),
        not_ready_since: Duration::from_secs(90),
        detected_at: Duration::from_secs(390),
        unsynced_informers: vec!["monitoring.coreos.com/v1, Kind=Prometheus".to_string()],
        last_list_error: Some("404 NotFound".to_string()),
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
        api_requests: Default::default(),
    }
}

fn expect(verdict: ExpectedVerdict, stalled: Option<&str>, ready: Option<bool>) -> Expect {
    Expect {
        verdict,
        stalled_replica: stalled.map(str::to_string),
        deployment_ready_within_flow_timeout: ready,
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
