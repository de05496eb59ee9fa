//! `stallsim serve` with real kubectl: the sequence the README shows, as
//! against a cluster. kubectl is taken from `$KUBECTL`, else from `PATH`
//! (`.ci/run` installs it when absent).

mod serve_support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serve_support::{manifest, refused, test_dir, texts, Served};

/// How long to wait for a line that should come at once; a guard against
/// a hang, not a measure of speed.
const LINE_WAIT_MAX: Duration = Duration::from_secs(60);

/// Attempts, one `ATTEMPT_PAUSE` apart, to see the resource gone after its
/// CRD was deleted (the server removes it after its finalizer and lags).
const GONE_ATTEMPTS_MAX: u32 = 100;
const ATTEMPT_PAUSE: Duration = Duration::from_millis(100);

/// The README's gear (examples/serve/gear.yaml) with another name and
/// number of teeth.
fn widget(name: &str, teeth: u32) -> String {
    let gear = std::fs::read_to_string(manifest("gear.yaml")).expect("examples/serve/gear.yaml");
    gear.replace("name: gear", &format!("name: {name}"))
        .replace("teeth: 12", &format!("teeth: {teeth}"))
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
    let served = Served::start("kubectl", &[]);

    let resources = served.ok(&["api-resources"]);
    for line in ["customresourcedefinitions", "leases", "configmaps"] {
        assert!(resources.contains(line), "{resources}");
    }
    assert!(resources.contains("crd,crds"), "{resources}");
    let crds = served.kubectl(&["get", "crds"]);
    assert!(crds.status.success(), "{crds:?}");
    assert!(texts(&crds).1.contains("No resources found"), "{crds:?}");

    let crd_file = manifest("crd.yaml").display().to_string();
    let applied = served.ok(&["apply", "-f", &crd_file]);
    assert!(applied.contains("widgets.example.com created"), "{applied}");
    let crds = served.ok(&["get", "crds", "-o", "name"]);
    assert_eq!(
        crds.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com"
    );

    let gear = manifest("gear.yaml").display().to_string();
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
    let served = Served::start("scenario", &["scenarios/grm-deletion-stall.yaml"]);
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
    let missing = refused(&["no/such/scenario.yaml"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let address = refused(&["--listen", "not-an-address"]);
    assert_eq!(address.status.code(), Some(2), "{address:?}");
    // A port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let listen = taken.local_addr().unwrap().to_string();
    let busy = refused(&["--listen", &listen]);
    assert_eq!(busy.status.code(), Some(2), "{busy:?}");
    assert!(texts(&busy).1.contains("cannot listen"), "{busy:?}");
    let unwritable = refused(&["--kubeconfig", "/no/such/dir/kubeconfig"]);
    assert_eq!(unwritable.status.code(), Some(2), "{unwritable:?}");
    let small = refused(&["--max-bytes", "1000"]);
    assert_eq!(small.status.code(), Some(2), "{small:?}");
    assert!(
        texts(&small).1.contains("--max-bytes 1000 is too small"),
        "{small:?}"
    );
    let spaced = refused(&["--token", "a b"]);
    assert_eq!(spaced.status.code(), Some(2), "{spaced:?}");
}

#[test]
fn every_interface_without_a_token_is_refused() {
    let open = refused(&["--listen", "0.0.0.0:0"]);
    assert_eq!(open.status.code(), Some(2), "{open:?}");
    let (out, err) = texts(&open);
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: --listen 0.0.0.0:0 is not a loopback address")
            && err.contains("--token TOKEN or --generate-token"),
        "{err}"
    );
}

#[test]
fn with_a_token_requests_without_it_are_401() {
    // Loopback here: the test sends no traffic off the machine.
    let served = Served::start("token", &["--listen", "127.0.0.1:0", "--generate-token"]);
    let token = served
        .banner
        .iter()
        .find_map(|line| line.strip_prefix("token "))
        .expect("the generated token is printed once")
        .to_string();
    assert_eq!(token.len(), 64, "{token}");
    let kubeconfig = std::fs::read_to_string(&served.kubeconfig).unwrap();
    assert!(
        kubeconfig.contains(&format!("\"token\": \"{token}\"")),
        "{kubeconfig}"
    );
    let anonymous = served.http("GET", "/api", "", b"");
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    assert!(
        anonymous.contains("\"reason\":\"Unauthorized\""),
        "{anonymous}"
    );
    let wrong = served.http("GET", "/api", "Authorization: Bearer nope\r\n", b"");
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let allowed = served.http("GET", "/api", &bearer, b"");
    assert!(allowed.starts_with("HTTP/1.1 200"), "{allowed}");
}

#[test]
fn the_default_kubeconfig_is_private_and_removed_on_exit() {
    let dir = test_dir("private");
    let mut served = Served::start_in(dir, &[]);
    let kubeconfig = served.kubeconfig.clone();
    let private_dir = kubeconfig.parent().unwrap().to_path_buf();
    let mode = |path: &std::path::Path| {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&kubeconfig), 0o600);
    assert_eq!(mode(&private_dir), 0o700);
    assert!(served.ok(&["get", "crds", "-o", "name"]).is_empty());
    assert_eq!(served.interrupt(), Some(0));
    assert!(!kubeconfig.exists(), "{}", kubeconfig.display());
    assert!(!private_dir.exists(), "{}", private_dir.display());
}

#[test]
fn a_named_kubeconfig_replaces_a_symlink_and_is_kept() {
    let dir = test_dir("symlink");
    let target = dir.join("someone-elses-file");
    std::fs::write(&target, "not yours\n").unwrap();
    let link = dir.join("kubeconfig");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut served = Served::start_in(dir.clone(), &["--kubeconfig", link.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not yours\n");
    let written = std::fs::symlink_metadata(&link).unwrap();
    assert!(
        written.file_type().is_file(),
        "the link was replaced by a file"
    );
    assert_eq!(written.permissions().mode() & 0o777, 0o600);
    assert_eq!(served.interrupt(), Some(0));
    assert!(link.exists(), "a kubeconfig the user named is kept");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "no staged file left behind: {leftovers:?}"
    );
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

    let served = Served::start("job", &[]);
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
