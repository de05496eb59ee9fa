//! stallsim as a library: reproduce, explore and judge the
//! gardener-resource-manager deletion stall (gardener/gardener#11944) by
//! deterministic simulation, from another crate's tests.
//!
//! A scenario file describes worlds (its ranged times drawn under each
//! seed); a run of one is judged [`Verdict::Converges`], [`Verdict::Stall`]
//! or [`Verdict::Inconclusive`]; an exploration runs many seeds and says
//! how often each came, with 95% intervals:
//!
//! ```
//! # fn main() -> Result<(), stallsim::Error> {
//! let s = stallsim::Scenario::from_file("scenarios/grm-deletion-stall-fixed-ranged.yaml")?;
//! let e = s.explore().runs(4).jobs(2).run()?;
//! assert_eq!(e.stall_rate().count, 0);
//! assert!(e.stall_rate().upper_95() < 0.5);
//! # Ok(())
//! # }
//! ```
//!
//! This crate is a facade, as `kube` is for kube-core, kube-client and
//! kube-runtime: [`Scenario`] asks every question of a file; the engine
//! for many runs is [`explore`] (`stallsim-explore`), the pictures and
//! reports of a finished run [`show`] (`stallsim-show`). Nothing here
//! prints or reads arguments; errors are values ([`Error`]). With the
//! `proptest` feature, `stallsim::proptest::times` draws a file's ranged
//! times for a property test, and proptest shrinks them.

#![warn(missing_docs)]

mod error;
#[cfg(feature = "proptest")]
pub mod proptest;
mod scenario;

pub use error::Error;
pub use scenario::{Divergence, Scenario};

/// The engine for many runs: explorations, their tallies and statistics,
/// shards and their merge, the fix matrix, stall windows, shrinking and
/// systematic coverage.
pub use stallsim_explore as explore;
/// Showing a finished run: in words, as an SVG timeline, as a Markdown
/// report with a Mermaid chart.
pub use stallsim_show as show;

pub use stallsim_explore::{Exploration, Explore, Rate};
pub use stallsim_harness::{
    format_duration, FlowOutcome, Process, Program, Report, RestartLoop, Run, Stall, Verdict,
    WorldConfig,
};
pub use stallsim_scenario::{
    Draw, Drawn, Estimate, Expect, ExpectedVerdict, ScenarioError, ESTIMATES,
};
