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
}

impl Ctx<'_> {
    /// The value of a time field for this run: the one written, or a draw
    /// in whole milliseconds (the trace's resolution) from its range, under
    /// the run's seed and the field's name, so that one field's draw does
    /// not depend on the others.
    pub(super) fn time(&self, value: &S<Timing>, field: &str) -> Duration {
        let timing = value.value;
        if !timing.is_range() {
            return timing.least;
        }
        let choices = (timing.greatest - timing.least).as_millis() as u64 + 1;
        let drawn = match self.chosen.get(field) {
            Some(chosen) => (*chosen).clamp(timing.least, timing.greatest),
            None => timing.least + Duration::from_millis(mix_seed(self.seed, field, 0) % choices),
        };
        let span = value.referenced.span();
        self.draws.borrow_mut().push(Draw {
            field: field.to_string(),
            range: (timing.least, timing.greatest),
            value: drawn,
            text_span: span
                .byte_offset()
                .zip(span.byte_len())
                .map(|(offset, len)| (offset as usize, len as usize)),
        });
        drawn
    }

    /// An optional time field: its value for this run, else `default`.
    pub(super) fn time_or(&self, value: &Tim, default: Duration, field: &str) -> Duration {
        value.as_ref().map_or(default, |v| self.time(v, field))
    }

    pub(super) fn error(
        &self,
        location: &Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.path, location, field, message)
    }

    /// A duration that, when given, must be above zero (the tick, whose
    /// range `check_tick` checks once the probes are known).
    pub(super) fn positive(&self, value: &Dur, default: Duration, field: &str) -> Result<Duration> {
        match value {
            Some(d) if d.value.0.is_zero() => Err(self.error(
                &d.referenced,
                field,
                format!("`0s` is not accepted here; expected {DURATION_ACCEPTED}, above zero"),
            )),
            Some(d) => Ok(d.value.0),
            None => Ok(default),
        }
    }

    /// A duration within `range` when given, else `default`.
    pub(super) fn duration_in(
        &self,
        value: &Dur,
        default: Duration,
        field: &str,
        range: DurationRange,
    ) -> Result<Duration> {
        match value {
            Some(d) if !range.contains(d.value.0) => Err(self.error(
                &d.referenced,
                field,
                format!(
                    "`{}` is not accepted here; expected {}",
                    duration::format(d.value.0),
                    range.accepted()
                ),
            )),
            Some(d) => Ok(d.value.0),
            None => Ok(default),
        }
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
        let initial_value =
            self.duration_in(initial, defaults.0, &format!("{field}.initial"), range)?;
        let cap_value = self.duration_in(cap, defaults.1, &format!("{field}.cap"), range)?;
        if cap_value < initial_value {
            let named = if cap.is_some() { "cap" } else { "initial" };
            return Err(self.error(
                &where_given(&[cap, initial]),
                format!("{field}.{named}"),
                format!(
                    "cap {} is below initial {}; expected cap >= initial",
                    duration::format(cap_value),
                    duration::format(initial_value)
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
