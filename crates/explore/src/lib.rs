//! Questions asked of many runs of one scenario, above the scenario files
//! and the world: where in its ranges a scenario stalls ([`stall_window`]),
//! the least a failing run needs to fail ([`shrink`]), the order in
//! which a run's key events happened ([`ordering`]), to count coverage, and
//! every order the ranges can force them into ([`systematic`]).
//!
//! This crate runs worlds but never reads arguments or prints; the CLI
//! asks and presents.

mod matrix;
mod ordering;
mod property;
mod shrink;
mod systematic;
mod window;

pub use matrix::{matrix_rows, MatrixRow};
pub use ordering::{milestones, ordering};
pub use property::property_of;
pub use shrink::{shrink, Shrunk};
pub use systematic::{
    systematic, Axis, Combinations, Reached, Relation, Segment, Systematic, SystematicQuery,
};
pub use window::{stall_window, Edge, Window, WindowQuery};
