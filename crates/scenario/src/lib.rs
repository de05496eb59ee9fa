//! Scenario files: parse and check them, and turn them into a [`WorldConfig`] and an [`Expect`].
//!
//! A scenario file is a Kubernetes-object-like YAML document:
//!
//! ```yaml
//! apiVersion: stallsim/v1alpha1
//! kind: Scenario
//! metadata:
//!   name: grm-deletion-stall
//! spec:
//!   replicas: [{name: grm-0, startAt: 0s}, {name: grm-1, startAt: 40s}]
//!   deletionFlow: {deleteAt: 60s}
//!   faults: [{at: 50s, kill: grm-0, down: 2m}]
//!   expect: {verdict: stall, stalledReplica: grm-1}
//! ```
//!
//! Every field is optional except `apiVersion`, `kind` and `metadata.name`
//! (`spec.expect.verdict` too, for `stallsim test`); defaults are the incident's timing constants (the
//! `Default` impls of the config types), so a file names only what differs.
//! Durations are Go-style (`15s`, `3m`, `1m30s`, `800ms`, `1h`). Unknown
//! fields are rejected.
//!
//! Every error is a [`ScenarioError`] naming the file, line, column and field
//! path, and what would be accepted. This crate reads files and nothing else:
//! it knows the config types of the harness, never how a world runs.

mod convert;
mod discover;
mod duration;
mod error;
mod expect;
mod file;
mod locate;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;
use stallsim_harness::WorldConfig;

pub use convert::{API_VERSION, KIND};
pub use discover::discover;
pub use error::ScenarioError;
pub use expect::{Expect, ExpectedVerdict};

/// Scenario files larger than this are refused unread.
const FILE_BYTES_MAX: u64 = 1024 * 1024;

/// A checked scenario file: the world it describes and what its run must come to.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file it was read from.
    pub path: PathBuf,
    /// `metadata.description`, if any.
    pub description: Option<String>,
    /// The world; `config.seed` is the file's default seed (`spec.seed`, else 1).
    pub config: WorldConfig,
    /// `spec.expect`, or the error to report where one is needed.
    expect: Result<Expect, ScenarioError>,
}

impl Scenario {
    /// `spec.expect`; a file without one fails here, with the place it
    /// belongs, for `stallsim test` to report (`run` needs none).
    pub fn expectation(&self) -> Result<&Expect, ScenarioError> {
        self.expect.as_ref().map_err(Clone::clone)
    }
}

/// Reads and checks the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = std::fs::File::open(path)
        .map_err(|e| ScenarioError::file(path, format!("cannot open the file: {e}")))?;
    let mut bytes = Vec::new();
    file.take(FILE_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ScenarioError::file(path, format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > FILE_BYTES_MAX {
        return Err(ScenarioError::file(
            path,
            format!("the file is larger than {FILE_BYTES_MAX} bytes; expected a scenario file of at most that size"),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        ScenarioError::file(
            path,
            format!("the file is not UTF-8 text ({e}); expected a UTF-8 YAML document"),
        )
    })?;
    parse(path, &text)
}

/// Checks the scenario `text`, as read from `path` (which is only named in
/// errors and the result; nothing is read).
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let document: Spanned<file::File> =
        serde_saphyr::from_str(text).map_err(|e| locate::yaml_error(path, text, &e))?;
    let f = &document.value;
    if f.api_version.is_none() && f.kind.is_none() && f.metadata.is_none() && f.spec.is_none() {
        return Err(ScenarioError::file(
            path,
            format!("the file holds no scenario; expected a document starting with `apiVersion: {API_VERSION}` and `kind: {KIND}`"),
        ));
    }
    let converted = convert::convert(path, &document)?;
    Ok(Scenario {
        path: path.to_path_buf(),
        description: converted.description,
        config: converted.config,
        expect: converted.expect,
    })
}
