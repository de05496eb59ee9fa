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

#![warn(missing_docs)]

mod bounds;
mod convert;
mod discover;
mod duration;
mod error;
mod expect;
mod file;
mod read;
mod refuse;
mod schema;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::time::Duration;

use stallsim_harness::WorldConfig;

pub use bounds::COST_MULTIPLE_MAX;
pub use convert::{API_VERSION, KIND};
pub use discover::{discover, FOUND_DIR};
pub use error::ScenarioError;
pub use expect::{ApiRequestBounds, Expect, ExpectedVerdict};
pub use schema::json_schema;

/// Parses a Go-style duration (`15s`, `3m`, `1m30s`, `800ms`) as scenario
/// files do, for arguments that take one; the error says what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    duration::parse(text).map_err(|e| format!("{e}; expected {}", duration::ACCEPTED))
}

/// Scenario files larger than this are refused unread.
const FILE_BYTES_MAX: u64 = 1024 * 1024;

/// A checked scenario file: the worlds it describes and what their runs
/// must come to.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file it was read from.
    pub path: PathBuf,
    /// `metadata.description`, if any.
    pub description: Option<String>,
    /// The file as read, for [`Scenario::world`] and [`Scenario::fixed_text`].
    text: String,
    /// The world with the file's own seed (`spec.seed`, else 1).
    config: WorldConfig,
    /// Whether the file has ranges: worlds differ by more than their seed.
    has_ranges: bool,
    /// `spec.expect`, or the error to report where one is needed.
    expect: Result<Expect, ScenarioError>,
}

/// The world of one run, and the values drawn for it from the file's ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    /// The world of the run.
    pub config: WorldConfig,
    /// One per range of the file, in the order of the file.
    pub draws: Vec<Draw>,
}

/// A value drawn from a range of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draw {
    /// The field, as errors name it (`spec.deletionFlow.deleteAt`).
    pub field: String,
    /// The range as written: its least and greatest value.
    pub range: (Duration, Duration),
    /// The value drawn.
    pub value: Duration,
    /// Where the range is written in the file's text (byte offset, length).
    text_span: Option<(usize, usize)>,
}

impl std::fmt::Display for Draw {
    /// `spec.deletionFlow.deleteAt = 42.5s (from 30s..50s)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} = {} (from {}..{})",
            self.field,
            duration::format(self.value),
            duration::format(self.range.0),
            duration::format(self.range.1)
        )
    }
}

impl Scenario {
    /// `spec.expect`; a file without one fails here, with the place it
    /// belongs, for `stallsim test` to report (`run` needs none).
    pub fn expectation(&self) -> Result<&Expect, ScenarioError> {
        self.expect.as_ref().map_err(Clone::clone)
    }

    /// The world of the run with the file's own seed.
    pub fn config(&self) -> WorldConfig {
        self.world(self.seed()).config
    }

    /// The file's own seed: `spec.seed`, else 1.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// The world of the run with `seed`: every range of the file drawn
    /// under that seed, so the same seed gives the same world.
    pub fn world(&self, seed: u64) -> Drawn {
        self.world_with(seed, &BTreeMap::new())
    }

    /// Like [`Scenario::world`], but the ranged fields named in `chosen`
    /// (`spec.deletionFlow.deleteAt`) take the given value, clamped to
    /// their range, instead of a draw: how an exploration holds every
    /// other draw still while it moves one.
    pub fn world_with(&self, seed: u64, chosen: &BTreeMap<String, Duration>) -> Drawn {
        if !self.has_ranges {
            return Drawn {
                config: WorldConfig {
                    seed,
                    ..self.config.clone()
                },
                draws: Vec::new(),
            };
        }
        let converted = convert_text(&self.path, &self.text, Some(seed), chosen)
            .expect("a file that converted once converts under any seed");
        Drawn {
            config: converted.config,
            draws: converted.draws,
        }
    }

    /// [`Scenario::fixed_text`] for a run that broke the file's property,
    /// saved to become a regression test: it states the property it must
    /// hold once fixed, the file's own `expect`, else convergence (what an
    /// exploration holds a file without one to), so that `stallsim test`
    /// and `cargo test` read the same assertion from it.
    pub fn regression_text(&self, seed: u64) -> Result<String, ScenarioError> {
        let text = expect_converges_if_silent(&self.fixed_text(seed)?);
        let saved = parse(&self.path, &text)?;
        let expected = self.expect.clone().unwrap_or_else(|_| Expect::converges());
        if saved.expect.as_ref().ok() != Some(&expected) || saved.config != self.world(seed).config
        {
            return Err(ScenarioError::file(
                &self.path,
                "cannot write a self-contained copy of this file with its property; expected `spec:` written as a block mapping (one field a line)",
            ));
        }
        Ok(text)
    }

    /// The file as written, made self-contained for the run with `seed`:
    /// `spec.seed` set to it and every range replaced by its draw, so that
    /// the text replays that run with no arguments. Checked: the text parses
    /// to the same world as `self.world(seed)`; a file whose `spec` is not a
    /// block mapping cannot be rewritten this way.
    pub fn fixed_text(&self, seed: u64) -> Result<String, ScenarioError> {
        let mut draws = self.world(seed).draws;
        // From the end, so that earlier offsets stay valid.
        draws.sort_by_key(|d| std::cmp::Reverse(d.text_span));
        let mut text = self.text.clone();
        for draw in &draws {
            let Some((offset, len)) = draw.text_span else {
                return Err(ScenarioError::file(
                    &self.path,
                    format!("cannot locate the range of {} in the file", draw.field),
                ));
            };
            text.replace_range(offset..offset + len, &duration::format(draw.value));
        }
        let text = set_seed(&text, seed);
        let fixed = parse(&self.path, &text)?;
        if fixed.has_ranges || fixed.config != self.world(seed).config {
            return Err(ScenarioError::file(
                &self.path,
                "cannot write a self-contained copy of this file; expected `spec:` written as a block mapping (one field a line)",
            ));
        }
        Ok(text)
    }
}

/// `text` with `spec.seed` set to `seed`: its value replaced where the file
/// names one, else a `seed:` line opening the spec.
fn set_seed(text: &str, seed: u64) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let spec = lines.iter().position(|l| l.trim_end() == "spec:");
    let child_indent = spec
        .and_then(|i| {
            lines[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(2);
    let mut out = Vec::with_capacity(lines.len() + 1);
    let mut done = false;
    for (i, line) in lines.iter().enumerate() {
        let indent = line.len() - line.trim_start().len();
        if !done
            && spec.is_some_and(|s| i > s)
            && indent == child_indent
            && line.trim_start().starts_with("seed:")
        {
            out.push(format!("{}seed: {seed}", &line[..indent]));
            done = true;
            continue;
        }
        out.push(line.to_string());
        if !done && Some(i) == spec && !text_has_spec_seed(&lines, i, child_indent) {
            out.push(format!("{}seed: {seed}", " ".repeat(child_indent)));
            done = true;
        }
    }
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

/// Whether the spec opening at line `spec` names `seed:` among its children.
fn text_has_spec_seed(lines: &[&str], spec: usize, child_indent: usize) -> bool {
    text_has_spec_key(lines, spec, child_indent, "seed:")
}

/// Whether the spec opening at line `spec` names `key` (`seed:`) among
/// its children.
fn text_has_spec_key(lines: &[&str], spec: usize, child_indent: usize, key: &str) -> bool {
    lines[spec + 1..]
        .iter()
        .take_while(|l| {
            l.trim().is_empty()
                || l.trim_start().starts_with('#')
                || l.len() - l.trim_start().len() >= child_indent
        })
        .any(|l| l.len() - l.trim_start().len() == child_indent && l.trim_start().starts_with(key))
}

/// `text` (a fixed text, with its `spec.seed` line) with `expect:` set to
/// convergence after the seed line when the spec names no `expect`.
fn expect_converges_if_silent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(spec) = lines.iter().position(|l| l.trim_end() == "spec:") else {
        return text.to_string();
    };
    let Some(seed) = lines[spec + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with("seed:"))
        .map(|i| spec + 1 + i)
    else {
        return text.to_string();
    };
    let indent = lines[seed].len() - lines[seed].trim_start().len();
    if text_has_spec_key(&lines, spec, indent, "expect:") {
        return text.to_string();
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    out.insert(
        seed + 1,
        format!(
            "{}expect: {{verdict: converges}}  # the property this run broke",
            " ".repeat(indent)
        ),
    );
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
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
    let converted = convert_text(path, text, None, &BTreeMap::new())?;
    Ok(Scenario {
        path: path.to_path_buf(),
        description: converted.description,
        text: text.to_string(),
        config: converted.config,
        has_ranges: !converted.draws.is_empty(),
        expect: converted.expect,
    })
}

/// Parses and converts `text` for the run with `seed` (the file's own when `None`).
fn convert_text(
    path: &Path,
    text: &str,
    seed: Option<u64>,
    chosen: &BTreeMap<String, Duration>,
) -> Result<convert::Converted, ScenarioError> {
    let document = read::read(path, text)?;
    let f = &document.value;
    if f.api_version.is_none() && f.kind.is_none() && f.metadata.is_none() && f.spec.is_none() {
        return Err(ScenarioError::file(
            path,
            format!("the file holds no scenario; expected a document starting with `apiVersion: {API_VERSION}` and `kind: {KIND}`"),
        ));
    }
    convert::convert(path, &document, seed, chosen)
}
