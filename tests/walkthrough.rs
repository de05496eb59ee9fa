//! The README's walkthrough, as a newcomer types it: every `stallsim` line
//! of its first command block runs in a fresh git repository holding the
//! bundled scenarios, and leaves the tree clean and the tests passing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `stallsim ...` lines of the first `sh` block under "Five minutes
/// with stallsim", in order, split into words.
fn walkthrough_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("## Five minutes with stallsim")
        .nth(1)
        .expect("README has the walkthrough section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the walkthrough has a command block");
    let commands: Vec<Vec<String>> = block
        .lines()
        .filter_map(|line| line.strip_prefix("stallsim "))
        .map(|args| args.split_whitespace().map(str::to_owned).collect())
        .collect();
    assert!(commands.len() >= 5, "the block has its commands: {block}");
    commands
}

/// A fresh git repository under the target's scratch directory holding the
/// bundled scenarios and the project's `.gitignore`, committed.
fn checkout(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("scratch directory");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&manifest.join("scenarios"), &root.join("scenarios"));
    std::fs::copy(manifest.join(".gitignore"), root.join(".gitignore")).expect(".gitignore");
    git(&root, &["init", "--quiet"]);
    git(&root, &["add", "--all"]);
    git(
        &root,
        &[
            "-c",
            "user.name=walkthrough",
            "-c",
            "user.email=walkthrough@example.invalid",
            "commit",
            "--quiet",
            "--message",
            "the bundled scenarios",
        ],
    );
    root
}

/// Copies the tracked shape of `from` (saved failures a developer has
/// lying around in `found/` are not part of the repository).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory");
    for entry in std::fs::read_dir(from).expect("readable directory") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != stallsim_scenario::FOUND_DIR {
                copy_dir(&path, &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

fn stallsim(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stallsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("stallsim runs")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Runs the walkthrough in `root`; every command ends with a verdict
/// (0: the property held, 1: it did not), none with bad input (2) or an
/// inconclusive run (3).
fn walk(root: &Path) {
    for args in walkthrough_commands() {
        let out = stallsim(root, &args);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "`stallsim {}` exited {code:?}:\n{}",
            args.join(" "),
            text(&out)
        );
    }
}

/// The repository the walkthrough ran in, walked once for every test here.
fn walked() -> &'static Path {
    static WALKED: OnceLock<PathBuf> = OnceLock::new();
    WALKED.get_or_init(|| {
        let root = checkout("walkthrough");
        walk(&root);
        root
    })
}

fn saved_failures(root: &Path) -> Vec<PathBuf> {
    let found = root.join("scenarios").join(stallsim_scenario::FOUND_DIR);
    let mut saved: Vec<PathBuf> = std::fs::read_dir(&found)
        .map(|entries| entries.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    saved.retain(|path| path.extension().is_some_and(|ext| ext == "yaml"));
    saved.sort();
    saved
}

#[test]
fn the_walkthrough_leaves_the_tree_clean_and_the_tests_passing() {
    let root = walked();
    assert!(
        !saved_failures(root).is_empty(),
        "explore saved its failures under scenarios/found/"
    );
    assert!(root.join("out").join("stall.svg").is_file(), "the picture");
    assert_eq!(
        git(root, &["status", "--porcelain", "--untracked-files=all"]),
        "",
        "the walkthrough changed the tree"
    );
    let test = stallsim(root, &["test".into(), "scenarios".into()]);
    assert_eq!(test.status.code(), Some(0), "{}", text(&test));
}

#[test]
fn a_saved_failure_moved_to_regressions_fails_until_the_race_is_fixed() {
    let saved = saved_failures(walked());
    let first = saved.first().expect("a saved failure");
    let kept = std::fs::read_to_string(first).expect("saved file");
    // Kept in a clean copy of the repository, as a developer commits it.
    let root = checkout("walkthrough-regression");
    assert!(
        kept.contains("expect: {verdict: converges}"),
        "a saved failure states the property it broke:\n{kept}"
    );
    let regressions = root.join("scenarios").join("regressions");
    std::fs::create_dir_all(&regressions).expect("regressions/");
    let moved = regressions.join(first.file_name().expect("a file name"));
    std::fs::write(&moved, &kept).expect("keep");
    let test = stallsim(&root, &["test".into(), "scenarios".into()]);
    let out = text(&test);
    assert_eq!(test.status.code(), Some(1), "{out}");
    let name = moved.file_name().and_then(|n| n.to_str()).expect("utf-8");
    assert!(
        out.lines()
            .any(|line| line.starts_with("FAIL") && line.contains(name)),
        "the moved file is run and fails, not skipped:\n{out}"
    );
    // And the moved file replays on its own from its new place.
    let replay = stallsim(&root, &["run".into(), moved.display().to_string()]);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
}
