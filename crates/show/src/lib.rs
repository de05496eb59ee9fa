//! Showing a finished run: in words ([`run_text`]), as an SVG picture with
//! a lane per replica ([`svg`]), and as a Markdown report with a Mermaid
//! gantt chart ([`markdown`]), all drawn from the run's trace and report
//! (and the world it ran), through the lanes model ([`Picture`]).
//!
//! Architecture invariant: nothing here runs the simulation; every picture
//! is drawn from a run that has already finished. Nothing here writes a
//! file or prints: the callers do.

#![warn(missing_docs)]

mod lanes;
mod report;
mod svg;
mod text;

pub use lanes::{Lane, Mark, MarkKind, Picture, State, Wait};
pub use report::markdown;
pub use svg::svg;
pub use text::{replay_command, run_text};
