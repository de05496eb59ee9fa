//! A `stallsim serve` child process for the tests that drive it, with
//! kubectl (`$KUBECTL`, else from `PATH`) and raw HTTP beside it.

#![allow(dead_code)] // each test crate uses its own part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// How long a raw HTTP exchange may take; a guard against a hang.
const EXCHANGE_WAIT_MAX: Duration = Duration::from_secs(60);

/// The manifests of the README's serve example.
pub fn manifest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/serve")
        .join(name)
}

/// A served `stallsim serve`, killed when dropped.
pub struct Served {
    pub child: Child,
    /// A private directory for the test: kubectl's home, files.
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub address: SocketAddr,
    /// The banner's lines, up to "stop with Ctrl-C".
    pub banner: Vec<String>,
}

impl Served {
    /// `stallsim serve --kubeconfig DIR/kubeconfig ARGS`.
    pub fn start(name: &str, args: &[&str]) -> Served {
        let dir = test_dir(name);
        let kubeconfig = dir.join("kubeconfig");
        let mut all = vec!["--kubeconfig", kubeconfig.to_str().expect("a UTF-8 path")];
        all.extend_from_slice(args);
        Served::start_in(dir, &all)
    }

    /// `stallsim serve ARGS`, with a test directory of its own.
    pub fn start_in(dir: PathBuf, args: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stallsim"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("stallsim serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut banner = Vec::new();
        loop {
            let mut line = String::new();
            let read = stdout
                .read_line(&mut line)
                .expect("serve prints its banner");
            assert!(read > 0, "serve ended before its banner: {banner:?}");
            let line = line.trim_end().to_string();
            let done = line == "stop with Ctrl-C";
            banner.push(line);
            if done {
                break;
            }
        }
        let field = |key: &str| {
            banner
                .iter()
                .find_map(|line| line.strip_prefix(key))
                .unwrap_or_else(|| panic!("no {key:?} in {banner:?}"))
                .to_string()
        };
        let address = field("serving http://").parse().expect("an address");
        let kubeconfig = PathBuf::from(field("kubeconfig "));
        Served {
            child,
            dir,
            kubeconfig,
            address,
            banner,
        }
    }

    pub fn kubectl_command(&self, args: &[&str]) -> Command {
        let kubectl = std::env::var_os("KUBECTL").unwrap_or_else(|| "kubectl".into());
        let mut command = Command::new(kubectl);
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .args(args);
        command
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command(args).output().unwrap_or_else(|e| {
            panic!("kubectl cannot run ({e}): install it, or run .ci/run, which does")
        })
    }

    /// kubectl that must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        let (out, err) = texts(&output);
        assert!(output.status.success(), "kubectl {args:?}: {out}{err}");
        out
    }

    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("a file");
        path.display().to_string()
    }

    /// One raw HTTP/1.1 request (`Connection: close`) and the whole answer.
    pub fn http(&self, method: &str, path: &str, headers: &str, body: &[u8]) -> String {
        let mut stream = TcpStream::connect(self.address).expect("the server accepts");
        stream
            .set_read_timeout(Some(EXCHANGE_WAIT_MAX))
            .expect("a timeout");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: stallsim\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("the request goes");
        stream.write_all(body).expect("the body goes");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("the answer comes");
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// The server's resident memory, in bytes (Linux).
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        kib * 1024
    }

    /// Stops the server as Ctrl-C does; its exit code.
    pub fn interrupt(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -INT {pid}");
        self.child.wait().expect("the server exits").code()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory for one test.
pub fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stallsim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `stallsim serve ARGS` expected to refuse at once: its output.
pub fn refused(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("serve")
        .args(args)
        .output()
        .expect("the CLI runs")
}
