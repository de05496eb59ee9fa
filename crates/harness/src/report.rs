//! The outcome of one run, as the checkers found it.

use std::time::Duration;

use serde::Serialize;
use stallsim_apiserver::RequestLoad;

use crate::requests::ReplicaRequests;

/// What a run came to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    #[serde(flatten)]
    /// What the run came to.
    pub verdict: Verdict,
    /// The deletion flow's wait for the deployment, if the world had a flow.
    pub flow: Option<FlowOutcome>,
    /// Container restarts per replica, in replica order.
    pub restarts: Vec<(String, u32)>,
    /// Simulated time the run covered.
    pub simulated: Duration,
    /// The model broke (a task panicked, a host froze) and the run stopped
    /// there: what happened, where and when. The verdict is then
    /// inconclusive, with this as its one reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_error: Option<String>,
    /// The requests the API server answered (all clients), and the most in
    /// any minute: what the world cost the server, read from it as its own
    /// request metrics would tell.
    pub api_requests: RequestLoad,
    /// What each replica sent the API server, by class (LIST, WATCH, lease,
    /// other), in replica order: as the server counted the requests of the
    /// replica's host.
    pub api_by_replica: Vec<ReplicaRequests>,
    /// What each component's pods sent the API server, summed (the
    /// resource manager's too), in component order.
    pub api_by_component: Vec<crate::ComponentRequests>,
    /// Each alerting rule of the scenario's Prometheus: when it went
    /// pending and firing (empty without `spec.prometheus`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<crate::AlertReport>,
}

impl Report {
    /// Container restarts of `replica` (0 for a name not in the world).
    pub fn restarts_of(&self, replica: &str) -> u32 {
        self.restarts
            .iter()
            .find(|(name, _)| name == replica)
            .map_or(0, |(_, n)| *n)
    }

    /// What `replica` sent the API server, if it is one of the world's.
    pub fn requests_of(&self, replica: &str) -> Option<&ReplicaRequests> {
        self.api_by_replica.iter().find(|r| r.replica == replica)
    }
}

/// What the run shows about the property: every replica that is not ready
/// becomes ready, or is restarted, within the stall bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// Everything the world was told to do happened, early enough for the
    /// bound to run out afterwards, and every replica that was not ready
    /// became ready or was restarted within the bound.
    Converges,
    /// A replica stayed not ready, unrestarted, past the bound: a
    /// counterexample, whatever else the run did or did not get to.
    Stall(Stall),
    /// A replica kept restarting without being ready in between, past the
    /// bound (CrashLoopBackOff without an end): a counterexample too.
    #[serde(rename = "restart-loop")]
    RestartLoop(RestartLoop),
    /// The run cannot tell: it ended too early, or something it was told to
    /// do never happened. One sentence per reason.
    Inconclusive {
        /// One sentence per reason.
        reasons: Vec<String>,
    },
}

impl Verdict {
    /// Whether the run stalled.
    pub fn is_stall(&self) -> bool {
        matches!(self, Verdict::Stall(_))
    }

    /// Whether a replica kept restarting without getting ready.
    pub fn is_restart_loop(&self) -> bool {
        matches!(self, Verdict::RestartLoop(_))
    }

    /// The replica a counterexample names: the stalled or looping one.
    pub fn failing_replica(&self) -> Option<&str> {
        match self {
            Verdict::Stall(stall) => Some(&stall.replica),
            Verdict::RestartLoop(looping) => Some(&looping.replica),
            Verdict::Converges | Verdict::Inconclusive { .. } => None,
        }
    }

    /// When the failure began (the failing replica turned not ready) and
    /// what it is called in a sentence (`stall`, `restart loop`): the
    /// moment alerts are measured from.
    pub fn failure_start(&self) -> Option<(Duration, &'static str)> {
        match self {
            Verdict::Stall(stall) => Some((stall.not_ready_since, "stall")),
            Verdict::RestartLoop(looping) => Some((looping.not_ready_since, "restart loop")),
            Verdict::Converges | Verdict::Inconclusive { .. } => None,
        }
    }

    /// `converges`, `stall`, `restart-loop` or `inconclusive`, as in
    /// scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Converges => "converges",
            Verdict::Stall(_) => "stall",
            Verdict::RestartLoop(_) => "restart-loop",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }
}

/// A replica that stayed not ready, without a restart, past the bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stall {
    /// The replica that stalled.
    pub replica: String,
    /// When it last turned (or started) not ready.
    pub not_ready_since: Duration,
    /// When the bound ran out.
    pub detected_at: Duration,
    /// Informers of the replica that never synced, as `group/version, Kind=K`.
    pub unsynced_informers: Vec<String>,
    /// The last error the unsynced informers' LISTs got.
    pub last_list_error: Option<String>,
    /// Who held the lease when the bound ran out.
    pub lease_holder: Option<String>,
    /// For a program's pod (which emits no manager events): the detail of
    /// the last failed readiness probe before the bound ran out, its why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_probe: Option<String>,
}

/// A replica that kept restarting, never ready in between, past the bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RestartLoop {
    /// The replica (pod) that loops.
    pub replica: String,
    /// When it last turned (or started) not ready.
    pub not_ready_since: Duration,
    /// When the bound ran out with the loop's restarts behind it.
    pub detected_at: Duration,
    /// Its container's restarts from `not_ready_since` to `detected_at`.
    pub restarts: u32,
    /// Why its container last stopped: the process's exit (a controller
    /// that failed to start, and what it watched) or the kubelet's restart.
    pub cause: String,
    /// The kinds the controller that failed to start watched, as
    /// `group/version, Kind=K`; empty when no controller failed.
    pub watched_kinds: Vec<String>,
}

/// How the deletion flow's wait for the deployment went.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowOutcome {
    /// When the flow deleted the CRDs (`None`: it never did).
    pub deleted_at: Option<Duration>,
    /// The deployment was ready within the first wait's timeout.
    pub ready_within_timeout: bool,
    /// When the flow first saw the deployment ready.
    pub ready_at: Option<Duration>,
    /// Waits that timed out.
    pub failed_waits: u32,
}
