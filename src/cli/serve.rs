//! `stallsim serve`: the fake API server's HTTP face on a real socket, for
//! kubectl and other Kubernetes clients.

use std::cell::RefCell;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use stallsim_apiserver::{ApiServer, ApiServerConfig, CrdSpec, HttpFace};

use super::exit::{BAD_INPUT as EXIT_BAD_INPUT, CONVERGES as EXIT_CONVERGES};

/// The address served when `--listen` is not given: loopback, a free port.
pub(crate) const LISTEN_DEFAULT: &str = "127.0.0.1:0";

/// The name of the cluster, user and context in the written kubeconfig.
const KUBECONFIG_NAME: &str = "stallsim";

/// Serves until the process is stopped (Ctrl-C). Exit 2 when the scenario
/// is bad, the address cannot be listened on or the kubeconfig not written.
pub(crate) fn serve(listen: SocketAddr, kubeconfig: Option<&Path>, scenario: Option<&Path>) -> u8 {
    let (config, crds) = match scenario {
        Some(file) => {
            let Some(scenario) = super::load_scenario(file) else {
                return EXIT_BAD_INPUT;
            };
            let world = scenario.world(scenario.seed()).config;
            (world.apiserver, world.crds)
        }
        None => (ApiServerConfig::default(), Vec::new()),
    };
    let listener = match TcpListener::bind(listen).and_then(|l| {
        l.set_nonblocking(true)?;
        Ok(l)
    }) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {listen}: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("error: cannot read the listening address: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    let server_url = format!("http://{address}");
    let kubeconfig = kubeconfig.map_or_else(
        || std::env::temp_dir().join(format!("stallsim-{}.kubeconfig", address.port())),
        Path::to_path_buf,
    );
    if let Err(error) = write_kubeconfig(&kubeconfig, &server_url) {
        eprintln!(
            "error: cannot write the kubeconfig to {}: {error}",
            kubeconfig.display()
        );
        return EXIT_BAD_INPUT;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    let local = tokio::task::LocalSet::new();
    let served = local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        // The CLI may read the wall clock: the server's time is the time
        // since it started.
        let start = tokio::time::Instant::now();
        let server = Rc::new(RefCell::new(preloaded(config, &crds)));
        let face = HttpFace::since(server, start);
        print_banner(&server_url, &kubeconfig, &crds);
        stallsim_apiserver::serve_tcp(listener, face).await
    });
    match served {
        Ok(()) => EXIT_CONVERGES,
        Err(error) => {
            eprintln!("error: serving stopped: {error}");
            EXIT_BAD_INPUT
        }
    }
}

/// A server serving `crds` from the start.
fn preloaded(config: ApiServerConfig, crds: &[CrdSpec]) -> ApiServer {
    let mut server = ApiServer::new(config);
    for crd in crds {
        server.install_crd(crd, Duration::ZERO);
    }
    server
}

fn print_banner(server_url: &str, kubeconfig: &Path, crds: &[CrdSpec]) {
    println!("serving {server_url}");
    println!("kubeconfig {}", kubeconfig.display());
    for crd in crds {
        println!("crd {}", crd.name());
    }
    println!(
        "try: KUBECONFIG={} kubectl api-resources",
        kubeconfig.display()
    );
    println!("stop with Ctrl-C");
    // Whoever reads the address (a test, a script) reads it now.
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

/// Writes a kubeconfig (JSON, which kubectl reads as it reads YAML) whose
/// current context is the served address, without credentials.
fn write_kubeconfig(path: &Path, server_url: &str) -> std::io::Result<()> {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": KUBECONFIG_NAME, "cluster": {"server": server_url}}],
        "users": [{"name": KUBECONFIG_NAME, "user": {}}],
        "contexts": [{
            "name": KUBECONFIG_NAME,
            "context": {"cluster": KUBECONFIG_NAME, "user": KUBECONFIG_NAME, "namespace": "default"},
        }],
        "current-context": KUBECONFIG_NAME,
    });
    let text = serde_json::to_string_pretty(&config).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}
