//! Questions asked of many runs of one scenario, above the scenario files
//! and the world: where in its ranges a scenario stalls ([`stall_window`]).
//!
//! This crate runs worlds but never reads arguments or prints; the CLI
//! asks and presents.

mod window;

pub use window::{stall_window, Edge, Window, WindowQuery};
