//! Shards on a cluster (docs/distributed.md): the image's build file names
//! what exists, and N shards run as the Indexed Job runs them (`--shard N`,
//! the index from JOB_COMPLETION_INDEX) merge into the unsharded run.
//! That the manifest applies is checked with kubectl in
//! `tests/serve_kubectl.rs`. No container engine runs here: the image
//! itself is not built by the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Each stage of the Containerfile: its base image, its name, its lines.
fn stages(text: &str) -> Vec<(String, String, Vec<String>)> {
    let mut stages: Vec<(String, String, Vec<String>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(from) = line.strip_prefix("FROM ") {
            let words: Vec<&str> = from.split_whitespace().collect();
            let [image, as_, name] = words.as_slice() else {
                panic!("`FROM image AS name`, not `{line}`")
            };
            assert!(as_.eq_ignore_ascii_case("as"), "{line}");
            stages.push((image.to_string(), name.to_string(), Vec::new()));
        } else {
            stages
                .last_mut()
                .expect("FROM first")
                .2
                .push(line.to_string());
        }
    }
    stages
}

#[test]
fn the_containerfile_builds_the_binary_and_copies_what_exists() {
    let text = std::fs::read_to_string(repo().join("Containerfile")).expect("a Containerfile");
    let stages = stages(&text);
    let [(build_image, build, build_lines), (runtime_image, _, runtime_lines)] = stages.as_slice()
    else {
        panic!("two stages, build and runtime: {stages:?}")
    };
    // The build stage's toolchain is at least the workspace's rust-version.
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("a rust-version");
    let tag = build_image
        .strip_prefix("docker.io/library/rust:")
        .expect("the official Rust image");
    let version = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap()).collect() };
    let built_with = tag.split('-').next().unwrap();
    assert!(version(built_with) >= version(wanted), "{tag} < {wanted}");
    // Build and runtime on one Debian release: the binary's glibc matches.
    let release = tag.rsplit('-').next().unwrap();
    assert!(
        runtime_image.ends_with(&format!(":{release}-slim")),
        "{runtime_image}"
    );
    assert!(
        build_lines.contains(&"COPY . .".to_string())
            && build_lines
                .contains(&"RUN cargo build --release --locked --bin stallsim".to_string()),
        "{build_lines:?}"
    );
    assert!(
        repo().join("Cargo.lock").is_file(),
        "--locked needs the lock file"
    );
    // The context leaves out what was built here.
    let ignored = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    assert!(ignored.lines().any(|l| l.trim() == "target/"), "{ignored}");
    // Every COPY --from=build names what the build stage has: the binary
    // cargo builds, and directories of the repository.
    let mut copied = 0;
    for line in runtime_lines {
        let Some(rest) = line.strip_prefix(&format!("COPY --from={build} ")) else {
            continue;
        };
        let source = rest.split_whitespace().next().unwrap();
        let inside = source
            .strip_prefix("/src/")
            .expect("from the build's WORKDIR /src");
        if inside != "target/release/stallsim" {
            assert!(
                repo().join(inside).exists(),
                "{inside} is not in the repository"
            );
        }
        copied += 1;
    }
    assert_eq!(copied, 2, "{runtime_lines:?}");
    assert!(
        runtime_lines.contains(&r#"ENTRYPOINT ["/usr/local/bin/stallsim"]"#.to_string()),
        "{runtime_lines:?}"
    );
}

fn explore(args: &[&str], job_index: Option<u64>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stallsim"));
    command.current_dir(repo()).args(args);
    if let Some(index) = job_index {
        command.env("JOB_COMPLETION_INDEX", index.to_string());
    }
    command.output().expect("the CLI runs")
}

#[test]
fn shards_run_as_the_indexed_job_runs_them_merge_into_the_whole() {
    const SHARDS: u64 = 3;
    let scenario = "scenarios/grm-deletion-stall-ranged.yaml";
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("distributed");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let save = dir.join("failures");
    let save = save.to_str().unwrap();
    let common = [
        "explore", scenario, "--runs", "8", "--seed", "1", "--jobs", "1", "--json", "--save", save,
    ];
    let mut files = Vec::new();
    for index in 0..SHARDS {
        let shards = SHARDS.to_string();
        let mut args = common.to_vec();
        args.extend(["--shard", shards.as_str()]);
        let output = explore(&args, Some(index));
        assert!(output.status.code().is_some_and(|c| c <= 1), "{output:?}");
        let file = dir.join(format!("shard-{index}.json"));
        std::fs::write(&file, &output.stdout).unwrap();
        files.push(file.display().to_string());
    }
    let mut merge = vec!["merge", "--json"];
    merge.extend(files.iter().map(String::as_str));
    let merged = explore(&merge, None);
    let whole = explore(&common, None);
    assert_eq!(merged.status.code(), whole.status.code());
    let json = |output: &Output| -> serde_json::Value {
        let mut summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        // The shards wrote the same files as the whole, once each.
        summary["saved"]["written"]
            .as_array_mut()
            .expect("a list")
            .sort_by_key(|f| f.as_str().map(str::to_string));
        summary
    };
    assert_eq!(json(&merged), json(&whole));
    assert!(json(&whole)["runs"] == 8 && json(&whole)["failed"].as_u64() > Some(0));
}
