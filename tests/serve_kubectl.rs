//! `stallsim serve` with real kubectl: the sequence the README shows, as
//! against a cluster. kubectl is taken from `$KUBECTL`, else from `PATH`
//! (`.ci/run` installs it when absent).

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long to wait for a line that should come at once; a guard against
/// a hang, not a measure of speed.
const LINE_WAIT_MAX: Duration = Duration::from_secs(60);

/// Attempts, one `ATTEMPT_PAUSE` apart, to see the resource gone after its
/// CRD was deleted (the server removes it after its finalizer and lags).
const GONE_ATTEMPTS_MAX: u32 = 100;
const ATTEMPT_PAUSE: Duration = Duration::from_millis(100);

const CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

fn widget(name: &str, teeth: u32) -> String {
    format!("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  teeth: {teeth}\n")
}

/// A served `stallsim serve`, stopped when dropped.
struct Served {
    child: Child,
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl Served {
    fn start(name: &str, scenario: Option<&str>) -> Served {
        let dir = std::env::temp_dir().join(format!("stallsim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let kubeconfig = dir.join("kubeconfig");
        let mut command = Command::new(env!("CARGO_BIN_EXE_stallsim"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("serve")
            .arg("--kubeconfig")
            .arg(&kubeconfig);
        command.args(scenario);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("stallsim serve starts");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().expect("piped"))
            .read_line(&mut first)
            .expect("serve prints its address");
        assert!(first.starts_with("serving http://127.0.0.1:"), "{first:?}");
        Served {
            child,
            dir,
            kubeconfig,
        }
    }

    fn kubectl_command(&self, args: &[&str]) -> Command {
        let kubectl = std::env::var_os("KUBECTL").unwrap_or_else(|| "kubectl".into());
        let mut command = Command::new(kubectl);
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .args(args);
        command
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command(args).output().unwrap_or_else(|e| {
            panic!("kubectl cannot run ({e}): install it, or run .ci/run, which does")
        })
    }

    /// kubectl that must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        let (out, err) = texts(&output);
        assert!(output.status.success(), "kubectl {args:?}: {out}{err}");
        out
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("a file");
        path.display().to_string()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The lines a child prints, as they come.
fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

#[test]
fn kubectl_applies_watches_and_deletes_as_against_a_cluster() {
    let served = Served::start("kubectl", None);

    let resources = served.ok(&["api-resources"]);
    for line in ["customresourcedefinitions", "leases", "configmaps"] {
        assert!(resources.contains(line), "{resources}");
    }
    assert!(resources.contains("crd,crds"), "{resources}");
    let crds = served.kubectl(&["get", "crds"]);
    assert!(crds.status.success(), "{crds:?}");
    assert!(texts(&crds).1.contains("No resources found"), "{crds:?}");

    let crd_file = served.file("crd.yaml", CRD);
    let applied = served.ok(&["apply", "-f", &crd_file]);
    assert!(applied.contains("widgets.example.com created"), "{applied}");
    let crds = served.ok(&["get", "crds", "-o", "name"]);
    assert_eq!(
        crds.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com"
    );

    let gear = served.file("gear.yaml", &widget("gear", 12));
    assert!(served
        .ok(&["apply", "-f", &gear])
        .contains("widget.example.com/gear created"));
    // Applied again with a change: a PATCH.
    let gear = served.file("gear.yaml", &widget("gear", 13));
    assert!(served
        .ok(&["apply", "-f", &gear])
        .contains("widget.example.com/gear configured"));
    let teeth = served.ok(&["get", "wd", "gear", "-o", "jsonpath={.spec.teeth}"]);
    assert_eq!(teeth, "13");

    // A watch sees what is there, then what comes.
    let mut watch = served
        .kubectl_command(&["get", "widgets", "-w", "-o", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl starts");
    let seen = lines_of(watch.stdout.take().expect("piped"));
    let line = seen
        .recv_timeout(LINE_WAIT_MAX)
        .expect("the watch lists gear");
    assert_eq!(line, "widget.example.com/gear");
    let cog = served.file("cog.yaml", &widget("cog", 7));
    served.ok(&["apply", "-f", &cog]);
    let line = seen
        .recv_timeout(LINE_WAIT_MAX)
        .expect("the watch sees cog");
    assert_eq!(line, "widget.example.com/cog");
    served.ok(&["delete", "widget", "cog"]);
    let line = seen
        .recv_timeout(LINE_WAIT_MAX)
        .expect("the watch sees cog deleted");
    assert_eq!(line, "widget.example.com/cog");

    let deleted = served.ok(&["delete", "crd", "widgets.example.com"]);
    assert!(deleted.contains("deleted"), "{deleted}");
    // The CRD's removal ends the watch, and kubectl with it, as on a cluster.
    watch.wait().expect("the watch ends");

    // kubectl with what it cached: the server's own 404 Status.
    let mut stale = None;
    for _ in 0..GONE_ATTEMPTS_MAX {
        let output = served.kubectl(&["get", "widgets"]);
        if texts(&output).1.contains("Error from server (NotFound)") {
            stale = Some(output);
            break;
        }
        std::thread::sleep(ATTEMPT_PAUSE);
    }
    let stale = stale.expect("the resource is no longer served");
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        texts(&stale)
            .1
            .contains("the server could not find the requested resource"),
        "{stale:?}"
    );
    // kubectl discovering afresh: the resource type is gone.
    let mut gone = None;
    for attempt in 0..GONE_ATTEMPTS_MAX {
        let cache = served.dir.join(format!("cache-{attempt}"));
        let cache = cache.display().to_string();
        let output = served.kubectl(&["get", "widgets", "--cache-dir", &cache]);
        if texts(&output).1.contains("doesn't have a resource type") {
            gone = Some(output);
            break;
        }
        std::thread::sleep(ATTEMPT_PAUSE);
    }
    let gone = gone.expect("discovery drops the resource");
    assert_eq!(gone.status.code(), Some(1));
    assert_eq!(
        texts(&gone).1.trim(),
        "error: the server doesn't have a resource type \"widgets\""
    );
    let crds = served.kubectl(&["get", "crds", "-o", "name"]);
    assert_eq!(texts(&crds).0, "");
}

#[test]
fn a_scenario_preloads_its_crds() {
    let served = Served::start("scenario", Some("scenarios/grm-deletion-stall.yaml"));
    let crds = served.ok(&["get", "crds", "-o", "name"]);
    assert!(
        crds.contains(
            "customresourcedefinition.apiextensions.k8s.io/prometheuses.monitoring.coreos.com"
        ),
        "{crds}"
    );
    let listed = served.kubectl(&["get", "prometheuses", "-A"]);
    assert!(listed.status.success(), "{listed:?}");
}

#[test]
fn bad_input_to_serve_exits_2() {
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stallsim"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("serve")
            .args(args)
            .output()
            .expect("the CLI runs")
    };
    let missing = serve(&["no/such/scenario.yaml"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let address = serve(&["--listen", "not-an-address"]);
    assert_eq!(address.status.code(), Some(2), "{address:?}");
    // A port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let listen = taken.local_addr().unwrap().to_string();
    let busy = serve(&["--listen", &listen]);
    assert_eq!(busy.status.code(), Some(2), "{busy:?}");
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("cannot listen"),
        "{busy:?}"
    );
    let unwritable = serve(&["--kubeconfig", "/no/such/dir/kubeconfig"]);
    assert_eq!(unwritable.status.code(), Some(2), "{unwritable:?}");
}

/// The Indexed Job of `deploy/explore-job.yaml` is what `kubectl apply
/// --dry-run=client` accepts (discovery and the REST mapping come from
/// `stallsim serve`, which serves `batch/v1` Jobs). kubectl checks no
/// field against a schema here (the server's OpenAPI leaves validation to
/// it), so the object kubectl would send is also read as k8s-openapi's
/// `Job`: a field it does not know would be lost on the way back.
#[test]
fn the_explore_job_applies_as_a_client_dry_run() {
    use k8s_openapi::api::batch::v1::Job;

    let served = Served::start("job", None);
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/explore-job.yaml");
    let manifest = manifest.display().to_string();
    let out = served.ok(&["apply", "--dry-run=client", "-f", &manifest]);
    assert_eq!(out.trim(), "job.batch/stallsim-explore created (dry run)");
    let sent: serde_json::Value = serde_json::from_str(&served.ok(&[
        "apply",
        "--dry-run=client",
        "-f",
        &manifest,
        "-o",
        "json",
    ]))
    .expect("kubectl prints the object as JSON");
    let job: Job = serde_json::from_value(sent.clone()).expect("a batch/v1 Job");
    assert_eq!(
        serde_json::to_value(&job).expect("a Job serializes"),
        sent,
        "a field of the manifest is not a Job's"
    );
    let spec = job.spec.expect("a spec");
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    let shards = spec.completions.expect("completions");
    assert_eq!(spec.parallelism, Some(shards), "every shard at once");
    let pod = spec.template.spec.expect("a pod spec");
    let [container] = pod.containers.as_slice() else {
        panic!("one container: {:?}", pod.containers)
    };
    let env = |name: &str| {
        container
            .env
            .iter()
            .flatten()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
            .unwrap_or_else(|| panic!("{name} is set"))
    };
    assert_eq!(
        env("SHARDS"),
        shards.to_string(),
        "SHARDS is the completions"
    );
    let script = container.args.iter().flatten().cloned().collect::<String>();
    assert!(
        script.contains(
            r#"stallsim explore "$SCENARIO" --runs "$RUNS" --seed "$SEED" --shard "$SHARDS""#
        ) && script.contains("--json"),
        "{script}"
    );
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(env("SCENARIO"));
    assert!(scenario.is_file(), "{} is bundled", scenario.display());
}
