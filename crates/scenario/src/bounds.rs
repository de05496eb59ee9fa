//! The range every number of a scenario file is checked against, each
//! derived from the model or from the upstream limit it models, in one
//! table that the checks, the JSON Schema and docs/scenario-format.md share.
//!
//! Fields that multiply the work of a run (periods, retry waits, counts of
//! replicas and kinds) are bounded so that no accepted file costs more than
//! [`COST_MULTIPLE_MAX`] times the incident's run per simulated hour, in API
//! requests and in segments on the simulated wire (a test builds the most
//! expensive world the bounds accept and counts). Every other duration is
//! at most [`DURATION_MAX`]: a delay longer than the longest run never
//! falls due, and this keeps every sum of times far inside what a
//! `Duration` and tokio's timer can hold.

use std::time::Duration;

use stallsim_harness::TICK_MIN;

use crate::duration;

/// The most an accepted file may cost per simulated hour, as a multiple of
/// the incident's run (`scenarios/grm-deletion-stall.yaml`), in API
/// requests and in segments put on the simulated wire.
pub const COST_MULTIPLE_MAX: u64 = 200;

/// The longest simulated run a file may ask for, and the longest duration
/// of any field without a tighter bound.
pub(crate) const DURATION_MAX: Duration = Duration::from_secs(24 * 3600);

/// The finest timer of a host: tokio's timer wheel fires at whole
/// milliseconds, so a shorter positive duration acts as 1ms.
pub(crate) const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// An inclusive range of durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DurationRange {
    pub least: Duration,
    pub greatest: Duration,
}

/// An inclusive range of whole numbers, or of the items of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CountRange {
    pub least: u64,
    pub greatest: u64,
}

/// An inclusive range of real numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NumberRange {
    pub least: f64,
    pub greatest: f64,
}

const fn durations(least: Duration, greatest: Duration) -> DurationRange {
    DurationRange { least, greatest }
}

const fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Between two scrapes, or two rule evaluations, of the simulated
/// Prometheus: at least 5s (a 24h run then keeps 17,280 scrapes of each
/// target, each a few dozen samples, in memory), at most 1h.
pub(crate) const PROMETHEUS_INTERVAL: DurationRange = durations(secs(5), secs(3600));

/// Alerting rules of one file: each is evaluated over every scrape after
/// the run, so a few dozen cost little.
pub(crate) const ALERT_RULES: CountRange = CountRange {
    least: 1,
    greatest: 64,
};

/// A delay or lag that may be zero.
pub(crate) const DELAY: DurationRange = durations(Duration::ZERO, DURATION_MAX);
/// A timeout or deadline: above zero, at the timer's resolution.
pub(crate) const TIMEOUT: DurationRange = durations(TIMER_RESOLUTION, DURATION_MAX);
/// A time the file schedules (`startAt`, `probePhase`, `deleteAt`, a
/// fault's `at`); it must also fall before `spec.duration`.
pub(crate) const SCHEDULED: DurationRange = durations(Duration::ZERO, DURATION_MAX);
/// A partition's length: above zero.
pub(crate) const PARTITION: DurationRange = TIMEOUT;

/// The run: above zero, at most a day (about two minutes of wall time for
/// the most expensive world the other bounds accept).
pub(crate) const RUN: DurationRange = durations(TIMER_RESOLUTION, DURATION_MAX);

/// One-way latency of a link. Beyond 10s no exchange completes within the
/// lease's renew deadline (10s) or a probe's timeout: a cut link, which a
/// `partition` fault models at no cost.
pub(crate) const LATENCY: DurationRange = durations(Duration::ZERO, secs(10));

/// BOOKMARK events go on every open watch each interval: 1s is a sixtieth
/// of kube-apiserver's (`defaultBookmarkFrequency`, 1m), within the cost
/// bound with every informer of the largest world watching.
pub(crate) const BOOKMARK_INTERVAL: DurationRange = durations(secs(1), DURATION_MAX);

/// Events the watch history keeps: at least one change, and at most
/// 100,000 (each holds an object, a few KB as the server keeps it, so a
/// full history stays within a few hundred MB).
pub(crate) const HISTORY_EVENTS: CountRange = CountRange {
    least: 1,
    greatest: 100_000,
};

/// Frames one watcher may have queued: at least one; tokio's semaphore
/// refuses more than `usize::MAX >> 3` permits (a panic), and a queue of
/// 100,000 frames of a few KB each is already hundreds of MB.
pub(crate) const WATCH_CHANNEL_CAPACITY: CountRange = CountRange {
    least: 1,
    greatest: 100_000,
};

/// Kubernetes' limit on a cluster is far above this; 64 CRDs already make
/// discovery documents larger than the incident's tenfold.
pub(crate) const CRDS: CountRange = CountRange {
    least: 0,
    greatest: 64,
};

/// The deployment's pods: each adds an elector, two probes and a process to
/// every simulated second; 16 keep the largest world within the cost bound.
pub(crate) const REPLICAS: CountRange = CountRange {
    least: 1,
    greatest: 16,
};

/// The leader election's retry: every replica asks for the lease once a
/// period (the leader renews with two requests). A quarter of client-go's
/// and controller-runtime's 2s, within the cost bound with 16 replicas.
pub(crate) const RETRY_PERIOD: DurationRange = durations(millis(500), DURATION_MAX);

/// The reflector's first wait after a failed LIST, and its cap: a failing
/// informer LISTs at most once per `initial`, and records it. client-go's
/// first wait (800ms), which kube-runtime's watcher shares: no informer the
/// model stands for retries sooner, and every kind of the largest world
/// failing at once stays within the cost bound.
pub(crate) const BACKOFF_WAIT: DurationRange = durations(millis(800), DURATION_MAX);

/// The backoff's growth per retry: at least 1 (a wait never shrinks), at
/// most 10 (client-go uses 2; a wait times the factor must stay inside a
/// `Duration`, or the reflector panics).
pub(crate) const BACKOFF_FACTOR: NumberRange = NumberRange {
    least: 1.0,
    greatest: 10.0,
};

/// The backoff's jitter: a wait is stretched by up to this many times
/// itself. At least 0, at most 10 (client-go uses 1.0; at 1e308 the
/// stretched wait overflows a `Duration` and the reflector panics).
pub(crate) const BACKOFF_JITTER: NumberRange = NumberRange {
    least: 0.0,
    greatest: 10.0,
};

/// A watch's timeout: the reflector asks for `timeoutSeconds`, whole
/// seconds on the wire, at least 1.
pub(crate) const WATCH_TIMEOUT_MIN: DurationRange = durations(secs(1), DURATION_MAX);

/// A controller's requeue (and reconcile timeout): each reconcile records
/// two events. 1s, against controller-runtime's 10h default and the
/// resource manager's 1h, keeps a requeue loop within the cost bound.
pub(crate) const SYNC_PERIOD: DurationRange = durations(secs(1), DURATION_MAX);

/// Kinds a leader-only controller reads or watches beyond the built-in
/// ones: each is an informer that LISTs and WATCHes, and retries when it
/// fails; 16 (twice the garbage collector's built-in kinds) keep the
/// largest world within the cost bound.
pub(crate) const EXTRA_KINDS: CountRange = CountRange {
    least: 0,
    greatest: 16,
};
/// The watching controller's watch sources: at least one, as many as the
/// garbage collector's extra kinds.
pub(crate) const WATCHED_KINDS: CountRange = CountRange {
    least: 1,
    greatest: 16,
};

/// Components of one run (`spec.components`): each is a deployment whose
/// replicas count against [`REPLICAS`] together, so four keep the world
/// within the cost bound as one deployment of sixteen does.
pub(crate) const COMPONENTS: CountRange = CountRange {
    least: 1,
    greatest: 4,
};

/// Informers a world's components run at once: a component that elects a
/// leader runs its kinds' informers in the leader only, one without
/// election in every replica. 32, as many kinds as the resource manager's
/// leader runs at the bounds' extremes (16 extra kinds of its garbage
/// collector, 16 of its watching controller). Counted over the world, not
/// per component: sixteen replicas without election at
/// [`COMPONENT_KINDS`]' greatest (24 watched, 24 read each) sent 666 times
/// the incident's requests per simulated hour, and 48 informers in all
/// wrote 232 times its trace events (tests/cost_bound.rs).
pub(crate) const COMPONENT_INFORMERS_MAX: u64 = 32;

/// The kinds a component watches, and those it reads: as many as the
/// resource manager's garbage collector reads at most (its eight built-in
/// kinds and [`EXTRA_KINDS`]).
pub(crate) const COMPONENT_KINDS: CountRange = CountRange {
    least: 0,
    greatest: 24,
};

/// A probe's period and timeout: Kubernetes' API takes `periodSeconds` and
/// `timeoutSeconds` of at least 1 (k8s.io/api core/v1 `Probe`).
pub(crate) const PROBE_PERIOD: DurationRange = durations(secs(1), DURATION_MAX);
pub(crate) const PROBE_TIMEOUT: DurationRange = durations(secs(1), DURATION_MAX);

/// An `httpGet` probe's port: a TCP port, 1 to 65535 (k8s.io/api core/v1
/// `HTTPGetAction`, validated as a port number).
pub(crate) const PORT: CountRange = CountRange {
    least: 1,
    greatest: 65_535,
};

/// A probe's failure threshold: at least 1 (k8s.io/api core/v1 `Probe`);
/// more failures than a day has periods of the shortest probe are never
/// reached.
pub(crate) const FAILURE_THRESHOLD: CountRange = CountRange {
    least: 1,
    greatest: 86_400,
};

/// CrashLoopBackOff's first delay and cap: the kubelet's 10s and 5m
/// (`containerBackOffPeriod` and `MaxContainerBackOff` in kubernetes
/// pkg/kubelet/kubelet.go), which it never exceeds. KEP-4603's alpha
/// `maxContainerRestartPeriod` lowers the cap to 1s; below 10s, 16
/// crash-looping replicas restart (and discover, and relist) more than once
/// a second, past the cost bound.
pub(crate) const CRASH_LOOP_WAIT: DurationRange = durations(secs(10), secs(300));

/// A reset of CrashLoopBackOff after the container ran this long (the
/// kubelet's is twice the cap, 10m). A container that runs this long before
/// it exits restarts at once, so the reset is no shorter than the first
/// delay: every restart cycle of a replica lasts 10s at least.
pub(crate) const CRASH_LOOP_RESET: DurationRange = durations(secs(10), DURATION_MAX);

/// The deletion flow's poll of the deployment while it waits: one request
/// each; Gardener polls every 5s, and 1s keeps the flow within the cost bound.
pub(crate) const POLL_INTERVAL: DurationRange = durations(secs(1), DURATION_MAX);

/// The deletion flow's wait for the deployment and its retry after a
/// timed-out wait: each wait polls at least once and lists the pods again
/// when it times out, so both are at least the shortest poll interval
/// (Gardener waits 5m and retries on the flow's next reconcile).
pub(crate) const FLOW_WAIT: DurationRange = durations(secs(1), DURATION_MAX);

/// A pod's toleration of an unreachable node, in whole seconds as a pod
/// spec writes it: 0 evicts at once; a day outlasts any run.
pub(crate) const TOLERATION_SECONDS: CountRange = CountRange {
    least: 0,
    greatest: 86_400,
};

/// Scheduled faults: each restarts or cuts off a replica.
pub(crate) const FAULTS: CountRange = CountRange {
    least: 0,
    greatest: 256,
};

/// A bound on a replica's requests in a minute: more than any accepted
/// world can send (the cost bound keeps a whole world near 10,000).
pub(crate) const REQUESTS_PER_MINUTE: CountRange = CountRange {
    least: 0,
    greatest: 1_000_000,
};

/// A seed: every value is one.
pub(crate) const SEED: CountRange = CountRange {
    least: 0,
    greatest: u64::MAX,
};

/// What a field's range is, for the schema and the documentation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Range {
    Duration(DurationRange),
    /// A scheduled time, or a range of times: also before `spec.duration`.
    Scheduled(DurationRange),
    Count(CountRange),
    Number(NumberRange),
    /// The length of a list.
    Items(CountRange),
    /// The tick: at least [`TICK_MIN`], at most an eighth of the shortest
    /// probe timeout, and at most `STEPS_MAX` steps in the run.
    Tick,
}

/// Every number of the format, and every list that multiplies work, with
/// its range. `[]` stands for any item of a list.
pub(crate) const FIELDS: &[(&str, Range)] = &[
    ("spec.seed", Range::Count(SEED)),
    ("spec.duration", Range::Duration(RUN)),
    ("spec.tick", Range::Tick),
    ("spec.network.latencyMin", Range::Duration(LATENCY)),
    ("spec.network.latencyMax", Range::Duration(LATENCY)),
    ("spec.network.requestTimeout", Range::Duration(TIMEOUT)),
    (
        "spec.apiServer.historyEventsMax",
        Range::Count(HISTORY_EVENTS),
    ),
    ("spec.apiServer.discoveryLag", Range::Duration(DELAY)),
    (
        "spec.apiServer.watchChannelCapacity",
        Range::Count(WATCH_CHANNEL_CAPACITY),
    ),
    (
        "spec.apiServer.bookmarkInterval",
        Range::Duration(BOOKMARK_INTERVAL),
    ),
    ("spec.apiServer.crdFinalizerDelay", Range::Duration(DELAY)),
    (
        "spec.apiServer.instanceDeletionCost",
        Range::Duration(DELAY),
    ),
    ("spec.apiServer.servingRemovalLag", Range::Duration(DELAY)),
    ("spec.apiServer.watchTeardownDelay", Range::Duration(DELAY)),
    ("spec.crds", Range::Items(CRDS)),
    ("spec.replicas", Range::Items(REPLICAS)),
    ("spec.replicas[].startAt", Range::Scheduled(SCHEDULED)),
    ("spec.replicas[].probePhase", Range::Scheduled(SCHEDULED)),
    (
        "spec.manager.leaderElection.leaseDuration",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.manager.leaderElection.renewDeadline",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.manager.leaderElection.retryPeriod",
        Range::Duration(RETRY_PERIOD),
    ),
    (
        "spec.manager.reflector.backoff.initial",
        Range::Duration(BACKOFF_WAIT),
    ),
    (
        "spec.manager.reflector.backoff.factor",
        Range::Number(BACKOFF_FACTOR),
    ),
    (
        "spec.manager.reflector.backoff.cap",
        Range::Duration(BACKOFF_WAIT),
    ),
    (
        "spec.manager.reflector.backoff.jitter",
        Range::Number(BACKOFF_JITTER),
    ),
    (
        "spec.manager.reflector.backoff.resetAfter",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.manager.reflector.watchTimeoutMin",
        Range::Duration(WATCH_TIMEOUT_MIN),
    ),
    ("spec.manager.cacheSyncTimeout", Range::Duration(TIMEOUT)),
    (
        "spec.manager.gracefulShutdownTimeout",
        Range::Duration(DELAY),
    ),
    (
        "spec.manager.garbageCollector.syncPeriod",
        Range::Duration(SYNC_PERIOD),
    ),
    (
        "spec.manager.garbageCollector.extraKinds",
        Range::Items(EXTRA_KINDS),
    ),
    (
        "spec.manager.watchingController.kinds",
        Range::Items(WATCHED_KINDS),
    ),
    ("spec.components", Range::Items(COMPONENTS)),
    ("spec.components[].replicas", Range::Items(REPLICAS)),
    (
        "spec.components[].replicas[].startAt",
        Range::Scheduled(SCHEDULED),
    ),
    (
        "spec.components[].replicas[].probePhase",
        Range::Scheduled(SCHEDULED),
    ),
    (
        "spec.components[].leaderElection.leaseDuration",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.components[].leaderElection.renewDeadline",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.components[].leaderElection.retryPeriod",
        Range::Duration(RETRY_PERIOD),
    ),
    (
        "spec.components[].gracefulShutdownTimeout",
        Range::Duration(DELAY),
    ),
    ("spec.components[].watches", Range::Items(COMPONENT_KINDS)),
    (
        "spec.components[].watches[].cacheSyncTimeout",
        Range::Duration(TIMEOUT),
    ),
    ("spec.components[].reads", Range::Items(COMPONENT_KINDS)),
    ("spec.components[].syncPeriod", Range::Duration(SYNC_PERIOD)),
    (
        "spec.components[].probes.liveness.initialDelay",
        Range::Duration(DELAY),
    ),
    (
        "spec.components[].probes.liveness.period",
        Range::Duration(PROBE_PERIOD),
    ),
    (
        "spec.components[].probes.liveness.timeout",
        Range::Duration(PROBE_TIMEOUT),
    ),
    (
        "spec.components[].probes.liveness.failureThreshold",
        Range::Count(FAILURE_THRESHOLD),
    ),
    (
        "spec.components[].probes.readiness.initialDelay",
        Range::Duration(DELAY),
    ),
    (
        "spec.components[].probes.readiness.period",
        Range::Duration(PROBE_PERIOD),
    ),
    (
        "spec.components[].probes.readiness.timeout",
        Range::Duration(PROBE_TIMEOUT),
    ),
    (
        "spec.components[].probes.readiness.failureThreshold",
        Range::Count(FAILURE_THRESHOLD),
    ),
    (
        "spec.components[].probes.liveness.httpGet.port",
        Range::Count(PORT),
    ),
    (
        "spec.components[].probes.readiness.httpGet.port",
        Range::Count(PORT),
    ),
    (
        "spec.mitigations.livenessCacheSyncDeadline",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.mitigations.lazyInformerSyncTimeout",
        Range::Duration(TIMEOUT),
    ),
    ("spec.kubelet.liveness.initialDelay", Range::Duration(DELAY)),
    (
        "spec.kubelet.liveness.period",
        Range::Duration(PROBE_PERIOD),
    ),
    (
        "spec.kubelet.liveness.timeout",
        Range::Duration(PROBE_TIMEOUT),
    ),
    (
        "spec.kubelet.liveness.failureThreshold",
        Range::Count(FAILURE_THRESHOLD),
    ),
    (
        "spec.kubelet.readiness.initialDelay",
        Range::Duration(DELAY),
    ),
    (
        "spec.kubelet.readiness.period",
        Range::Duration(PROBE_PERIOD),
    ),
    (
        "spec.kubelet.readiness.timeout",
        Range::Duration(PROBE_TIMEOUT),
    ),
    (
        "spec.kubelet.readiness.failureThreshold",
        Range::Count(FAILURE_THRESHOLD),
    ),
    (
        "spec.kubelet.crashLoopBackOff.initial",
        Range::Duration(CRASH_LOOP_WAIT),
    ),
    (
        "spec.kubelet.crashLoopBackOff.cap",
        Range::Duration(CRASH_LOOP_WAIT),
    ),
    (
        "spec.kubelet.crashLoopBackOff.resetAfter",
        Range::Duration(CRASH_LOOP_RESET),
    ),
    (
        "spec.kubelet.terminationGracePeriod",
        Range::Duration(DELAY),
    ),
    ("spec.kubelet.plegRelistPeriod", Range::Duration(TIMEOUT)),
    ("spec.kubelet.containerStart", Range::Duration(DELAY)),
    ("spec.kubelet.processStart", Range::Duration(DELAY)),
    (
        "spec.nodeLifecycle.nodeMonitorGracePeriod",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.nodeLifecycle.nodeMonitorPeriod",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.nodeLifecycle.nodeLeaseRenewInterval",
        Range::Duration(TIMEOUT),
    ),
    (
        "spec.nodeLifecycle.tolerationSeconds",
        Range::Count(TOLERATION_SECONDS),
    ),
    ("spec.nodeLifecycle.schedulingDelay", Range::Duration(DELAY)),
    ("spec.deletionFlow.deleteAt", Range::Scheduled(SCHEDULED)),
    ("spec.deletionFlow.waitTimeout", Range::Duration(FLOW_WAIT)),
    (
        "spec.deletionFlow.pollInterval",
        Range::Duration(POLL_INTERVAL),
    ),
    ("spec.deletionFlow.retryAfter", Range::Duration(FLOW_WAIT)),
    ("spec.faults", Range::Items(FAULTS)),
    ("spec.faults[].at", Range::Scheduled(SCHEDULED)),
    ("spec.faults[].for", Range::Duration(PARTITION)),
    ("spec.faults[].down", Range::Duration(DELAY)),
    ("spec.check.stallBound", Range::Duration(TIMEOUT)),
    (
        "spec.prometheus.scrapeInterval",
        Range::Duration(PROMETHEUS_INTERVAL),
    ),
    (
        "spec.prometheus.evaluationInterval",
        Range::Duration(PROMETHEUS_INTERVAL),
    ),
    ("spec.prometheus.rules", Range::Items(ALERT_RULES)),
    ("spec.prometheus.rules[].for", Range::Duration(DELAY)),
    (
        "spec.expect.apiRequests.listPerMinuteMax",
        Range::Count(REQUESTS_PER_MINUTE),
    ),
    (
        "spec.expect.apiRequests.watchPerMinuteMax",
        Range::Count(REQUESTS_PER_MINUTE),
    ),
    (
        "spec.expect.apiRequests.leasePerMinuteMax",
        Range::Count(REQUESTS_PER_MINUTE),
    ),
    ("spec.expect.alerts[].fires.within", Range::Duration(DELAY)),
];

/// The range of `field` as errors name it (`spec.replicas[1].startAt`),
/// if the table has one.
pub(crate) fn range_of(field: &str) -> Option<Range> {
    let mut general = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                general.push('[');
            }
            ']' => {
                in_index = false;
                general.push(']');
            }
            _ if in_index => {}
            c => general.push(c),
        }
    }
    FIELDS
        .iter()
        .find(|(path, _)| *path == general)
        .map(|(_, range)| *range)
}

impl DurationRange {
    pub(crate) fn contains(&self, value: Duration) -> bool {
        (self.least..=self.greatest).contains(&value)
    }

    /// `a duration from 1s to 24h`
    pub(crate) fn accepted(&self) -> String {
        format!(
            "a duration from {} to {}",
            duration::format(self.least),
            duration::format(self.greatest)
        )
    }
}

impl CountRange {
    pub(crate) fn contains(&self, value: u64) -> bool {
        (self.least..=self.greatest).contains(&value)
    }

    /// `a whole number from 1 to 100000`
    pub(crate) fn accepted(&self) -> String {
        format!("a whole number from {} to {}", self.least, self.greatest)
    }
}

impl NumberRange {
    pub(crate) fn contains(&self, value: f64) -> bool {
        (self.least..=self.greatest).contains(&value)
    }

    /// `a number from 1 to 10`
    pub(crate) fn accepted(&self) -> String {
        format!("a number from {} to {}", self.least, self.greatest)
    }
}

impl Range {
    /// The range in words, as docs/scenario-format.md and the schema state
    /// it: `1s to 24h`, `1 to 16 items`.
    pub(crate) fn text(&self) -> String {
        match self {
            Range::Duration(r) => format!(
                "{} to {}",
                duration::format(r.least),
                duration::format(r.greatest)
            ),
            Range::Scheduled(r) => format!(
                "{} to {}, before spec.duration",
                duration::format(r.least),
                duration::format(r.greatest)
            ),
            Range::Count(r) => format!("{} to {}", r.least, r.greatest),
            Range::Number(r) => format!("{} to {}", r.least, r.greatest),
            Range::Items(r) => format!("{} to {} items", r.least, r.greatest),
            Range::Tick => format!(
                "{} to an eighth of the shortest probe timeout, at most 20000000 steps",
                duration::format(TICK_MIN)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A file that sets `path` (with `[]` for the first item of a list) to
    /// `value`, and nothing else that could be refused first.
    fn file_setting(path: &str, value: &str) -> String {
        let inner = match path {
            "spec.faults[].for" => format!("faults: [{{at: 1s, partition: grm-0, for: {value}}}]"),
            "spec.faults[].down" => format!("faults: [{{at: 1s, kill: grm-0, down: {value}}}]"),
            "spec.prometheus.rules[].for" => {
                format!("prometheus: {{rules: [{{alert: A, expr: up == 0, for: {value}}}]}}")
            }
            "spec.expect.alerts[].fires.within" => format!(
                "prometheus: {{rules: [{{alert: A, expr: up == 0}}]}}\n  expect: {{verdict: stall, alerts: [{{fires: {{name: A, within: {value}}}}}]}}"
            ),
            _ if path.ends_with(".httpGet.port") => {
                let probe = path.split('.').nth(3).expect("spec.components[].probes.<probe>");
                format!(
                    "components: [{{name: c, replicas: [{{name: c-0}}], program: p, \
                     probes: {{{probe}: {{httpGet: {{path: /readyz, port: {value}}}}}}}}}]"
                )
            }
            _ if path.starts_with("spec.components[].") => {
                let rest = path.trim_start_matches("spec.components[].");
                let segments: Vec<&str> = rest.split('.').collect();
                let (last, parents) = segments.split_last().expect("a field of a component");
                let mut text = format!("{last}: {value}");
                for parent in parents.iter().rev() {
                    text = match parent.strip_suffix("[]") {
                        Some("watches") => format!("watches: [{{kind: v1/Secret, {text}}}]"),
                        Some(list) => format!("{list}: [{{{text}}}]"),
                        None => format!("{parent}: {{{text}}}"),
                    };
                }
                format!("components: [{{name: c, replicas: [{{name: c-0}}], {text}}}]")
            }
            _ => {
                let segments: Vec<&str> = path.split('.').skip(1).collect();
                let (last, parents) = segments.split_last().expect("a field under spec");
                let mut text = format!("{last}: {value}");
                for parent in parents.iter().rev() {
                    let extra = match *parent {
                        "expect" => "verdict: stall, ",
                        "deletionFlow" => "deleteAt: 1m, ",
                        _ => "",
                    };
                    text = format!("{parent}: {{{extra}{text}}}");
                }
                text
            }
        };
        format!("apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {{name: t}}\nspec:\n  {inner}\n")
    }

    fn refused(path: &str, value: String, accepted: &str) -> Option<String> {
        let text = file_setting(path, &value);
        match crate::parse(Path::new("s.yaml"), &text) {
            Ok(_) => Some(format!("{path} = {value} accepted:\n{text}")),
            Err(e)
                if e.field.as_deref() == Some(path.replace("[]", "[0]").as_str())
                    && e.message.contains(accepted) =>
            {
                None
            }
            Err(e) => Some(format!(
                "{path} = {value}: {e}, expected it to say `{accepted}`"
            )),
        }
    }

    #[test]
    fn every_bound_refuses_what_lies_just_outside_it_naming_field_and_range() {
        let nanosecond = Duration::from_nanos(1);
        let mut wrong = Vec::new();
        let mut checked = 0;
        for (path, range) in FIELDS {
            let mut outside: Vec<(String, String)> = Vec::new();
            match range {
                Range::Duration(r) => {
                    if !r.least.is_zero() {
                        outside.push((duration::format(r.least - nanosecond), r.accepted()));
                    }
                    outside.push((duration::format(r.greatest + nanosecond), r.accepted()));
                }
                Range::Count(r) => {
                    if r.least > 0 {
                        outside.push(((r.least - 1).to_string(), r.accepted()));
                    }
                    if r.greatest < u64::MAX {
                        outside.push(((r.greatest + 1).to_string(), r.accepted()));
                    }
                }
                Range::Number(r) => {
                    outside.push(((r.least - 0.5).to_string(), r.accepted()));
                    outside.push(((r.greatest + 1.0).to_string(), r.accepted()));
                }
                // Times before the run's end, list lengths and the tick
                // have tests of their own (tests/errors.rs).
                _ => {}
            }
            for (value, accepted) in outside {
                checked += 1;
                wrong.extend(refused(path, value, &accepted));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert!(checked > 60, "{checked}");
    }

    #[test]
    fn the_format_documentation_lists_every_range_as_checked() {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scenario-format.md");
        let doc = std::fs::read_to_string(doc).expect("docs/scenario-format.md exists");
        let documented: Vec<(String, String)> = doc
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let field = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((field.to_string(), cells.get(2)?.to_string()))
            })
            .collect();
        let checked: Vec<(String, String)> = FIELDS
            .iter()
            .map(|(path, range)| (path.to_string(), range.text()))
            .collect();
        assert_eq!(documented, checked);
        assert!(
            doc.contains(&format!("{COST_MULTIPLE_MAX} times the incident's run")),
            "the documentation states the cost multiple"
        );
    }

    #[test]
    fn the_table_names_each_field_once() {
        let mut paths: Vec<&str> = FIELDS.iter().map(|(p, _)| *p).collect();
        paths.sort_unstable();
        let all = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), all);
    }

    #[test]
    fn a_field_is_found_by_its_path_with_any_index() {
        assert_eq!(
            range_of("spec.faults[12].for"),
            Some(Range::Duration(PARTITION))
        );
        assert_eq!(
            range_of("spec.kubelet.liveness.period"),
            Some(Range::Duration(PROBE_PERIOD))
        );
        assert_eq!(range_of("spec.kubelet.liveness"), None);
    }
}
