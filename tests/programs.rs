//! A program (the user's own code) as a component, through the facade
//! only: a tiny controller written here, on kube-rs's `kube::Client`,
//! serving its readiness over HTTP with hyper, run under seeds and
//! faults, explored, windowed, shrunk and drawn.

use std::cell::RefCell;
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
";

fn scenario() -> Scenario {
    Scenario::parse("prometheus-lister.yaml", SCENARIO)
        .expect("the scenario is valid")
        .program(controller())
        .expect("the file names the program")
}

#[test]
fn a_program_deleted_under_stalls_and_names_its_probe_answer() {
    let s = scenario();
    let run = s.run_with(
        1,
        &[(
            "spec.deletionFlow.deleteAt".to_string(),
            Duration::from_secs(30),
        )]
        .into(),
    );
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
    let run = s.run_with(
        1,
        &[("spec.deletionFlow.deleteAt".to_string(), Duration::ZERO)].into(),
    );
    assert_eq!(
        run.report.verdict,
        Verdict::Converges,
        "{:?}",
        run.report.verdict
    );
}
