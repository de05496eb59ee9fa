//! The widget controller on a cluster: in-cluster or kubeconfig
//! credentials, `/readyz` on port 8080, the Lease in the pod's namespace.
//! (Build with `--features rustls-tls` to reach an HTTPS API server.)

use std::process::ExitCode;
use std::sync::Arc;

use widget_controller::{run, Design, HostWork, Readiness, Settings, Timings};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let client = match kube::Client::try_default().await {
        Ok(client) => client,
        Err(error) => {
            eprintln!("widget-controller: no API server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let env =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    let settings = Settings {
        lease_namespace: env("POD_NAMESPACE", "default"),
        lease_name: "widget-controller".to_string(),
        identity: env("POD_NAME", "widget-controller"),
        timings: Timings::default(),
        clock: Arc::new(k8s_openapi::jiff::Timestamp::now),
        design: Design::CheckServed,
        host: HostWork::inline(),
    };
    let readiness = Readiness::default();
    let listener = match tokio::net::TcpListener::bind("0.0.0.0:8080").await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("widget-controller: cannot listen on 8080: {error}");
            return ExitCode::FAILURE;
        }
    };
    let probes = readiness.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(probes.clone().serve(stream));
        }
    });
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match run(client, settings, readiness, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("widget-controller: {error}");
            ExitCode::FAILURE
        }
    }
}
