//! The engine for many runs of one scenario, above the scenario files and
//! the world.
//!
//! Sampling ([`Explore`]): seeds run on a pool of worker threads, each run
//! folded into a [`Tally`] as it finishes and forgotten, into an
//! [`Exploration`] with its rates and their Wilson intervals
//! ([`Rate`]), spreads and loads; shards of one exploration merge into the
//! whole ([`Exploration::merge`]). The fix [`matrix`] runs the same seeds
//! under each candidate fix. Beside sampling: where in its ranges a
//! scenario stalls ([`stall_window`]), the least a failing run needs to
//! fail ([`shrink`]), the order in which a run's key events happened
//! ([`ordering`]), to count coverage, every order the ranges can force
//! them into ([`systematic`]), and whether a verdict holds for every
//! plausible value of the model's estimated constants ([`sensitivity`]);
//! an exploration can draw those constants too ([`Estimates::Plausible`]).
//!
//! Architecture invariant: this crate runs worlds and reads scenarios, but
//! never reads arguments, the wall clock or the terminal, and never
//! prints. A wall-clock budget comes in as a stop predicate
//! ([`Explore::until`]).

#![warn(missing_docs)]

mod check;
mod exploration;
mod explore;
mod matrix;
mod merge;
mod ordering;
mod plan;
mod pool;
mod property;
mod sensitivity;
mod shrink;
mod stats;
mod systematic;
mod tally;
mod window;

pub use check::{check_seeds, Checked};
pub use exploration::{ApiLoad, DeletionToReady, Exploration, Ordering, Restarts, Verdicts};
pub use explore::{Estimates, Explore, FoundFailure, Stop};
pub use matrix::{matrix, matrix_fixes, Finding, Fix, Matrix, MatrixQuery, MatrixRow};
pub use merge::MergeError;
pub use ordering::{milestones, ordering};
pub use plan::{Budget, Plan, PlanError, Shard, RUNS_DEFAULT};
pub use pool::jobs_default;
pub use property::{describe, property_of, Property};
pub use sensitivity::{
    estimates_count, sensitivity, Constant, Edge as SensitivityEdge, Moved,
    Segment as SensitivitySegment, Sensitivity, SensitivityQuery, SENSITIVITY_GRID_POINTS_DEFAULT,
};
pub use shrink::{shrink, Shrunk};
pub use stats::{wilson_95, Rate};
pub use systematic::{
    systematic, Axis, Combinations, Reached, Relation, Segment, Systematic, SystematicQuery,
};
pub use tally::{verdict_words, FailedRun, OrderingTally, RunRecord, Tally, ORDERING_SEPARATOR};
pub use window::{stall_window, Edge, Window, WindowQuery};
