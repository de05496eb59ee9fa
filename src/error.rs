//! The one error type of the library: what went wrong, as a value.

use std::fmt;

use stallsim_explore::{MergeError, PlanError};
use stallsim_scenario::ScenarioError;

/// Why a question could not be asked. Each says what would be accepted
/// instead.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A scenario file that cannot be read or is not a valid scenario; it
    /// names the file, line, column and field.
    Scenario(ScenarioError),
    /// An exploration that cannot run as set up (seeds that would wrap, no
    /// runs, no worker thread).
    Plan(PlanError),
    /// Shards that do not combine into one exploration.
    Merge(MergeError),
    /// A name that is not a ranged time of the scenario.
    NotARange {
        /// The name asked for.
        field: String,
        /// The ranged times the scenario has.
        ranged: Vec<String>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Scenario(error) => error.fmt(f),
            Error::Plan(error) => error.fmt(f),
            Error::Merge(error) => error.fmt(f),
            Error::NotARange { field, ranged } if ranged.is_empty() => write!(
                f,
                "`{field}` is not a range of this scenario, which has none; expected a range like `deleteAt: 30s..90s` in the file"
            ),
            Error::NotARange { field, ranged } => write!(
                f,
                "`{field}` is not a range of this scenario; expected one of {}",
                ranged.join(", ")
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<ScenarioError> for Error {
    fn from(error: ScenarioError) -> Self {
        Error::Scenario(error)
    }
}

impl From<PlanError> for Error {
    fn from(error: PlanError) -> Self {
        Error::Plan(error)
    }
}

impl From<MergeError> for Error {
    fn from(error: MergeError) -> Self {
        Error::Merge(error)
    }
}
