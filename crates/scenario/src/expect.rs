//! What a scenario file says its run must come to, and the comparison with a [`Report`].

use stallsim_harness::{Report, RequestClass, Verdict};

use crate::duration;

/// The verdict a scenario expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVerdict {
    /// Some replica stays not ready, unrestarted, past the stall bound.
    Stall,
    /// Every replica that turned not ready recovered or was restarted in time.
    Converges,
    /// Some replica keeps restarting without being ready, past the bound.
    RestartLoop,
}

impl ExpectedVerdict {
    /// `stall`, `converges` or `restart-loop`, as in scenario files and
    /// [`Verdict::name`].
    pub fn name(self) -> &'static str {
        match self {
            ExpectedVerdict::Stall => "stall",
            ExpectedVerdict::Converges => "converges",
            ExpectedVerdict::RestartLoop => "restart-loop",
        }
    }

    /// As a sentence says it: `a stall`, `convergence`, `a restart loop`.
    fn phrase(self) -> &'static str {
        match self {
            ExpectedVerdict::Stall => "a stall",
            ExpectedVerdict::Converges => "convergence",
            ExpectedVerdict::RestartLoop => "a restart loop",
        }
    }
}

/// A scenario's expectation of its run (`spec.expect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// `spec.expect.verdict`.
    pub verdict: ExpectedVerdict,
    /// Which replica must be the one that stalls (with
    /// [`ExpectedVerdict::Stall`]) or loops (with [`ExpectedVerdict::RestartLoop`]).
    pub stalled_replica: Option<String>,
    /// Whether the deletion flow's first wait must see the deployment ready
    /// in time (only for scenarios with a deletion flow).
    pub deployment_ready_within_flow_timeout: Option<bool>,
    /// The most requests of each class any replica may send the API server
    /// in any sliding minute (`spec.expect.apiRequests`).
    pub api_requests: Option<ApiRequestBounds>,
    /// Bounds on the alerts of the scenario's Prometheus (`spec.expect.alerts`).
    pub alerts: Vec<AlertExpectation>,
}

/// A bound on one alert of `spec.prometheus.rules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertExpectation {
    /// `fires: {name, within}`: it fires no later than `within` after the
    /// stall or restart loop began (the failing replica's `not_ready_since`).
    Fires {
        /// The alert.
        name: String,
        /// The latest it may fire, after the stall's or restart loop's start.
        within: std::time::Duration,
    },
    /// `silent: name`: it never fires.
    Silent {
        /// The alert.
        name: String,
    },
}

impl AlertExpectation {
    /// How the report differs from the bound, as a sentence.
    fn check(&self, report: &Report) -> Option<String> {
        let name = match self {
            AlertExpectation::Fires { name, .. } | AlertExpectation::Silent { name } => name,
        };
        let Some(alert) = report.alerts.iter().find(|a| &a.alert == name) else {
            return Some(format!(
                "expected the alert {name} to be evaluated, but the run has no such rule"
            ));
        };
        if let Some(error) = &alert.error {
            return Some(format!("the alert {name} could not be evaluated: {error}"));
        }
        match self {
            AlertExpectation::Silent { .. } => alert.firing_at.map(|at| {
                format!(
                    "expected the alert {name} never to fire, but it fired at {}",
                    duration::format(at)
                )
            }),
            AlertExpectation::Fires { within, .. } => {
                let Some((start, failure)) = report.verdict.failure_start() else {
                    return Some(format!(
                        "expected the alert {name} to fire within {} of the stall or restart loop, but nothing stalled or looped",
                        duration::format(*within)
                    ));
                };
                match alert.firing_at {
                    None => Some(format!(
                        "expected the alert {name} to fire within {} of the {failure} (which began at {}), but it never fired",
                        duration::format(*within),
                        duration::format(start)
                    )),
                    Some(at) if at.saturating_sub(start) > *within => Some(format!(
                        "expected the alert {name} to fire within {} of the {failure} (which began at {}), but it fired at {}, {} after it",
                        duration::format(*within),
                        duration::format(start),
                        duration::format(at),
                        duration::format(at - start)
                    )),
                    Some(_) => None,
                }
            }
        }
    }
}

/// Bounds on the requests each replica sends the API server, by class, in
/// any sliding [`RATE_WINDOW`](stallsim_harness::RATE_WINDOW) (`spec.expect.apiRequests`). A class without
/// a bound is not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiRequestBounds {
    /// The most LISTs a replica may send in any minute.
    pub list_per_minute_max: Option<u64>,
    /// The most WATCHes a replica may send in any minute.
    pub watch_per_minute_max: Option<u64>,
    /// The most lease requests a replica may send in any minute.
    pub lease_per_minute_max: Option<u64>,
}

impl ApiRequestBounds {
    /// Each bound given, with its class and its field in the file.
    pub fn bounds(&self) -> impl Iterator<Item = (RequestClass, &'static str, u64)> {
        [
            (
                RequestClass::List,
                "listPerMinuteMax",
                self.list_per_minute_max,
            ),
            (
                RequestClass::Watch,
                "watchPerMinuteMax",
                self.watch_per_minute_max,
            ),
            (
                RequestClass::Lease,
                "leasePerMinuteMax",
                self.lease_per_minute_max,
            ),
        ]
        .into_iter()
        .filter_map(|(class, field, max)| Some((class, field, max?)))
    }

    /// Whether no bound is given.
    pub fn is_empty(&self) -> bool {
        self.bounds().next().is_none()
    }

    /// Every replica's busiest minute above a bound, as sentences.
    fn check(&self, report: &Report) -> Vec<String> {
        let mut differences = Vec::new();
        for requests in &report.api_by_replica {
            for (class, field, max) in self.bounds() {
                let busiest = requests.class(class).busiest_minute;
                if busiest > max {
                    differences.push(format!(
                        "{} sent {busiest} {} requests in its busiest minute, above the bound of {max} \
                         (spec.expect.apiRequests.{field}); {} in all, {:.2}/s over the run",
                        requests.replica,
                        class.label(),
                        requests.class(class).total,
                        requests.class(class).per_second,
                    ));
                }
            }
        }
        differences
    }
}

impl Expect {
    /// The property a run is held to when nothing else is said: it
    /// converges (every replica that is not ready recovers or is restarted
    /// within the stall bound), with no other condition.
    pub fn converges() -> Expect {
        Expect {
            verdict: ExpectedVerdict::Converges,
            stalled_replica: None,
            deployment_ready_within_flow_timeout: None,
            api_requests: None,
            alerts: Vec::new(),
        }
    }

    /// Every way the report differs from the expectation, as sentences for
    /// people; empty when it holds.
    pub fn check(&self, report: &Report) -> Vec<String> {
        let mut differences = Vec::new();
        match (self.verdict, &report.verdict) {
            (expected, Verdict::Converges) if expected != ExpectedVerdict::Converges => {
                differences.push(format!(
                    "expected {}{}, but every replica converged within the {} run",
                    expected.phrase(),
                    self.stalled_replica
                        .as_ref()
                        .map(|r| format!(" of {r}"))
                        .unwrap_or_default(),
                    duration::format(report.simulated),
                ))
            }
            (expected, Verdict::Stall(stall)) if expected != ExpectedVerdict::Stall => {
                let mut sentence = format!(
                    "expected {}, but {} stalled: not ready since {}, still unrestarted at {}",
                    expected.phrase(),
                    stall.replica,
                    duration::format(stall.not_ready_since),
                    duration::format(stall.detected_at),
                );
                if !stall.unsynced_informers.is_empty() {
                    sentence.push_str(&format!(
                        "; unsynced informers: {}",
                        stall.unsynced_informers.join(", ")
                    ));
                }
                if let Some(error) = &stall.last_list_error {
                    sentence.push_str(&format!("; last LIST error: {error}"));
                }
                if let Some(list) = report.requests_of(&stall.replica).map(|r| &r.list) {
                    sentence.push_str(&format!(
                        "; it sent {} LISTs, at most {} in any minute",
                        list.total, list.busiest_minute
                    ));
                }
                if let Some(holder) = &stall.lease_holder {
                    sentence.push_str(&format!("; lease held by {holder}"));
                }
                differences.push(sentence);
            }
            (expected, Verdict::RestartLoop(looping))
                if expected != ExpectedVerdict::RestartLoop =>
            {
                differences.push(format!(
                    "expected {}, but {} kept restarting: not ready since {}, {} restart(s) by {}; {}",
                    expected.phrase(),
                    looping.replica,
                    duration::format(looping.not_ready_since),
                    looping.restarts,
                    duration::format(looping.detected_at),
                    looping.cause,
                ))
            }
            (_, Verdict::Stall(stall)) => {
                if let Some(expected) = &self.stalled_replica {
                    if *expected != stall.replica {
                        differences.push(format!(
                            "expected {expected} to stall, but {} stalled (not ready since {})",
                            stall.replica,
                            duration::format(stall.not_ready_since),
                        ));
                    }
                }
            }
            (_, Verdict::RestartLoop(looping)) => {
                if let Some(expected) = &self.stalled_replica {
                    if *expected != looping.replica {
                        differences.push(format!(
                            "expected {expected} to keep restarting, but {} did (not ready since {})",
                            looping.replica,
                            duration::format(looping.not_ready_since),
                        ));
                    }
                }
            }
            (_, Verdict::Converges) => {}
            (expected, Verdict::Inconclusive { reasons }) => differences.push(format!(
                "expected {}, but the run was inconclusive: {}",
                expected.phrase(),
                reasons.join("; ")
            )),
        }
        if let Some(expected) = self.deployment_ready_within_flow_timeout {
            let should = if expected { "be" } else { "not be" };
            match &report.flow {
                None => differences.push(format!(
                    "expected the deployment to {should} ready within the deletion flow's wait, \
                     but the run had no deletion flow"
                )),
                Some(flow) if flow.ready_within_timeout != expected => {
                    let what = match (flow.ready_within_timeout, flow.ready_at) {
                        (true, Some(at)) => format!("it was ready at {}", duration::format(at)),
                        (true, None) => "it was".to_string(),
                        (false, Some(at)) => format!(
                            "the wait timed out {} time(s) and the deployment was first ready at {}",
                            flow.failed_waits,
                            duration::format(at)
                        ),
                        (false, None) => format!(
                            "the wait timed out {} time(s) and the deployment was never ready",
                            flow.failed_waits
                        ),
                    };
                    differences.push(format!(
                        "expected the deployment to {should} ready within the deletion flow's wait, but {what}"
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(bounds) = &self.api_requests {
            differences.extend(bounds.check(report));
        }
        differences.extend(self.alerts.iter().filter_map(|a| a.check(report)));
        differences
    }
}
