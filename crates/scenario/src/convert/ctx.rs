//! The context of one conversion: errors placed in the file, the draws of
//! the run from the file's ranges of times, and the checks of a value
//! against the range `bounds.rs` gives its field.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_saphyr::Location;
use stallsim_harness::mix_seed;

use super::Result;
use crate::bounds::{CountRange, DurationRange, NumberRange};
use crate::duration::{self, Timing, ACCEPTED as DURATION_ACCEPTED};
use crate::error::ScenarioError;
use crate::file::{Dur, Tim, S};
use crate::Draw;

/// Errors about the file at `path`, and the draws of one run from its ranges.
pub(super) struct Ctx<'a> {
    pub path: &'a Path,
    /// The run's seed, which every range draws under.
    pub seed: u64,
    /// Values chosen for some ranged fields instead of drawing them.
    pub chosen: &'a BTreeMap<String, Duration>,
    pub draws: RefCell<Vec<Draw>>,
    /// Every duration field the file writes (a value or a range).
    pub written: RefCell<Vec<String>>,
    /// Every duration field converted, with its value in this world.
    pub values: RefCell<BTreeMap<String, Duration>>,
}

impl Ctx<'_> {
    /// The value of a duration field for this run: a value chosen for the
    /// field (`chosen`, clamped to a written range), else the one written,
    /// else a draw in whole milliseconds (the trace's resolution) from its
    /// range, under the run's seed and the field's name, so that one
    /// field's draw does not depend on the others. A ranged field records
    /// its draw.
    pub(super) fn time(&self, value: &S<Timing>, field: &str) -> Duration {
        self.written.borrow_mut().push(field.to_string());
        let timing = value.value;
        let chosen = self.chosen.get(field).copied();
        if !timing.is_range() {
            return chosen.unwrap_or(timing.least);
        }
        let choices = (timing.greatest - timing.least).as_millis() as u64 + 1;
        let drawn = match chosen {
            Some(chosen) => chosen.clamp(timing.least, timing.greatest),
            None => timing.least + Duration::from_millis(mix_seed(self.seed, field, 0) % choices),
        };
        let span = value.referenced.span();
        self.draws.borrow_mut().push(Draw {
            field: field.to_string(),
            range: (timing.least, timing.greatest),
            value: drawn,
            estimated: false,
            text_span: span
                .byte_offset()
                .zip(span.byte_len())
                .map(|(offset, len)| (offset as usize, len as usize)),
        });
        drawn
    }

    /// An optional time field: its value for this run, else the value
    /// chosen for it, else `default`.
    pub(super) fn time_or(&self, value: &Tim, default: Duration, field: &str) -> Duration {
        match value {
            Some(v) => self.time(v, field),
            None => self.chosen.get(field).copied().unwrap_or(default),
        }
    }

    /// The least and greatest value `field` can take in any run: its
    /// chosen value, else both ends of what is written, else `default`.
    /// Checks of one field against another compare these, so that a file
    /// accepted once is accepted under every seed.
    pub(super) fn ends(&self, value: &Dur, default: Duration, field: &str) -> (Duration, Duration) {
        if let Some(chosen) = self.chosen.get(field) {
            let chosen = match value {
                Some(v) if v.value.is_range() => (*chosen).clamp(v.value.least, v.value.greatest),
                _ => *chosen,
            };
            return (chosen, chosen);
        }
        match value {
            Some(v) => (v.value.least, v.value.greatest),
            None => (default, default),
        }
    }

    pub(super) fn error(
        &self,
        location: &Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.path, location, field, message)
    }

    /// A duration that, when given, must be above zero at both ends (the
    /// tick, whose range `check_tick` checks once the probes are known).
    pub(super) fn positive(&self, value: &Dur, default: Duration, field: &str) -> Result<Duration> {
        match value {
            Some(d) if d.value.least.is_zero() => Err(self.error(
                &d.referenced,
                field,
                format!("`0s` is not accepted here; expected {DURATION_ACCEPTED}, above zero"),
            )),
            Some(d) => Ok(self.time(d, field)),
            None => Ok(self.chosen.get(field).copied().unwrap_or(default)),
        }
    }

    /// A duration, or both ends of a range of durations, within `range`
    /// when given; its value for this run (see [`Ctx::time`]), else the
    /// value chosen for the field (within `range`), else `default`.
    pub(super) fn duration_in(
        &self,
        value: &Dur,
        default: Duration,
        field: &str,
        range: DurationRange,
    ) -> Result<Duration> {
        let value = match value {
            Some(d) => {
                self.timing_in(d, field, range)?;
                self.time(d, field).clamp(range.least, range.greatest)
            }
            None => self
                .chosen
                .get(field)
                .map_or(default, |c| (*c).clamp(range.least, range.greatest)),
        };
        self.values.borrow_mut().insert(field.to_string(), value);
        Ok(value)
    }

    /// A time, or both ends of a range of times, within `range`.
    pub(super) fn timing_in(
        &self,
        value: &S<Timing>,
        field: &str,
        range: DurationRange,
    ) -> Result<()> {
        let timing = value.value;
        match [timing.least, timing.greatest]
            .into_iter()
            .find(|end| !range.contains(*end))
        {
            Some(end) => Err(self.error(
                &value.referenced,
                field,
                format!(
                    "`{}` is not accepted here; expected {}",
                    duration::format(end),
                    range.accepted()
                ),
            )),
            None => Ok(()),
        }
    }

    /// A whole number within `range` when given, else `default`.
    pub(super) fn count_in(
        &self,
        value: &Option<S<u64>>,
        default: u64,
        field: &str,
        range: CountRange,
    ) -> Result<u64> {
        match value {
            Some(n) if !range.contains(n.value) => Err(self.error(
                &n.referenced,
                field,
                format!(
                    "`{}` is not accepted here; expected {}",
                    n.value,
                    range.accepted()
                ),
            )),
            Some(n) => Ok(n.value),
            None => Ok(default),
        }
    }

    /// A number within `range` when given, else `default` (NaN is in none).
    pub(super) fn number_in(
        &self,
        value: &Option<S<f64>>,
        default: f64,
        field: &str,
        range: NumberRange,
    ) -> Result<f64> {
        match value {
            Some(x) if !range.contains(x.value) => Err(self.error(
                &x.referenced,
                field,
                format!(
                    "`{}` is not accepted here; expected {}",
                    number_text(x.value),
                    range.accepted()
                ),
            )),
            Some(x) => Ok(x.value),
            None => Ok(default),
        }
    }

    /// The length of a list within `range`.
    pub(super) fn items_in<T>(
        &self,
        list: &S<Vec<T>>,
        field: &str,
        what: &str,
        range: CountRange,
    ) -> Result<()> {
        let len = list.value.len() as u64;
        if range.contains(len) {
            return Ok(());
        }
        Err(self.error(
            &list.referenced,
            field,
            format!(
                "{len} {what}; expected {} to {}",
                range.least, range.greatest
            ),
        ))
    }

    /// A backoff's `initial` and `cap`, each within `range`, the cap at
    /// least `initial`, under `field`; the defaults fill what is not given.
    pub(super) fn initial_and_cap(
        &self,
        initial: &Dur,
        cap: &Dur,
        defaults: (Duration, Duration),
        field: &str,
        range: DurationRange,
    ) -> Result<(Duration, Duration)> {
        let (initial_field, cap_field) = (format!("{field}.initial"), format!("{field}.cap"));
        let initial_value = self.duration_in(initial, defaults.0, &initial_field, range)?;
        let cap_value = self.duration_in(cap, defaults.1, &cap_field, range)?;
        let initial_greatest = self.ends(initial, defaults.0, &initial_field).1;
        let cap_least = self.ends(cap, defaults.1, &cap_field).0;
        if cap_least < initial_greatest {
            let named = if cap.is_some() { "cap" } else { "initial" };
            return Err(self.error(
                &where_given(&[cap, initial]),
                format!("{field}.{named}"),
                format!(
                    "cap {} is below initial {}; expected cap >= initial",
                    duration::format(cap_least),
                    duration::format(initial_greatest)
                ),
            ));
        }
        Ok((initial_value, cap_value))
    }

    pub(super) fn missing(&self, parent: &Location, field: &str, accepted: &str) -> ScenarioError {
        self.error(parent, field, format!("missing; expected {accepted}"))
    }
}

/// `0.5`, `-1`, `1e308`: a number short enough to quote.
fn number_text(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(1e-6..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// Where the first given field of `values` was written, for errors about a
/// relation between fields.
pub(super) fn where_given(values: &[&Dur]) -> Location {
    values
        .iter()
        .find_map(|v| v.as_ref().map(|d| d.referenced))
        .unwrap_or(Location::UNKNOWN)
}
