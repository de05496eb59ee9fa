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
mod estimates;
mod expect;
mod file;
mod read;
mod refuse;
mod schema;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::time::Duration;

use stallsim_harness::{Program, WorldConfig};

pub use bounds::COST_MULTIPLE_MAX;
pub use convert::{API_VERSION, KIND};
pub use discover::{discover, FOUND_DIR};
pub use error::ScenarioError;
pub use estimates::{estimate_of, estimates_markdown, Estimate, ESTIMATES};
pub use expect::{AlertExpectation, ApiRequestBounds, Expect, ExpectedVerdict};
pub use schema::json_schema;

/// Parses a Go-style duration (`15s`, `3m`, `1m30s`, `800ms`) as scenario
/// files do, for arguments that take one; the error says what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    duration::parse(text).map_err(|e| format!("{e}; expected {}", duration::ACCEPTED))
}

/// Writes a duration as a scenario file would (`500ms`, `1.83s`, `1m30s`),
/// so that [`parse_duration`] reads it back.
pub fn format_duration_text(duration: Duration) -> String {
    duration::format(duration)
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
    /// The estimated constants [`Scenario::world_estimated`] draws: those
    /// the file leaves unset, and whose whole plausible range its other
    /// fields allow.
    estimated: Vec<&'static Estimate>,
    /// The code bound to the programs the file names
    /// ([`Scenario::bind_program`]); every world is given it.
    programs: Vec<Program>,
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
    /// Drawn from an estimated constant's plausible range
    /// ([`Scenario::world_estimated`]), not from a range of the file.
    pub estimated: bool,
    /// Where the range is written in the file's text (byte offset, length).
    text_span: Option<(usize, usize)>,
}

impl std::fmt::Display for Draw {
    /// `spec.deletionFlow.deleteAt = 42.5s (from 30s..50s)`, and for an
    /// estimated constant `... (from its plausible 500ms..5s)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} = {} (from {}{}..{})",
            self.field,
            duration::format(self.value),
            if self.estimated { "its plausible " } else { "" },
            duration::format(self.range.0),
            duration::format(self.range.1)
        )
    }
}

impl Scenario {
    /// Binds `program`'s code to the components whose `program:` names
    /// it, in every world of the file from now on (a program bound again
    /// replaces the code bound before). The error says which programs the
    /// file names when none is `program`'s.
    pub fn bind_program(mut self, program: Program) -> Result<Scenario, ScenarioError> {
        let mut config = self.config.clone();
        if !config.bind_program(&program) {
            let named = self.program_names();
            return Err(ScenarioError::file(
                &self.path,
                format!(
                    "no component runs a program named `{}`; expected one of the programs the file names{}",
                    program.name(),
                    if named.is_empty() {
                        " (it names none: a component runs one with `program: <name>`)".to_string()
                    } else {
                        format!(": {}", named.join(", "))
                    }
                ),
            ));
        }
        self.programs.retain(|p| p.name() != program.name());
        self.programs.push(program);
        Ok(self)
    }

    /// The programs the file's components name, in order, each once.
    pub fn program_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for component in &self.config.components {
            if let Some(program) = component.process.program() {
                if !names.iter().any(|n| n == program.name()) {
                    names.push(program.name().to_string());
                }
            }
        }
        names
    }

    /// The programs the file names that no code is bound to yet.
    pub fn unbound_programs(&self) -> Vec<String> {
        self.program_names()
            .into_iter()
            .filter(|name| !self.programs.iter().any(|p| p.name() == name))
            .collect()
    }

    /// `config` with the bound programs' code filled in.
    fn bind(&self, mut config: WorldConfig) -> WorldConfig {
        for program in &self.programs {
            config.bind_program(program);
        }
        config
    }

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

    /// Like [`Scenario::world`], but the duration fields named in `chosen`
    /// (`spec.deletionFlow.deleteAt`) take the given value instead of
    /// their draw, clamped to their range, or instead of the value written
    /// or defaulted: how an exploration holds every other draw still while
    /// it moves one. Moving only ranged fields, the world is always valid;
    /// for other fields see [`Scenario::try_world_with`].
    pub fn world_with(&self, seed: u64, chosen: &BTreeMap<String, Duration>) -> Drawn {
        self.try_world_with(seed, chosen)
            .expect("a file that converted once converts under any seed and any draw of its ranges")
    }

    /// Like [`Scenario::world_with`], for values chosen for any duration
    /// field: a value may break a relation with another field (a
    /// `latencyMin` above the file's `latencyMax`), which is this error.
    pub fn try_world_with(
        &self,
        seed: u64,
        chosen: &BTreeMap<String, Duration>,
    ) -> Result<Drawn, ScenarioError> {
        if !self.has_ranges && chosen.is_empty() {
            return Ok(Drawn {
                config: self.bind(WorldConfig {
                    seed,
                    ..self.config.clone()
                }),
                draws: Vec::new(),
            });
        }
        let converted = convert_text(&self.path, &self.text, Some(seed), chosen)?;
        Ok(Drawn {
            config: self.bind(converted.config),
            draws: converted.draws,
        })
    }

    /// The value of the duration field `field` (`spec.kubelet.processStart`)
    /// in the world of the run with `seed`, written, drawn or defaulted;
    /// `None` for a field this world does not have (no deletion flow).
    pub fn duration_of(&self, seed: u64, field: &str) -> Option<Duration> {
        convert_text(&self.path, &self.text, Some(seed), &BTreeMap::new())
            .ok()?
            .values
            .get(field)
            .copied()
    }

    /// The estimated constants [`Scenario::world_estimated`] draws: those
    /// the file leaves unset (a file that writes one has chosen it), and
    /// whose whole plausible range the file's other fields allow.
    pub fn estimated(&self) -> &[&'static Estimate] {
        &self.estimated
    }

    /// Like [`Scenario::world`], and every constant of
    /// [`Scenario::estimated`] drawn too, each from its plausible range in
    /// whole milliseconds under the seed and its field's name, as a range
    /// of the file would be: the world of a run that covers the model's
    /// own uncertainty. Its draws list these after the file's, marked
    /// `estimated`.
    pub fn world_estimated(&self, seed: u64) -> Drawn {
        let mut chosen = BTreeMap::new();
        let mut estimated = Vec::new();
        for e in &self.estimated {
            let (least, greatest) = e.plausible;
            let choices = (greatest - least).as_millis() as u64 + 1;
            let value = least
                + Duration::from_millis(stallsim_harness::mix_seed(seed, e.field, 0) % choices);
            chosen.insert(e.field.to_string(), value);
            estimated.push(Draw {
                field: e.field.to_string(),
                range: e.plausible,
                value,
                estimated: true,
                text_span: None,
            });
        }
        let mut drawn = self.try_world_with(seed, &chosen).expect(
            "each estimate's plausible range was checked against the file when it was read",
        );
        drawn.draws.extend(estimated);
        drawn
    }

    /// [`Scenario::fixed_text`] for a run that broke the file's property,
    /// saved to become a regression test: it states the property it must
    /// hold once fixed, the file's own `expect`, else convergence (what an
    /// exploration holds a file without one to), so that `stallsim test`
    /// and `cargo test` read the same assertion from it.
    pub fn regression_text(&self, seed: u64) -> Result<String, ScenarioError> {
        self.regression_text_of(self.fixed_text(seed)?, &self.world(seed))
    }

    /// Like [`Scenario::regression_text`] for the world of
    /// [`Scenario::world_estimated`], its estimated constants' draws
    /// written in as [`Scenario::fixed_text_estimated`] writes them.
    pub fn regression_text_estimated(&self, seed: u64) -> Result<String, ScenarioError> {
        self.regression_text_of(
            self.fixed_text_estimated(seed)?,
            &self.world_estimated(seed),
        )
    }

    fn regression_text_of(&self, fixed: String, drawn: &Drawn) -> Result<String, ScenarioError> {
        let text = expect_converges_if_silent(&fixed);
        let saved = parse(&self.path, &text)?;
        let expected = self.expect.clone().unwrap_or_else(|_| Expect::converges());
        if saved.expect.as_ref().ok() != Some(&expected) || self.bind(saved.config) != drawn.config
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
        self.fixed_text_of(seed, &self.world(seed))
    }

    /// Like [`Scenario::fixed_text`] for the world of
    /// [`Scenario::world_estimated`]: the estimated constants' draws are
    /// written into the file too, each as a field of its section.
    pub fn fixed_text_estimated(&self, seed: u64) -> Result<String, ScenarioError> {
        self.fixed_text_of(seed, &self.world_estimated(seed))
    }

    fn fixed_text_of(&self, seed: u64, drawn: &Drawn) -> Result<String, ScenarioError> {
        let cannot = || {
            ScenarioError::file(
                &self.path,
                "cannot write a self-contained copy of this file; expected `spec:` written as a block mapping (one field a line)",
            )
        };
        let mut draws: Vec<&Draw> = drawn.draws.iter().filter(|d| !d.estimated).collect();
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
        for draw in drawn.draws.iter().filter(|d| d.estimated) {
            text =
                set_field(&text, &draw.field, &duration::format(draw.value)).ok_or_else(cannot)?;
        }
        let text = set_seed(&text, seed);
        let fixed = parse(&self.path, &text)?;
        if fixed.has_ranges || self.bind(fixed.config) != drawn.config {
            return Err(cannot());
        }
        Ok(text)
    }
}

/// `text` with the field `spec.<section>.<name>` set to `value`, for a
/// field the file does not write: a line in the section when it is a block
/// mapping, the pair in its braces when it is a flow mapping on one line,
/// or a new section at the end of `spec`. `None` when the file's shape is
/// not one of these.
fn set_field(text: &str, field: &str, value: &str) -> Option<String> {
    let mut parts = field.split('.');
    let (Some("spec"), Some(section), Some(name), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let spec = lines.iter().position(|l| l.trim_end() == "spec:")?;
    let spec_end = lines[spec + 1..]
        .iter()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && indent(l) == 0)
        .map_or(lines.len(), |i| spec + 1 + i);
    let child = lines[spec + 1..spec_end]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map_or(2, |l| indent(l));
    let key = format!("{section}:");
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let at = (spec + 1..spec_end)
        .find(|i| indent(lines[*i]) == child && lines[*i].trim_start().starts_with(&key));
    match at {
        None => {
            out.insert(
                spec_end,
                format!("{}{section}: {{{name}: {value}}}", " ".repeat(child)),
            );
        }
        Some(i) => {
            let rest = lines[i].trim_start()[key.len()..].trim();
            if rest.is_empty() || rest.starts_with('#') {
                let inner = lines[i + 1..spec_end]
                    .iter()
                    .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .map(|l| indent(l))
                    .filter(|n| *n > child)
                    .unwrap_or(child + 2);
                out.insert(i + 1, format!("{}{name}: {value}", " ".repeat(inner)));
            } else if rest.starts_with('{') {
                let open = lines[i].find('{')?;
                let close_empty = rest.trim_start_matches('{').trim_start().starts_with('}');
                let pair = if close_empty {
                    format!("{name}: {value}")
                } else {
                    format!("{name}: {value}, ")
                };
                let mut line = lines[i].to_string();
                line.insert_str(open + 1, &pair);
                out[i] = line;
            } else {
                return None;
            }
        }
    }
    let mut joined = out.join("\n");
    joined.push('\n');
    Some(joined)
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
    let estimated = ESTIMATES
        .iter()
        .filter(|e| !converted.written.iter().any(|w| w == e.field))
        .filter(|e| {
            [e.plausible.0, e.plausible.1].into_iter().all(|end| {
                let chosen = BTreeMap::from([(e.field.to_string(), end)]);
                convert_text(path, text, None, &chosen).is_ok()
            })
        })
        .collect();
    Ok(Scenario {
        path: path.to_path_buf(),
        description: converted.description,
        text: text.to_string(),
        config: converted.config,
        has_ranges: !converted.draws.is_empty(),
        expect: converted.expect,
        estimated,
        programs: Vec::new(),
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
