//! Questions asked of many runs of one scenario, above the scenario files
//! and the world: where in its ranges a scenario stalls ([`stall_window`]),
//! the least a failing run needs to fail ([`shrink`]), and the order in
//! which a run's key events happened ([`ordering`]), to count coverage.
//!
//! This crate runs worlds but never reads arguments or prints; the CLI
//! asks and presents.

mod matrix;
mod ordering;
mod property;
mod shrink;
mod window;

pub use matrix::{matrix_rows, MatrixRow};
pub use ordering::{milestones, ordering};
pub use property::property_of;
pub use shrink::{shrink, Shrunk};
pub use window::{stall_window, Edge, Window, WindowQuery};
