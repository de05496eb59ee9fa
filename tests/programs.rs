//! A program (the user's own code) as a component, through the facade
//! only: a tiny controller written here, on kube-rs's `kube::Client`,
//! serving its readiness over HTTP with hyper, run under seeds and
//! faults, explored, windowed, shrunk and drawn.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ApiResource, DynamicObject, ListParams, PostParams};
use kube::Api;
use stallsim::explore::{MatrixQuery, SensitivityQuery, SystematicQuery, WindowQuery};
use stallsim::{Process, Program, Scenario, Verdict};

/// The Prometheus kind the program reads.
fn prometheus() -> ApiResource {
    ApiResource {
        group: "monitoring.coreos.com".into(),
        version: "v1".into(),
        api_version: "monitoring.coreos.com/v1".into(),
        kind: "Prometheus".into(),
        plural: "prometheuses".into(),
    }
}

/// What `/readyz` answers: `Ok`, or why not.
type Readiness = Rc<RefCell<Result<(), String>>>;

/// Serves `GET /readyz` on `port` of the pod: 200 `ok`, or 500 and why.
async fn serve_readiness(process: Process, port: u16, readiness: Readiness) {
    let listener = process.listen(port).await.expect("the port is free");
    while let Ok((stream, _)) = listener.accept().await {
        let readiness = readiness.clone();
        let service = service_fn(move |_request| {
            let answer = readiness.borrow().clone();
            async move {
                let (status, body) = match answer {
                    Ok(()) => (200, "ok\n".to_string()),
                    Err(why) => (500, format!("{why}\n")),
                };
                let response = hyper::Response::builder()
                    .status(status)
                    .body(Full::new(Bytes::from(body)))
                    .expect("a valid response");
                Ok::<_, Infallible>(response)
            }
        });
        tokio::task::spawn_local(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The controller: writes a ConfigMap saying it started, then lists the
/// Prometheus objects every 5s. Ready while its last LIST succeeded.
/// When the kind was not there at its first LIST, it goes on without it
/// (ready); once it has seen the kind, it needs it: a LIST that fails
/// afterwards (the CRD deleted under it) leaves it not ready.
fn controller() -> Program {
    Program::new("prometheus-lister", |process: Process| async move {
        let readiness: Readiness = Rc::new(RefCell::new(Err("not listed yet".into())));
        tokio::task::spawn_local(serve_readiness(process.clone(), 8080, readiness.clone()));
        let client = process.client();
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), process.namespace());
        let mut marker = ConfigMap::default();
        marker.metadata.name = Some(format!("{}-started", process.pod()));
        marker.data = Some([("at".to_string(), process.now().to_string())].into());
        match config_maps.create(&PostParams::default(), &marker).await {
            Ok(_) => process.note("wrote its ConfigMap"),
            Err(error) => process.note(format!("could not write its ConfigMap: {error}")),
        }
        let api: Api<DynamicObject> =
            Api::namespaced_with(client, process.namespace(), &prometheus());
        let mut needs_kind = None;
        let work = async {
            loop {
                let listed = api.list(&ListParams::default()).await;
                let now = match (&listed, needs_kind) {
                    (Ok(_), _) => {
                        needs_kind = Some(true);
                        Ok(())
                    }
                    (Err(kube::Error::Api(status)), None) if status.code == 404 => {
                        process.note("Prometheus is not served: going on without it");
                        needs_kind = Some(false);
                        Ok(())
                    }
                    (Err(_), Some(false)) => Ok(()),
                    (Err(error), _) => Err(format!("LIST prometheuses failed: {error}")),
                };
                *readiness.borrow_mut() = now;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        };
        tokio::select! {
            _ = work => {}
            _ = process.shutdown() => process.note("stopping"),
        }
    })
}

const SCENARIO: &str = "apiVersion: stallsim/v1alpha1
kind: Scenario
metadata: {name: prometheus-lister}
spec:
  duration: 15m
  components:
    - name: lister
      program: prometheus-lister
      replicas: [{name: lister-0, startAt: 0s}]
      probes:
        readiness: {httpGet: {path: /readyz, port: 8080}, period: 5s}
  deletionFlow:
    deleteAt: 0s..10s
    crds: [prometheuses.monitoring.coreos.com]
  faults: [{at: 1m, partition: lister-0, for: 10s}]
";

const DELETE_AT: &str = "spec.deletionFlow.deleteAt";

fn at(delete_at: Duration) -> BTreeMap<String, Duration> {
    [(DELETE_AT.to_string(), delete_at)].into()
}

fn scenario() -> Scenario {
    Scenario::parse("prometheus-lister.yaml", SCENARIO)
        .expect("the scenario is valid")
        .program(controller())
        .expect("the file names the program")
}

#[test]
fn a_program_deleted_under_stalls_and_names_its_probe_answer() {
    let s = scenario();
    let run = s.run_with(1, &at(Duration::from_secs(10)));
    let Verdict::Stall(stall) = &run.report.verdict else {
        panic!("expected a stall, got {:?}", run.report.verdict);
    };
    assert_eq!(stall.replica, "lister-0");
    let why = stall
        .last_probe
        .as_deref()
        .expect("a program's stall names its probe");
    assert!(why.starts_with("LIST prometheuses failed"), "{why}");
}

#[test]
fn a_program_started_after_the_deletion_converges() {
    let s = scenario();
    let run = s.run_with(1, &at(Duration::ZERO));
    assert_eq!(
        run.report.verdict,
        Verdict::Converges,
        "{:?}",
        run.report.verdict
    );
}

#[test]
fn explore_counts_the_stalls_of_a_program() {
    let e = scenario().explore().runs(24).jobs(2).run().expect("runs");
    assert_eq!(e.runs(), 24);
    let stalls = e.stall_rate().count;
    // The program stalls when the CRD goes after its first LIST (about
    // 2s into the run): most of 0s..10s, not all of it.
    assert!((10..24).contains(&stalls), "{stalls} stalls of 24");
}

#[test]
fn window_finds_the_edge_where_the_program_first_listed() {
    let s = scenario();
    let w = s
        .window(&WindowQuery::new(DELETE_AT, 1, 8))
        .expect("a range");
    assert_eq!(w.stalling.len(), 1, "{:?}", w.stalling);
    let (from, to) = w.stalling[0];
    // Its process starts 2s in (processStart) and LISTs at once; the
    // deletion answers 404 a few hundred ms after the DELETE.
    assert!(
        from > Duration::from_millis(1000) && from < Duration::from_millis(2500),
        "{from:?}"
    );
    assert_eq!(to, Duration::from_secs(10));
}

#[test]
fn shrink_reduces_a_stalling_run_to_the_deletion_alone() {
    let s = scenario();
    let seed = (1..40)
        .find(|&seed| s.run(seed).report.verdict.is_stall())
        .expect("a stalling seed");
    let shrunk = s.shrink(seed, &s.property()).expect("the run fails");
    assert!(shrunk.faults_kept.is_empty(), "{:?}", shrunk.faults_kept);
    assert_eq!(shrunk.faults_dropped.len(), 1);
    let (field, drawn, least) = &shrunk.times[0];
    assert_eq!(field, DELETE_AT);
    assert!(
        least <= drawn && *least < Duration::from_millis(2500),
        "{least:?}"
    );
}

#[test]
fn systematic_matrix_and_sensitivity_run_a_program() {
    let s = scenario();
    let query = SystematicQuery {
        seed: 1,
        grid_points: 4,
        combinations_max: 64,
        jobs: 2,
    };
    let found = s.systematic(&s.property(), &query).expect("a ranged time");
    assert!(found.orderings.iter().any(|o| o.failed > 0));
    assert!(found.orderings.iter().any(|o| o.failed < o.runs));
    // No fix of the resource manager touches a program: every row alike.
    let matrix = s.matrix(&MatrixQuery { runs: 6, jobs: 2 }).expect("runs");
    let stalls: Vec<u64> = matrix.rows.iter().map(|r| r.stalls).collect();
    assert!(stalls.iter().all(|&n| n == stalls[0]), "{stalls:?}");
    let found = s.sensitivity(&SensitivityQuery {
        seed: 1,
        grid_points: 2,
        jobs: 2,
    });
    assert_eq!(found.constants.len(), stallsim::explore::estimates_count());
}

#[test]
fn a_seed_replays_a_program_byte_for_byte_and_the_pictures_draw_it() {
    let s = scenario();
    let seed = 3;
    let lines = |run: &stallsim::Run| -> Vec<String> {
        run.trace.iter().map(|e| e.to_json_line()).collect()
    };
    let (first, second) = (s.run(seed), s.run(seed));
    assert_eq!(lines(&first), lines(&second));
    assert!(first.trace.len() > 50, "{}", first.trace.len());
    let drawn = s.world(seed);
    let path = s.path();
    let svg = stallsim::show::svg(path, &drawn.config, &first);
    assert!(svg.contains("lister-0"));
    assert!(svg.contains("wrote its ConfigMap"), "the note is drawn");
    let markdown = stallsim::show::markdown(path, &drawn.config, &drawn.draws, &first);
    assert!(markdown.contains("lister-0"));
    let text = stallsim::show::run_text(path, &drawn.config, &drawn.draws, &first);
    assert!(text.contains("note: wrote its ConfigMap"), "{text}");
    // The API load of the program's pods, summed per component.
    let load = &first.report.api_by_component;
    assert_eq!(load.len(), 1);
    assert_eq!(load[0].component, "lister");
    assert!(load[0].list >= 10 && load[0].other >= 1, "{load:?}");
    assert!(text.contains("component lister: "), "{text}");
    assert!(markdown.contains("component lister: "));
}

#[test]
fn an_unbound_program_is_a_model_error_not_a_panic() {
    let s = Scenario::parse("prometheus-lister.yaml", SCENARIO).expect("valid");
    assert_eq!(s.unbound_programs(), ["prometheus-lister"]);
    let run = s.run(1);
    let Verdict::Inconclusive { reasons } = &run.report.verdict else {
        panic!("{:?}", run.report.verdict);
    };
    assert!(
        reasons[0].contains("the program `prometheus-lister` is not bound to code"),
        "{reasons:?}"
    );
    let error = s
        .program(Program::new("other", |_| async {}))
        .expect_err("no component runs `other`");
    assert!(error.to_string().contains("prometheus-lister"), "{error}");
}

/// A kube-runtime watcher on a kind the server does not serve: it errors,
/// and its default backoff (backon, jittered by fastrand) paces the
/// retries; each error is noted with the simulated time.
fn failing_watcher() -> Program {
    Program::new("prometheus-lister", |process: Process| async move {
        use futures::StreamExt;
        let missing = ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Missing".into(),
            plural: "missings".into(),
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(process.client(), process.namespace(), &missing);
        let mut events = std::pin::pin!(kube::runtime::WatchStreamExt::default_backoff(
            kube::runtime::watcher(api, Default::default())
        ));
        let mut errors = 0;
        while let Some(event) = events.next().await {
            if event.is_err() {
                errors += 1;
                process.note(format!("watch error {errors} at {}", process.now()));
            }
            if errors == 8 {
                break;
            }
        }
        process.shutdown().await;
    })
}

#[test]
fn a_kube_runtime_watcher_s_jittered_backoff_replays_from_the_seed() {
    let s = Scenario::parse("prometheus-lister.yaml", SCENARIO)
        .expect("valid")
        .program(failing_watcher())
        .expect("named");
    assert_eq!(s.replays(5), Ok(()));
    let notes = |seed| -> Vec<String> {
        s.run(seed)
            .trace
            .iter()
            .filter(|e| e.to_json_line().contains("watch error"))
            .map(|e| e.to_json_line())
            .collect()
    };
    let (five, six) = (notes(5), notes(6));
    assert_eq!(five.len(), 8, "{five:?}");
    // The jitter is drawn from the seed: another seed, other retry times.
    assert_ne!(five, six);
}

/// The scenario with its program bound to `code`.
fn with_code<F, Fut>(code: F) -> Scenario
where
    F: Fn(Process) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    Scenario::parse("prometheus-lister.yaml", SCENARIO)
        .expect("valid")
        .program(Program::new("prometheus-lister", code))
        .expect("named")
}

fn model_error(run: &stallsim::Run) -> String {
    match &run.report.verdict {
        Verdict::Inconclusive { reasons } => reasons.join("; "),
        other => panic!("expected a model error, got {other:?}"),
    }
}

#[test]
fn a_real_socket_is_a_model_error_that_says_so() {
    let s = with_code(|_process| async move {
        let _ = tokio::net::TcpListener::bind("127.0.0.1:0").await;
    });
    let why = model_error(&s.run(1));
    assert!(why.contains("used a real socket"), "{why}");
    assert!(why.contains("Process::listen"), "{why}");
}

#[test]
fn tokio_spawn_runs_outside_the_host_and_says_so() {
    // A task spawned on the runtime itself has no host, so no network: its
    // first connection stops the run with a sentence that says why.
    let s = with_code(|process| async move {
        let client = process.client();
        let spawned = tokio::spawn(async move {
            let config_maps: Api<ConfigMap> = Api::default_namespaced(client);
            let _ = config_maps.list(&ListParams::default()).await;
        });
        let _ = spawned.await;
        process.shutdown().await;
    });
    let why = model_error(&s.run(1));
    assert!(why.contains("a task outside any host panicked"), "{why}");
    assert!(why.contains("tokio::task::spawn_local"), "{why}");
    // spawn_local keeps the task in the host: the same code works.
    let s = with_code(|process| async move {
        let client = process.client();
        let spawned = tokio::task::spawn_local(async move {
            let config_maps: Api<ConfigMap> = Api::default_namespaced(client);
            config_maps.list(&ListParams::default()).await.is_ok()
        });
        process.note(format!("listed: {:?}", spawned.await));
        process.shutdown().await;
    });
    let run = s.run(1);
    assert!(
        run.trace
            .iter()
            .any(|e| e.to_json_line().contains("listed: Ok(true)")),
        "{:?}",
        run.report.verdict
    );
}

#[test]
fn a_program_that_blocks_its_thread_is_named_with_the_wall_time_it_froze() {
    let s = with_code(|process| async move {
        tokio::time::sleep(Duration::from_secs(62)).await;
        process.note("about to block");
        std::thread::sleep(Duration::from_millis(2300));
        process.shutdown().await;
    });
    let why = model_error(&s.run(1));
    assert!(why.contains("lister-0 blocked its thread for 2."), "{why}");
    assert!(why.contains("of wall time in one poll"), "{why}");
    assert!(why.contains("model error at 1m4.000s"), "{why}");
}

#[test]
fn a_program_that_writes_the_os_clock_into_an_object_is_named() {
    let s = with_code(|process| async move {
        let config_maps: Api<ConfigMap> = Api::namespaced(process.client(), process.namespace());
        let mut stamped = ConfigMap::default();
        stamped.metadata.name = Some("stamped".to_string());
        // Written from the simulated clock: accepted.
        stamped.data = Some([("at".to_string(), process.now().to_string())].into());
        let _ = config_maps.create(&PostParams::default(), &stamped).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        // Read from the OS clock: years from the run's epoch.
        let os =
            k8s_openapi::jiff::Timestamp::try_from(std::time::SystemTime::now()).expect("a time");
        stamped.metadata.name = Some("os-clock".to_string());
        stamped.data = Some([("at".to_string(), os.to_string())].into());
        let _ = config_maps.create(&PostParams::default(), &stamped).await;
        process.shutdown().await;
    });
    let why = model_error(&s.run(1));
    assert!(
        why.contains("lister-0 wrote at = ") && why.contains("into configmaps garden/os-clock"),
        "{why}"
    );
    assert!(why.contains("at simulated 32."), "{why}");
    assert!(why.contains("Process::now()"), "{why}");
}
