//! Finding scenario files: every `*.yaml`/`*.yml` under a directory.

use std::path::{Path, PathBuf};

use crate::error::ScenarioError;

/// Directories nested deeper than this below the starting one are an error,
/// not a reason to keep walking.
const DEPTH_MAX: usize = 16;

/// The directory, beside an explored file, where `stallsim explore` saves
/// the failing runs it found. [`discover`] does not descend into one: a
/// found failure becomes a test only when someone moves it (to
/// `regressions/`), so exploring never changes what a directory's tests
/// are.
pub const FOUND_DIR: &str = "found";

/// All `*.yaml`/`*.yml` files under `dir`, recursively, sorted by path,
/// except under directories named [`FOUND_DIR`] below `dir`.
///
/// Symbolic links to files are listed; symbolic links to directories are not
/// followed.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut found = Vec::new();
    walk(dir, 0, &mut found)?;
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    if depth > DEPTH_MAX {
        return Err(ScenarioError::file(
            dir,
            format!("directories nest too deep; expected at most {DEPTH_MAX} levels below the scenario directory"),
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ScenarioError::file(
            dir,
            format!("cannot list the directory: {e}; expected a readable directory"),
        )
    })?;
    for entry in entries {
        let entry = entry
            .map_err(|e| ScenarioError::file(dir, format!("cannot list the directory: {e}")))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| ScenarioError::file(&path, format!("cannot tell what this is: {e}")))?;
        if kind.is_dir() {
            if entry.file_name() != FOUND_DIR {
                walk(&path, depth + 1, found)?;
            }
        } else if is_scenario_name(&path) && (kind.is_file() || path.is_file()) {
            found.push(path);
        }
    }
    Ok(())
}

fn is_scenario_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}
