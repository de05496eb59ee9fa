//! Writing the runs that did not hold the property as self-contained
//! scenario files, each with its timeline picture beside it, so that each
//! replays alone and can become a test. The files' contents are drawn in
//! the exploration's workers from the runs that failed ([`draw`]); only
//! the writing happens here afterwards ([`write`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use stallsim::explore::{Estimates, FailedRun, FoundFailure};
use stallsim::show::replay_command;
use stallsim::Scenario;

use super::modeline;
use super::summary::Saved;

/// Files one exploration writes at most; a rare failure needs a few
/// examples, not thousands of copies.
pub const SAVED_FILES_MAX: usize = 100;

/// Where failures go unless `--save` says: `found/` beside the file. Not
/// `regressions/`: a saved failure becomes one of the project's tests
/// only when someone moves it there, so an exploration never turns the
/// test suite red by itself.
pub fn default_dir(scenario_file: &Path) -> PathBuf {
    scenario_file
        .parent()
        .unwrap_or(Path::new(""))
        .join(stallsim_scenario::FOUND_DIR)
}

/// `<scenario-name>-seed-<N>.yaml`, with anything but letters, digits,
/// `-`, `_` and `.` in the name replaced by `-`.
pub fn file_name(scenario: &str, seed: u64) -> String {
    let name: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{name}-seed-{seed}.yaml")
}

/// One failing run, ready to write: where, the scenario file (or why it
/// cannot be written), and its picture.
pub struct Drawn {
    path: PathBuf,
    text: Result<String, String>,
    svg: String,
}

/// Draws what is saved of `found`, a failing run of `scenario` whose file
/// will go to `dir`: called in the worker that ran it.
pub fn draw(
    found: &FoundFailure<'_>,
    scenario: &Scenario,
    name: &str,
    dir: &Path,
    estimates: Estimates,
) -> Drawn {
    let seed = found.seed;
    let path = dir.join(file_name(name, seed));
    // The modeline is rewritten relative to `dir`, which must exist for
    // that; `write` reports it if it cannot be made.
    let _ = std::fs::create_dir_all(dir);
    let failed = FailedRun {
        verdict: found.record.verdict_words.clone(),
        why: found.record.mismatches.clone(),
    };
    // With drawn estimates, the file names each as a field: it replays
    // the run without `--estimates`.
    let fixed = match estimates {
        Estimates::AsWritten => scenario.regression_text(seed),
        Estimates::Plausible => scenario.regression_text_estimated(seed),
    };
    let text = fixed.map_err(|e| e.to_string()).map(|text| {
        let from = scenario.path().parent().unwrap_or(Path::new("."));
        header(scenario.path(), seed, &failed, &path) + &modeline::retarget(&text, from, dir)
    });
    // Its timeline picture, `<name>-seed-<N>.svg`, names the saved file.
    let svg = stallsim::show::svg(&path, &found.drawn.config, found.run);
    Drawn { path, text, svg }
}

/// Writes the drawn failures (the first [`SAVED_FILES_MAX`] of
/// `failures`, in seed order) to `dir`, creating it only if there is
/// something to write.
pub fn write(
    dir: &Path,
    failures: &BTreeMap<u64, FailedRun>,
    drawn: BTreeMap<u64, Drawn>,
) -> Saved {
    let mut saved = Saved {
        dir: dir.to_path_buf(),
        ..Saved::default()
    };
    if failures.is_empty() {
        return saved;
    }
    saved.not_written = failures.len().saturating_sub(SAVED_FILES_MAX) as u64;
    if let Err(error) = std::fs::create_dir_all(dir) {
        saved.errors.push(format!(
            "cannot create {}: {error}; no file was written",
            dir.display()
        ));
        saved.not_written = failures.len() as u64;
        return saved;
    }
    for (_, Drawn { path, text, svg }) in drawn {
        let written = text.and_then(|text| {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        });
        match written {
            Ok(()) => {
                if let Err(error) = super::write_file(&path.with_extension("svg"), "timeline", &svg)
                {
                    saved.errors.push(error);
                }
                saved.written.push(path);
            }
            Err(error) => {
                saved.not_written += 1;
                saved.errors.push(error);
            }
        }
    }
    saved
}

/// The comment a saved file opens with.
fn header(source: &Path, seed: u64, failed: &FailedRun, saved: &Path) -> String {
    let mut text = format!(
        "# Saved by `stallsim explore` from {}, seed {seed}.\n\
         # verdict: {}\n",
        source.display(),
        failed.verdict,
    );
    for why in &failed.why {
        text.push_str(&format!("# why: {}\n", why.replace('\n', " ")));
    }
    text.push_str(&format!(
        "# replay: {}\n\
         # or this file alone: cargo run --release -- run {}\n",
        replay_command(source, seed),
        saved.display()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_name_the_seed() {
        assert_eq!(
            file_name("grm-deletion-stall", 7),
            "grm-deletion-stall-seed-7.yaml"
        );
        assert_eq!(file_name("a/b c", 1), "a-b-c-seed-1.yaml");
    }

    #[test]
    fn failures_go_beside_the_scenario_by_default() {
        assert_eq!(
            default_dir(Path::new("scenarios/x.yaml")),
            Path::new("scenarios/found")
        );
        assert_eq!(default_dir(Path::new("x.yaml")), Path::new("found"));
    }
}
