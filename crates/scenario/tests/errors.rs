//! Every class of error a scenario file can have, one table row each.

use std::path::Path;

use stallsim_scenario::{parse, ScenarioError};

/// The head every document below shares (4 lines); `spec:` is line 5.
const HEAD: &str = "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata:\n  name: t\nspec:\n";

fn error_of(input: &str) -> ScenarioError {
    match parse(Path::new("s.yaml"), input) {
        Ok(s) => panic!(
            "expected an error, got a scenario for:\n{input}\n{:?}",
            s.config().name
        ),
        Err(e) => e,
    }
}

/// Each input is refused with a message containing its expected text; all
/// mismatches are reported together.
fn check_all<I: AsRef<str>>(cases: impl IntoIterator<Item = (I, &'static str)>) {
    let mismatches: Vec<String> = cases
        .into_iter()
        .filter_map(|(input, expected)| {
            let input = input.as_ref();
            let error = match parse(Path::new("s.yaml"), input) {
                Ok(_) => return Some(format!("input accepted, expected `{expected}`:\n{input}")),
                Err(e) => e.to_string(),
            };
            (!error.contains(expected))
                .then(|| format!("error\n  {error}\nlacks\n  {expected}\nfor input:\n{input}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

/// Each `HEAD` plus spec body (lines from 6 on) is refused with its expected text.
fn check_specs(cases: impl IntoIterator<Item = (&'static str, &'static str)>) {
    check_all(
        cases
            .into_iter()
            .map(|(body, expected)| (format!("{HEAD}{body}"), expected)),
    );
}

#[test]
fn syntax_and_shape() {
    check_all([
        ("", "s.yaml: the file holds no scenario; expected a document starting with `apiVersion: stallsim/v1alpha1`"),
        ("# only a comment\n", "the file holds no scenario"),
        ("just words\n", "s.yaml:1:1: found `just words`; expected a mapping"),
        ("- a\n- b\n", "s.yaml:1:1: found a list; expected a mapping"),
        ("apiVersion: [unclosed\n", "s.yaml:1:13: "),
        ("a: 1\n---\nb: 2\n", "more than one YAML document; expected exactly one"),
        ("apiVersion: x\napiVersion: y\n", "s.yaml:2:1: field `apiVersion`: the key `apiVersion` appears twice; expected each key once"),
        ("key: *nowhere\n", "s.yaml:1:6: "),
        ("\t- nonsense: [\n", "s.yaml:"),
        ("{", "s.yaml:"),
        ("apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: []\n", "field `metadata`: found a list; expected a mapping"),
    ]);
}

#[test]
fn a_file_without_expect_runs_but_cannot_be_tested() {
    let scenario = parse(
        Path::new("s.yaml"),
        "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec: {seed: 3}\n",
    )
    .expect("`run` needs no expectation");
    assert_eq!(scenario.config().seed, 3);
    assert_eq!(
        scenario.expectation().unwrap_err().to_string(),
        "s.yaml:4:7: field `spec.expect`: missing; expected `expect: {verdict: ...}` with verdict `stall`, `converges` or `restart-loop`, which `stallsim test` checks"
    );
}

#[test]
fn header() {
    check_all([
        ("kind: Scenario\nmetadata: {name: t}\n", "s.yaml:1:1: field `apiVersion`: missing; expected `apiVersion: stallsim/v1alpha1`"),
        ("apiVersion: stallsim/v1\nkind: Scenario\n", "s.yaml:1:13: field `apiVersion`: `stallsim/v1` is not supported; expected `stallsim/v1alpha1`"),
        ("apiVersion: stallsim/v1alpha1\nmetadata: {name: t}\n", "field `kind`: missing; expected `kind: Scenario`"),
        ("apiVersion: stallsim/v1alpha1\nkind: Test\n", "s.yaml:2:7: field `kind`: `Test` is not supported; expected `Scenario`"),
        ("apiVersion: stallsim/v1alpha1\nkind: Scenario\nspec: {}\n", "field `metadata.name`: missing; expected a name"),
        ("apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {description: d}\n", "s.yaml:3:11: field `metadata.name`: missing"),
        ("apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: Big Name}\n", "s.yaml:3:18: field `metadata.name`: `Big Name` is not a valid name"),
        ("apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: t}\n", "s.yaml:1:1: field `spec`: missing; expected a spec"),
        ("apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec: {expect: {}}\n", "s.yaml:4:16: field `spec.expect.verdict`: missing; expected `stall`, `converges` or `restart-loop`"),
    ]);
}

#[test]
fn unknown_fields_name_the_accepted_ones() {
    let error = error_of(&format!(
        "{HEAD}  seed: 1\n  replicas:\n    - name: grm-0\n      startAt: 0s\n      stratAt: 5s\n"
    ));
    assert_eq!((error.line, error.column), (Some(10), Some(7)));
    assert_eq!(error.field.as_deref(), Some("spec.replicas[0].stratAt"));
    assert_eq!(
        error.to_string(),
        "s.yaml:10:7: field `spec.replicas[0].stratAt`: unknown field `stratAt`; expected one of `name`, `startAt`, `probePhase`"
    );

    let error =
        error_of("apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspecs: {}\n");
    assert_eq!((error.line, error.column), (Some(4), Some(1)));
    assert_eq!(error.field.as_deref(), Some("specs"));
    assert!(
        error
            .message
            .contains("expected one of `apiVersion`, `kind`, `metadata`, `spec`"),
        "{error}"
    );

    check_specs([
        ("  bogus: 1\n", "s.yaml:6:3: field `spec.bogus`: unknown field `bogus`; expected one of `seed`, `duration`, `tick`, `network`, `apiServer`, `crds`, `replicas`, `manager`, `components`, `mitigations`, `kubelet`, `nodeLifecycle`, `deletionFlow`, `faults`, `check`, `prometheus`, `expect`"),
        ("  manager: {leaderElection: {leaseDuraton: 15s}}\n", "s.yaml:6:30: field `spec.manager.leaderElection.leaseDuraton`: unknown field `leaseDuraton`; expected one of `leaseDuration`, `renewDeadline`, `retryPeriod`, `releaseOnCancel`"),
        ("  mitigations:\n    fixEverything: true\n", "s.yaml:7:5: field `spec.mitigations.fixEverything`: unknown field `fixEverything`; expected one of `livenessCacheSyncDeadline`, `ignoreNotFound`, `rediscoverOnLeadership`, `notFoundListIsEmpty`, `lazyInformerSyncTimeout`"),
        ("  apiServer: {finalizerDelay: 1s}\n", "s.yaml:6:15: field `spec.apiServer.finalizerDelay`: unknown field `finalizerDelay`; expected one of `historyEventsMax`, `discoveryLag`, `watchChannelCapacity`, `bookmarkInterval`, `crdFinalizerDelay`, `instanceDeletionCost`, `servingRemovalLag`, `watchTeardownDelay`"),
        ("  kubelet: {liveness: {periodSeconds: 10}}\n", "field `spec.kubelet.liveness.periodSeconds`: unknown field `periodSeconds`; expected one of `initialDelay`, `period`, `timeout`, `failureThreshold`"),
        ("  faults: [{at: 1s, kill: grm-0, delay: 1s}]\n", "field `spec.faults[0].delay`: unknown field `delay`; expected one of `at`, `kill`, `restart`, `partition`, `nodeLoss`, `for`, `down`"),
        ("  expect: {verdict: stall, reason: x}\n", "field `spec.expect.reason`: unknown field `reason`; expected one of `verdict`, `stalledReplica`, `deploymentReadyWithinFlowTimeout`, `apiRequests`"),
        ("  expect: {verdict: stall, apiRequests: {listsPerMinuteMax: 10}}\n", "s.yaml:6:42: field `spec.expect.apiRequests.listsPerMinuteMax`: unknown field `listsPerMinuteMax`; expected one of `listPerMinuteMax`, `watchPerMinuteMax`, `leasePerMinuteMax`"),
    ]);
}

#[test]
fn bad_durations_say_what_a_duration_looks_like() {
    let error = error_of(&format!("{HEAD}  replicas:\n    - {{name: grm-0}}\n    - {{name: grm-1, startAt: 40}}\n  expect: {{verdict: stall}}\n"));
    assert_eq!((error.line, error.column), (Some(8), Some(30)));
    assert_eq!(error.field.as_deref(), Some("spec.replicas[1].startAt"));
    assert_eq!(
        error.to_string(),
        "s.yaml:8:30: field `spec.replicas[1].startAt`: `40` has no unit; expected a duration like 15s, 3m, 1m30s or 800ms, or a range like 30s..50s"
    );
    check_specs([
        ("  tick: s\n", "s.yaml:6:9: field `spec.tick`: `s` is not a duration (a number is missing before `s`); expected a duration like 15s"),
        ("  duration: -1s\n", "s.yaml:6:13: field `spec.duration`: `-1s` is negative; expected a duration like"),
        ("  duration: 1.5.3s\n", "field `spec.duration`: `1.5.3s` is not a duration (no unit after `1.5`); expected a duration like"),
        ("  duration: 1.5\n", "field `spec.duration`: `1.5` has no unit; expected a duration like"),
        ("  duration: 20 minutes\n", "field `spec.duration`: `20 minutes` is not a duration (spaces are not allowed); expected a duration like"),
        ("  duration: 5d\n", "`5d` has the unknown unit `d` (units are ns, us, ms, s, m, h); expected a duration like"),
        ("  duration: {minutes: 5}\n", "s.yaml:6:13: field `spec.duration`: found a mapping; expected a duration like 15s, 3m, 1m30s or 800ms"),
        ("  duration: [5s]\n", "s.yaml:6:13: field `spec.duration`: found a list; expected a duration like 15s, 3m, 1m30s or 800ms"),
        ("  duration: true\n", "s.yaml:6:13: field `spec.duration`: found `true`; expected a duration like 15s, 3m, 1m30s or 800ms"),
        ("  duration:\n    minutes: 5\n", "s.yaml:7:5: field `spec.duration`: found a mapping; expected a duration like"),
        ("  seed: 1\n  replicas:\n    name: grm-0\n", "s.yaml:8:5: field `spec.replicas`: found a mapping; expected a list"),
        ("  network: {requestTimeout: 1y}\n", "field `spec.network.requestTimeout`: `1y` has the unknown unit `y`"),
        ("  kubelet: {crashLoopBackOff: {cap: 5 m}}\n", "field `spec.kubelet.crashLoopBackOff.cap`: `5 m` is not a duration (spaces are not allowed)"),
        ("  apiServer: {crdFinalizerDelay: soon}\n", "s.yaml:6:34: field `spec.apiServer.crdFinalizerDelay`: `soon` is not a duration"),
        ("  apiServer:\n    servingRemovalLag: -100ms\n", "s.yaml:7:24: field `spec.apiServer.servingRemovalLag`: `-100ms` is negative; expected a duration like"),
        ("  apiServer: {instanceDeletionCost: 5}\n", "field `spec.apiServer.instanceDeletionCost`: `5` has no unit"),
        ("  apiServer: {watchTeardownDelay: [1s]}\n", "field `spec.apiServer.watchTeardownDelay`: found a list; expected a duration like"),
    ]);
}

#[test]
fn bad_values_of_other_types() {
    check_specs([
        ("  manager: {discovery: eagre}\n", "s.yaml:6:24: field `spec.manager.discovery`: unknown value `eagre`; expected one of `eager`, `lazy`"),
        ("  expect: {verdict: stalls}\n", "s.yaml:6:21: field `spec.expect.verdict`: unknown value `stalls`; expected one of `stall`, `converges`"),
        ("  seed: abc\n", "s.yaml:6:9: field `spec.seed`: found `abc`; expected a whole number from 0 to 18446744073709551615"),
        ("  seed: -3\n", "field `spec.seed`: found `-3`; expected a whole number from 0 to 18446744073709551615"),
        ("  seed: {a: 1}\n", "field `spec.seed`: found a mapping; expected"),
        ("  mitigations: {ignoreNotFound: maybe}\n", "field `spec.mitigations.ignoreNotFound`: found `maybe`; expected true or false"),
        ("  replicas: {name: grm-0}\n", "field `spec.replicas`: found a mapping; expected a list"),
        ("  replicas: [grm-0]\n", "field `spec.replicas[0]`: found `grm-0`; expected a mapping"),
        ("  manager: {reflector: {backoff: {factor: fast}}}\n", "field `spec.manager.reflector.backoff.factor`: found `fast`; expected a number"),
        ("  manager: {garbageCollector: {extraKinds: [Prometheus]}}\n", "field `spec.manager.garbageCollector.extraKinds[0]`: `Prometheus` is not a kind; expected a kind as group/version/Kind (monitoring.coreos.com/v1/Prometheus) or v1/Kind for the core group"),
        ("  manager: {watchingController: {kinds: [monitoring.coreos.com/v1/prometheus]}}\n", "field `spec.manager.watchingController.kinds[0]`: `monitoring.coreos.com/v1/prometheus` is not a kind"),
        ("  kubelet: {liveness: {failureThreshold: 2.5}}\n", "field `spec.kubelet.liveness.failureThreshold`: found `2.5`; expected a whole number"),
        ("  expect:\n    verdict: stall\n    apiRequests: {listPerMinuteMax: -1}\n", "s.yaml:8:37: field `spec.expect.apiRequests.listPerMinuteMax`: found `-1`; expected a whole number"),
        ("  expect: {verdict: stall, apiRequests: {leasePerMinuteMax: often}}\n", "field `spec.expect.apiRequests.leasePerMinuteMax`: found `often`; expected a whole number"),
        ("  expect: {verdict: stall, apiRequests: 10}\n", "s.yaml:6:41: field `spec.expect.apiRequests`: found `10`; expected a mapping"),
        // The value as written, not as a float reads it.
        ("  seed: 99999999999999999999999\n", "s.yaml:6:9: field `spec.seed`: found `99999999999999999999999`; expected a whole number"),
        ("  manager: {reflector: {backoff: {jitter: 1e999}}}\n", "s.yaml:6:43: field `spec.manager.reflector.backoff.jitter`: found `1e999`; expected a number"),
        // A mapping where a word belongs is one value, not a field.
        ("  manager: {discovery: {a: 1}}\n", "s.yaml:6:25: field `spec.manager.discovery`: unknown value `a`; expected one of `eager`, `lazy`"),
    ]);
}

#[test]
fn unknown_replicas_are_located() {
    let error = error_of(&format!(
        "{HEAD}  replicas: [{{name: grm-0}}, {{name: grm-1}}]\n  faults:\n    - {{at: 70s, kill: grm-0}}\n    - {{at: 90s, restart: grm-2}}\n  expect: {{verdict: stall}}\n"
    ));
    assert_eq!((error.line, error.column), (Some(9), Some(26)));
    assert_eq!(error.field.as_deref(), Some("spec.faults[1].restart"));
    assert_eq!(
        error.to_string(),
        "s.yaml:9:26: field `spec.faults[1].restart`: `grm-2` is not a replica; expected one of `grm-0`, `grm-1`"
    );

    let error = error_of(&format!(
        "{HEAD}  expect:\n    verdict: stall\n    stalledReplica: grm-9\n"
    ));
    assert_eq!((error.line, error.column), (Some(8), Some(21)));
    assert_eq!(
        error.to_string(),
        "s.yaml:8:21: field `spec.expect.stalledReplica`: `grm-9` is not a replica; expected one of `grm-0`, `grm-1`"
    );
}

#[test]
fn semantic_errors_point_at_the_offending_value() {
    check_specs([
        // replicas
        ("  replicas: [{name: a}, {name: b}, {name: a}]\n  expect: {verdict: stall}\n", "s.yaml:6:43: field `spec.replicas[2].name`: the replica name `a` is used twice; expected unique replica names"),
        ("  replicas: []\n", "s.yaml:6:13: field `spec.replicas`: 0 replicas; expected 1 to 16"),
        ("  replicas: [{startAt: 1s}]\n", "s.yaml:6:14: field `spec.replicas[0].name`: missing; expected a name"),
        ("  replicas: [{name: GRM_0}]\n", "field `spec.replicas[0].name`: `GRM_0` is not a valid name; expected a name of lower-case letters, digits and `-`"),
        // leader election
        ("  manager: {leaderElection: {leaseDuration: 15s, renewDeadline: 15s}}\n", "s.yaml:6:65: field `spec.manager.leaderElection.renewDeadline`: renewDeadline 15s is not below leaseDuration 15s; expected renewDeadline < leaseDuration"),
        ("  manager:\n    leaderElection:\n      leaseDuration: 8s\n", "s.yaml:8:22: field `spec.manager.leaderElection.leaseDuration`: renewDeadline 10s is not below leaseDuration 8s"),
        ("  manager: {leaderElection: {retryPeriod: 9s}}\n", "field `spec.manager.leaderElection.retryPeriod`: renewDeadline 10s is not above 1.2 x retryPeriod 9s; expected renewDeadline > 1.2 x retryPeriod"),
        ("  manager: {leaderElection: {retryPeriod: 0s}}\n", "field `spec.manager.leaderElection.retryPeriod`: `0s` is not accepted here; expected a duration from 500ms to 24h"),
        // network and tick
        ("  network: {latencyMin: 10ms, latencyMax: 5ms}\n", "s.yaml:6:25: field `spec.network.latencyMin`: latencyMin 10ms is above latencyMax 5ms; expected latencyMin <= latencyMax"),
        ("  network: {latencyMax: 500us}\n", "field `spec.network.latencyMax`: latencyMin 1ms is above latencyMax 500us"),
        ("  tick: 0s\n", "s.yaml:6:9: field `spec.tick`: `0s` is not accepted here; expected a duration like 15s, 3m, 1m30s or 800ms, above zero"),
        ("  tick: 0\n", "field `spec.tick`: `0s` is not accepted here"),
        ("  tick: 2s\n", "s.yaml:6:9: field `spec.tick`: 2s is too coarse for the probes (a probe's four network hops take a tick each, within half of the shortest probe timeout); expected a tick of at most 125ms, like 10ms"),
        ("  tick: 126ms\n", "expected a tick of at most 125ms"),
        ("  tick: 1ns\n", "s.yaml:6:9: field `spec.tick`: 1ns is finer than the trace resolves; expected a tick of at least 1ms, like 10ms"),
        ("  duration: 24h\n  tick: 1ms\n", "s.yaml:7:9: field `spec.tick`: 86400000 steps of 1ms make a run of 24h too long to finish; expected at most 20000000 steps, a tick of at least 4320us"),
        ("  tick: 300ms\n  kubelet: {readiness: {timeout: 2s}}\n", "s.yaml:6:9: field `spec.tick`: 300ms is too coarse for the probes (a probe's four network hops take a tick each, within half of the shortest probe timeout); expected a tick of at most 250ms"),
        // the run's length and the times it schedules
        ("  duration: 30s\n", "s.yaml:6:13: field `spec.duration`: a run of 30s cannot outlast the stall bound of 5m; expected a duration longer than the bound"),
        ("  duration: 5m\n", "field `spec.duration`: a run of 5m cannot outlast the stall bound of 5m"),
        ("  check: {stallBound: 20m}\n", "s.yaml:6:23: field `spec.check.stallBound`: a run of 20m cannot outlast the stall bound of 20m"),
        ("  replicas: [{name: a, startAt: 20m}]\n", "s.yaml:6:33: field `spec.replicas[0].startAt`: 20m is not within the run of 20m; expected a time before spec.duration"),
        ("  deletionFlow: {deleteAt: 1h}\n", "s.yaml:6:28: field `spec.deletionFlow.deleteAt`: 1h is not within the run of 20m"),
        ("  faults: [{at: 1s, kill: grm-0}, {at: 30m, restart: grm-1}]\n", "field `spec.faults[1].at`: 30m is not within the run of 20m"),
        ("  duration: 25h\n", "s.yaml:6:13: field `spec.duration`: `25h` is not accepted here; expected a duration from 1ms to 24h"),
        ("  duration: 0s\n", "field `spec.duration`: `0s` is not accepted here"),
        // crds and the flow
        ("  deletionFlow: {deleteAt: 60s, crds: [prometheuses.monitoring.coreos.com, thanosrulers.monitoring.coreos.com]}\n", "s.yaml:6:76: field `spec.deletionFlow.crds[1]`: `thanosrulers.monitoring.coreos.com` is not a CRD of spec.crds; expected one of `prometheuses.monitoring.coreos.com`, `alertmanagers.monitoring.coreos.com`"),
        ("  crds: []\n  deletionFlow: {deleteAt: 60s, crds: [prometheuses.monitoring.coreos.com]}\n", "is not a CRD of spec.crds; expected one of none"),
        ("  deletionFlow: {crds: []}\n", "s.yaml:6:17: field `spec.deletionFlow.deleteAt`: missing; expected a duration like 15s, 3m, 1m30s or 800ms, or a range like 30s..50s: when the flow deletes the CRDs"),
        ("  deletionFlow: {deleteAt: 1m, crds: [prometheuses.monitoring.coreos.com, prometheuses.monitoring.coreos.com]}\n", "field `spec.deletionFlow.crds[1]`: `prometheuses.monitoring.coreos.com` is listed twice"),
        ("  deletionFlow: {deleteAt: 1m, pollInterval: 0s}\n", "field `spec.deletionFlow.pollInterval`: `0s` is not accepted here"),
        ("  crds: [{group: g.io, version: v1, kind: K}]\n", "s.yaml:6:10: field `spec.crds[0].plural`: missing; expected a plural resource name"),
        ("  crds: [{group: g.io, version: v1, kind: K, plural: ks}, {group: g.io, version: v2, kind: K, plural: ks}]\n", "field `spec.crds[1]`: the CRD ks.g.io is listed twice"),
        ("  crds: [{group: '', version: v1, kind: K, plural: ks}]\n", "field `spec.crds[0].group`: `` is not accepted; expected an API group"),
        // faults
        ("  faults: [{kill: grm-0}]\n", "s.yaml:6:12: field `spec.faults[0].at`: missing; expected a duration like 15s, 3m, 1m30s or 800ms, or a range like 30s..50s: when the fault strikes"),
        ("  faults: [{at: 1s}]\n", "field `spec.faults[0]`: no action; expected one of `kill: <replica>`, `restart: <replica>`, `nodeLoss: <replica>`, `partition: <replica>` (with `for`)"),
        ("  faults: [{at: 1s, kill: grm-0, restart: grm-0}]\n", "field `spec.faults[0].restart`: a fault has one action; expected only one of `kill`, `restart`, `nodeLoss`, `partition`"),
        ("  faults: [{at: 1s, nodeLoss: grm-0, down: 10s}]\n", "field `spec.faults[0].down`: `down` belongs to a kill fault; expected it only with `kill`"),
        ("  faults: [{at: 1s, nodeLoss: grm-9}]\n", "field `spec.faults[0].nodeLoss`: `grm-9` is not a replica; expected one of `grm-0`, `grm-1`"),
        // every duration may be a range: both ends within the bounds, and
        // relations between fields hold at every draw
        ("  kubelet: {processStart: 1s..25h}\n", "field `spec.kubelet.processStart`: `25h` is not accepted here; expected a duration from 0s to 24h"),
        ("  kubelet: {liveness: {period: 0s..10s}}\n", "field `spec.kubelet.liveness.period`: `0s` is not accepted here"),
        ("  manager: {leaderElection: {renewDeadline: 8s..16s}}\n", "field `spec.manager.leaderElection.renewDeadline`: renewDeadline 16s is not below leaseDuration 15s"),
        ("  network: {latencyMin: 1ms..10ms}\n", "field `spec.network.latencyMin`: latencyMin 10ms is above latencyMax 5ms"),
        ("  duration: 4m..30m\n", "field `spec.duration`: a run of 4m cannot outlast the stall bound of 5m"),
        ("  duration: 10m..30m\n  deletionFlow: {deleteAt: 12m}\n", "field `spec.deletionFlow.deleteAt`: 12m is not within the run of 10m"),
        ("  kubelet: {crashLoopBackOff: {initial: 10s..1m, cap: 30s}}\n", "field `spec.kubelet.crashLoopBackOff.cap`: cap 30s is below initial 1m"),
        ("  tick: 10ms..200ms\n", "expected a tick of at most 125ms"),
        // the client-go release line and the node lifecycle
        ("  manager: {clientGo: v1.32}\n", "field `spec.manager.clientGo`: `v1.32` is not accepted; expected a client-go release line from v0.27 to v0.36, like v0.32 (the incident's)"),
        ("  manager: {clientGo: v0.40}\n", "field `spec.manager.clientGo`: `v0.40` is not accepted"),
        ("  nodeLifecycle: {tolerationSeconds: 86401}\n", "field `spec.nodeLifecycle.tolerationSeconds`: `86401` is not accepted here; expected a whole number from 0 to 86400"),
        ("  faults: [{at: 1s, partition: grm-0}]\n", "field `spec.faults[0].for`: missing; expected a duration like 15s, 3m, 1m30s or 800ms, or a range like 30s..50s: how long the partition lasts"),
        ("  faults: [{at: 1s, partition: grm-0, for: 0s}]\n", "field `spec.faults[0].for`: `0s` is not accepted here"),
        ("  faults: [{at: 1s, kill: grm-0, for: 10s}]\n", "field `spec.faults[0].for`: `for` belongs to a partition fault; expected it only with `partition`"),
        ("  faults: [{at: 1s, restart: grm-0, down: 10s}]\n", "field `spec.faults[0].down`: `down` belongs to a kill fault; expected it only with `kill`"),
        // expect
        ("  expect: {verdict: converges, stalledReplica: grm-0}\n", "s.yaml:6:48: field `spec.expect.stalledReplica`: a stalled replica with verdict `converges`; expected it only with `verdict: stall`"),
        ("  expect: {verdict: stall, apiRequests: {}}\n", "s.yaml:6:41: field `spec.expect.apiRequests`: no bound given; expected at least one of listPerMinuteMax, watchPerMinuteMax, leasePerMinuteMax"),
        ("  expect: {verdict: stall, deploymentReadyWithinFlowTimeout: false}\n", "field `spec.expect.deploymentReadyWithinFlowTimeout`: there is no deletion flow to time; expected it only with a `spec.deletionFlow`"),
        // bounds and numbers
        ("  apiServer: {watchChannelCapacity: 0}\n", "field `spec.apiServer.watchChannelCapacity`: `0` is not accepted here; expected a whole number from 1 to 100000"),
        ("  kubelet: {readiness: {failureThreshold: 0}}\n", "field `spec.kubelet.readiness.failureThreshold`: `0` is not accepted here; expected a whole number from 1 to 86400"),
        ("  kubelet: {liveness: {period: 0s}}\n", "field `spec.kubelet.liveness.period`: `0s` is not accepted here"),
        ("  kubelet: {crashLoopBackOff: {initial: 1m, cap: 30s}}\n", "field `spec.kubelet.crashLoopBackOff.cap`: cap 30s is below initial 1m; expected cap >= initial"),
        ("  kubelet: {crashLoopBackOff: {cap: 5s}}\n", "field `spec.kubelet.crashLoopBackOff.cap`: `5s` is not accepted here; expected a duration from 10s to 5m"),
        ("  manager: {reflector: {backoff: {initial: 2s, cap: 1s}}}\n", "field `spec.manager.reflector.backoff.cap`: cap 1s is below initial 2s; expected cap >= initial"),
        ("  manager: {reflector: {backoff: {factor: 0.5}}}\n", "field `spec.manager.reflector.backoff.factor`: `0.5` is not accepted here; expected a number from 1 to 10"),
        ("  manager: {reflector: {backoff: {jitter: -1}}}\n", "field `spec.manager.reflector.backoff.jitter`: `-1` is not accepted here; expected a number from 0 to 10"),
        ("  manager: {reflector: {backoff: {factor: .nan}}}\n", "field `spec.manager.reflector.backoff.factor`: `NaN` is not accepted here; expected a number from 1 to 10"),
        // The inputs that broke the model before they had a range (issue 18).
        ("  apiServer: {watchChannelCapacity: 2305843009213693952}\n", "s.yaml:6:37: field `spec.apiServer.watchChannelCapacity`: `2305843009213693952` is not accepted here; expected a whole number from 1 to 100000"),
        ("  manager: {reflector: {backoff: {jitter: 1e308}}}\n", "s.yaml:6:43: field `spec.manager.reflector.backoff.jitter`: `1e308` is not accepted here; expected a number from 0 to 10"),
        ("  apiServer: {bookmarkInterval: 1ms}\n", "s.yaml:6:33: field `spec.apiServer.bookmarkInterval`: `1ms` is not accepted here; expected a duration from 1s to 24h"),
        ("  manager: {informer: kube-runtime}\n", "s.yaml:6:23: field `spec.manager.informer`: kube-runtime's informer runs on kube-rs's client; expected `client: kube` beside it"),
        ("  manager: {client: rest, informer: kube-runtime}\n", "field `spec.manager.informer`: kube-runtime's informer runs on kube-rs's client"),
        ("  manager: {client: kube, informer: kube-runtime}\n  mitigations: {notFoundListIsEmpty: true}\n", "s.yaml:6:37: field `spec.manager.informer`: the notFoundListIsEmpty mitigation changes client-go's reflector"),
        ("  manager: {client: kube-rs}\n", "field `spec.manager.client`"),
        ("  manager: {watchingController: {}}\n", "s.yaml:6:33: field `spec.manager.watchingController.kinds`: no kinds to watch; expected at least one kind, like monitoring.coreos.com/v1/Prometheus"),
        ("  mitigations: {livenessCacheSyncDeadline: 0s}\n", "field `spec.mitigations.livenessCacheSyncDeadline`: `0s` is not accepted here"),
        ("  check: {stallBound: 0s}\n", "field `spec.check.stallBound`: `0s` is not accepted here"),
    ]);
}

#[test]
fn errors_display_without_unknown_parts() {
    let error = ScenarioError {
        path: "x.yaml".into(),
        line: None,
        column: None,
        field: None,
        message: "m".to_string(),
    };
    assert_eq!(error.to_string(), "x.yaml: m");
    let error = ScenarioError {
        line: Some(3),
        column: Some(4),
        field: Some("spec.tick".into()),
        ..error
    };
    assert_eq!(error.to_string(), "x.yaml:3:4: field `spec.tick`: m");
}

#[test]
fn no_input_panics() {
    // Truncations of a full file, and some garbage, must all come back as
    // values, never panics.
    let mut documents: Vec<String> = vec![format!(
        "{HEAD}  replicas: [{{name: grm-0}}, {{name: grm-1, startAt: 40s}}]\n  deletionFlow: {{deleteAt: 60s}}\n  \
         faults:\n    - {{at: 75s, kill: grm-0}}\n  expect: {{verdict: stall, stalledReplica: grm-1}}\n"
    )];
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    if let Ok(files) = stallsim_scenario::discover(&bundled) {
        documents.extend(files.iter().filter_map(|f| std::fs::read_to_string(f).ok()));
    }
    for full in &documents {
        assert!(parse(Path::new("full.yaml"), full).is_ok(), "{full}");
        for end in (0..full.len()).filter(|i| full.is_char_boundary(*i)) {
            let _ = parse(Path::new("cut.yaml"), &full[..end]);
        }
    }
    for garbage in [
        "\u{0}",
        "\u{feff}",
        ":",
        "? ? ?",
        "&a [*a]",
        "!!binary AAAA",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]",
    ] {
        let _ = parse(Path::new("g.yaml"), garbage);
    }
}

#[test]
fn lists_that_multiply_work_are_bounded() {
    let kinds = (0..17)
        .map(|i| format!("v1/K{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    check_all([
        (
            format!("{HEAD}  manager: {{garbageCollector: {{extraKinds: [{kinds}]}}}}\n"),
            "s.yaml:6:44: field `spec.manager.garbageCollector.extraKinds`: 17 extra kinds; expected 0 to 16",
        ),
        (
            format!("{HEAD}  manager: {{watchingController: {{kinds: [{kinds}]}}}}\n"),
            "s.yaml:6:41: field `spec.manager.watchingController.kinds`: 17 kinds; expected 1 to 16",
        ),
        (
            format!("{HEAD}  replicas: [{}]\n", (0..17).map(|i| format!("{{name: r{i}}}")).collect::<Vec<_>>().join(", ")),
            "s.yaml:6:13: field `spec.replicas`: 17 replicas; expected 1 to 16",
        ),
    ]);
}

#[test]
fn malformed_or_unsupported_promql_is_refused_at_the_expression() {
    let rule = |expr: &str| {
        format!("{HEAD}  prometheus:\n    rules:\n      - alert: A\n        expr: {expr}\n")
    };
    let error = error_of(&rule("'sum(rate(x[5m])'"));
    assert_eq!((error.line, error.column), (Some(9), Some(15)));
    assert_eq!(
        error.field.as_deref(),
        Some("spec.prometheus.rules[0].expr")
    );
    assert!(
        error.message.contains("does not parse"),
        "{}",
        error.message
    );
    let error = error_of(&rule("histogram_quantile(0.9, x)"));
    assert_eq!((error.line, error.column), (Some(9), Some(15)));
    assert!(
        error
            .message
            .contains("the function histogram_quantile is not supported"),
        "{}",
        error.message
    );
    check_specs([
        (
            "  prometheus:\n    rules:\n      - {expr: up == 0}\n",
            "spec.prometheus.rules[0].alert",
        ),
        (
            "  prometheus:\n    rules:\n      - {alert: A}\n",
            "spec.prometheus.rules[0].expr",
        ),
        (
            "  prometheus:\n    rules:\n      - {alert: A, expr: up == 0}\n      - {alert: A, expr: up == 1}\n",
            "`A` names two rules",
        ),
        (
            "  prometheus:\n    rules:\n      - {alert: A, expr: up offset 5m == 0}\n",
            "the offset modifier is not supported",
        ),
        (
            "  prometheus: {scrapeInterval: 1s}\n",
            "spec.prometheus.scrapeInterval",
        ),
        (
            "  prometheus:\n    rules:\n      - {alert: A, expr: up == 0}\n  expect:\n    verdict: stall\n    alerts:\n      - silent: B\n",
            "`B` is not an alert of spec.prometheus.rules",
        ),
        (
            "  expect:\n    verdict: stall\n    alerts:\n      - silent: B\n",
            "no alerting rule to bound",
        ),
        (
            "  prometheus:\n    rules:\n      - {alert: A, expr: up == 0}\n  expect:\n    verdict: stall\n    alerts:\n      - fires: {name: A}\n",
            "spec.expect.alerts[0].fires.within",
        ),
    ]);
}
