//! The one error of this crate: what is wrong with a scenario file, and where.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

/// What is wrong with a scenario file, for people: the file, the place in
/// it, the field, and what would be accepted instead.
///
/// Displays as
///
/// ```text
/// path:line:column: field `spec.replicas[1].startAt`: <what is wrong>; expected <what would be accepted>
/// ```
///
/// the line and column, or the field, are left out when unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The scenario file (or the directory, for [`crate::discover`]).
    pub path: PathBuf,
    /// 1-based line of the offending value, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the offending value, when known.
    pub column: Option<usize>,
    /// The offending field as a path: dotted, with `[index]` for list items
    /// (`spec.faults[0].kill`).
    pub field: Option<String>,
    /// What is wrong, then `; expected ` and what would be accepted.
    pub message: String,
}

impl ScenarioError {
    /// An error about the whole file, with no place in it.
    pub(crate) fn file(path: &Path, message: impl Into<String>) -> Self {
        ScenarioError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    /// An error about the value of `field` found at `location`.
    pub(crate) fn at(
        path: &Path,
        location: &Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_column(location);
        ScenarioError {
            path: path.to_path_buf(),
            line,
            column,
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

/// A known location as 1-based line and column; `Location::UNKNOWN` is line 0.
pub(crate) fn line_column(location: &Location) -> (Option<usize>, Option<usize>) {
    let known = |n: u64| usize::try_from(n).ok().filter(|n| *n > 0);
    match (known(location.line()), known(location.column())) {
        (Some(line), column) => (Some(line), column),
        (None, _) => (None, None),
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ScenarioError {}
