//! Writing the runs that did not hold the property as self-contained
//! scenario files, so that each replays alone and can become a test.

use std::path::{Path, PathBuf};

use stallsim_scenario::Scenario;

use std::collections::BTreeMap;

use crate::output::replay_command;
use crate::summary::Saved;
use crate::tally::FailedRun;

/// Files one exploration writes at most; a rare failure needs a few
/// examples, not thousands of copies.
pub const SAVED_FILES_MAX: usize = 100;

/// Where failures go unless `--save` says: `regressions/` beside the file.
pub fn default_dir(scenario_file: &Path) -> PathBuf {
    scenario_file
        .parent()
        .unwrap_or(Path::new(""))
        .join("regressions")
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

/// Writes the first [`SAVED_FILES_MAX`] failing runs (in seed order) to
/// `dir`, creating it only if there is something to write.
pub fn save_failures(
    scenario: &Scenario,
    failures: &BTreeMap<u64, FailedRun>,
    dir: &Path,
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
    let name = scenario.config().name;
    for (&seed, failed) in failures.iter().take(SAVED_FILES_MAX) {
        let path = dir.join(file_name(&name, seed));
        let written = scenario
            .fixed_text(seed)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                let header = header(&scenario.path, seed, failed, &path);
                let from = scenario.path.parent().unwrap_or(Path::new("."));
                let text = crate::modeline::retarget(&text, from, dir);
                std::fs::write(&path, header + &text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            });
        match written {
            Ok(()) => {
                // Its timeline picture beside it, `<name>-seed-<N>.svg`.
                if let Err(error) = crate::timeline_svg::write_beside(&path, scenario, seed) {
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
            Path::new("scenarios/regressions")
        );
        assert_eq!(default_dir(Path::new("x.yaml")), Path::new("regressions"));
    }
}
