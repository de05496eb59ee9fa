//! `stallsim serve`: the fake API server's HTTP face on a real socket, for
//! kubectl and other Kubernetes clients.

use std::cell::RefCell;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use stallsim_apiserver::{
    ApiServer, ApiServerConfig, ConnectionTimeouts, CrdSpec, HttpFace, MemoryBounds,
};

use super::exit::{BAD_INPUT as EXIT_BAD_INPUT, CONVERGES as EXIT_CONVERGES};

/// The address served when `--listen` is not given: loopback, a free port.
pub(crate) const LISTEN_DEFAULT: &str = "127.0.0.1:0";

/// The name of the cluster, user and context in the written kubeconfig.
const KUBECONFIG_NAME: &str = "stallsim";

/// Bytes of randomness in a generated token (hex-encoded: twice as many
/// characters).
const TOKEN_BYTES: usize = 32;

/// Tries at a fresh name for a private file or directory before giving up.
const CREATE_ATTEMPTS_MAX: u32 = 16;

/// The arguments of `stallsim serve`.
#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// A scenario whose CRDs (and API server timings) to start with.
    file: Option<PathBuf>,
    /// The address to listen on (default: loopback, a free port). Any
    /// other address needs --token or --generate-token.
    #[arg(long, value_name = "ADDR", default_value = LISTEN_DEFAULT)]
    listen: SocketAddr,
    /// Where to write the kubeconfig (default: a private temporary
    /// directory, removed on exit). A file named here is replaced, never
    /// written through, and kept.
    #[arg(long, value_name = "OUT")]
    kubeconfig: Option<PathBuf>,
    /// Answer only requests that carry this bearer token (written into
    /// the kubeconfig).
    #[arg(long, value_name = "TOKEN", conflicts_with = "generate_token")]
    token: Option<String>,
    /// Answer only requests that carry a bearer token generated now,
    /// printed once and written into the kubeconfig.
    #[arg(long)]
    generate_token: bool,
    /// The most bytes the server holds in stored objects, watch history
    /// and frames queued for watchers; writes past it are answered 507.
    #[arg(long, value_name = "BYTES", default_value_t = MemoryBounds::BYTES_MAX_DEFAULT)]
    max_bytes: u64,
}

/// Serves until the process is stopped (Ctrl-C or SIGTERM), then removes
/// the kubeconfig it wrote in a temporary directory. Exit 2 when the
/// scenario or an argument is bad, the address cannot be listened on or
/// the kubeconfig not written.
pub(crate) fn serve(args: ServeArgs) -> u8 {
    let (config, crds) = match &args.file {
        Some(file) => {
            let Some(scenario) = super::load_scenario(file) else {
                return EXIT_BAD_INPUT;
            };
            let world = scenario.world(scenario.seed()).config;
            (world.apiserver, world.crds)
        }
        None => (ApiServerConfig::default(), Vec::new()),
    };
    match serve_until_stopped(&args, config, &crds) {
        Ok(()) => EXIT_CONVERGES,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_BAD_INPUT
        }
    }
}

fn serve_until_stopped(
    args: &ServeArgs,
    config: ApiServerConfig,
    crds: &[CrdSpec],
) -> Result<(), String> {
    if args.max_bytes < MemoryBounds::BYTES_MAX_MIN {
        return Err(format!(
            "--max-bytes {} is too small: expected at least {} bytes",
            args.max_bytes,
            MemoryBounds::BYTES_MAX_MIN
        ));
    }
    let token = token(args)?;
    let listener = TcpListener::bind(args.listen)
        .and_then(|l| {
            l.set_nonblocking(true)?;
            Ok(l)
        })
        .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
    let address = listener
        .local_addr()
        .map_err(|error| format!("cannot read the listening address: {error}"))?;
    let server_url = format!("http://{address}");
    let kubeconfig = Kubeconfig::write(args.kubeconfig.as_deref(), &server_url, token.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let local = tokio::task::LocalSet::new();
    let bounds = MemoryBounds {
        bytes_max: args.max_bytes,
    };
    let served = local.block_on(&runtime, async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        // The CLI may read the wall clock: the server's time is the time
        // since it started.
        let start = tokio::time::Instant::now();
        let server = Rc::new(RefCell::new(preloaded(config, bounds, crds)));
        let mut face =
            HttpFace::since(server, start).with_timeouts(ConnectionTimeouts::KUBE_APISERVER);
        if let Some(token) = &token {
            face = face.with_token(token);
        }
        // Listening for the signals before the banner: whoever read it
        // may stop the server at once, and it still cleans up.
        let stop = stop_signal()?;
        print_banner(&server_url, &kubeconfig.path, crds, args, token.as_deref());
        tokio::select! {
            served = stallsim_apiserver::serve_tcp(listener, face) => served,
            () = stop => Ok(()),
        }
    });
    kubeconfig.remove_if_temporary();
    served.map_err(|error| format!("serving stopped: {error}"))
}

/// The bearer token to require: given, generated, or none (loopback only).
fn token(args: &ServeArgs) -> Result<Option<String>, String> {
    let token = match (&args.token, args.generate_token) {
        (Some(token), _) => {
            let printable = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
            if !printable {
                return Err(
                    "--token must be one or more printable ASCII characters, without spaces"
                        .to_string(),
                );
            }
            Some(token.clone())
        }
        (None, true) => Some(generated_token()?),
        (None, false) => None,
    };
    if token.is_none() && !args.listen.ip().is_loopback() {
        return Err(format!(
            "--listen {} is not a loopback address: anyone who reaches it could read and \
             write the server. Give --token TOKEN or --generate-token (clients then send \
             it as a bearer token; it goes into the kubeconfig), or listen on 127.0.0.1",
            args.listen
        ));
    }
    Ok(token)
}

/// A token from the operating system's randomness, hex-encoded.
fn generated_token() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|error| format!("cannot generate a token from /dev/urandom: {error}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A future that resolves on Ctrl-C or SIGTERM; the signals are caught
/// from the moment it is made.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// A server serving `crds` from the start.
fn preloaded(config: ApiServerConfig, bounds: MemoryBounds, crds: &[CrdSpec]) -> ApiServer {
    let mut server = ApiServer::bounded(config, bounds);
    for crd in crds {
        server.install_crd(crd, Duration::ZERO);
    }
    server
}

fn print_banner(
    server_url: &str,
    kubeconfig: &Path,
    crds: &[CrdSpec],
    args: &ServeArgs,
    token: Option<&str>,
) {
    println!("serving {server_url}");
    println!("kubeconfig {}", kubeconfig.display());
    for crd in crds {
        println!("crd {}", crd.name());
    }
    if args.generate_token {
        if let Some(token) = token {
            // Printed this once; it is also in the kubeconfig.
            println!("token {token}");
        }
    }
    if token.is_some() {
        println!("requests need the bearer token (it is in the kubeconfig)");
    }
    println!("memory bound {} bytes (--max-bytes)", args.max_bytes);
    println!(
        "try: KUBECONFIG={} kubectl api-resources",
        kubeconfig.display()
    );
    println!("stop with Ctrl-C");
    // Whoever reads the address (a test, a script) reads it now.
    let _ = std::io::stdout().flush();
}

/// The kubeconfig written for the served address.
struct Kubeconfig {
    path: PathBuf,
    /// The private directory it was written in, removed with it on exit;
    /// `None` when the user named the file.
    temporary_dir: Option<PathBuf>,
}

impl Kubeconfig {
    /// Writes a kubeconfig (JSON, which kubectl reads as it reads YAML)
    /// whose current context is the served address, with the token if
    /// any, readable by its owner only (0600).
    ///
    /// Named by the user: written to a new file beside it (O_EXCL) and
    /// renamed over it, which replaces a symlink there instead of writing
    /// through it. Otherwise: `kubeconfig` in a new private directory
    /// (0700) in the temporary directory.
    fn write(named: Option<&Path>, server_url: &str, token: Option<&str>) -> Result<Self, String> {
        let text = kubeconfig_text(server_url, token)?;
        match named {
            Some(path) => {
                let dir = match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let file_name = path.file_name().ok_or_else(|| {
                    format!("--kubeconfig {}: expected a file name", path.display())
                })?;
                let staged = create_private_file(&dir, |attempt| {
                    let mut name = std::ffi::OsString::from(".");
                    name.push(file_name);
                    name.push(format!(".{}.{attempt}", std::process::id()));
                    name
                })
                .and_then(|(staged, file)| write_all(file, &text).map(|()| staged))
                .map_err(|error| {
                    format!("cannot write the kubeconfig to {}: {error}", path.display())
                })?;
                std::fs::rename(&staged, path).map_err(|error| {
                    let _ = std::fs::remove_file(&staged);
                    format!("cannot write the kubeconfig to {}: {error}", path.display())
                })?;
                Ok(Kubeconfig {
                    path: path.to_path_buf(),
                    temporary_dir: None,
                })
            }
            None => {
                let dir = create_private_dir(&std::env::temp_dir())
                    .map_err(|error| format!("cannot create a private directory: {error}"))?;
                let written = create_private_file(&dir, |_| "kubeconfig".into())
                    .and_then(|(path, file)| write_all(file, &text).map(|()| path));
                match written {
                    Ok(path) => Ok(Kubeconfig {
                        path,
                        temporary_dir: Some(dir),
                    }),
                    Err(error) => {
                        let _ = std::fs::remove_dir_all(&dir);
                        Err(format!("cannot write the kubeconfig: {error}"))
                    }
                }
            }
        }
    }

    fn remove_if_temporary(&self) {
        if let Some(dir) = &self.temporary_dir {
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn kubeconfig_text(server_url: &str, token: Option<&str>) -> Result<String, String> {
    let user = match token {
        Some(token) => json!({"token": token}),
        None => json!({}),
    };
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": KUBECONFIG_NAME, "cluster": {"server": server_url}}],
        "users": [{"name": KUBECONFIG_NAME, "user": user}],
        "contexts": [{
            "name": KUBECONFIG_NAME,
            "context": {"cluster": KUBECONFIG_NAME, "user": KUBECONFIG_NAME, "namespace": "default"},
        }],
        "current-context": KUBECONFIG_NAME,
    });
    serde_json::to_string_pretty(&config)
        .map(|text| text + "\n")
        .map_err(|error| format!("cannot write the kubeconfig: {error}"))
}

/// A new file in `dir`, mode 0600, created exclusively (a name that
/// exists, a symlink included, is never opened): the first free one of
/// `name(0)`, `name(1)`, ...
fn create_private_file(
    dir: &Path,
    name: impl Fn(u32) -> std::ffi::OsString,
) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut last = None;
    for attempt in 0..CREATE_ATTEMPTS_MAX {
        let path = dir.join(name(attempt));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
}

/// A new directory in `parent`, mode 0700, with a name nobody can guess.
fn create_private_dir(parent: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let mut last = None;
    for _ in 0..CREATE_ATTEMPTS_MAX {
        let suffix = generated_token().map_err(std::io::Error::other)?;
        let dir = parent.join(format!("stallsim-serve-{}", &suffix[..16]));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
}

fn write_all(mut file: std::fs::File, text: &str) -> std::io::Result<()> {
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
