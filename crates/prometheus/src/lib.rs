//! A simulated Prometheus, as far as stallsim needs one: the series its
//! scrapes collect ([`SeriesStore`], fed each target's text exposition by
//! [`SeriesStore::ingest_exposition`]), written out in the OpenMetrics text format
//! with timestamps ([`write_openmetrics`]), and alerting rules in
//! Prometheus' own shape ([`Rule`]) evaluated over the stored series with
//! Prometheus' pending/firing `for` semantics ([`evaluate_rules`]).
//!
//! PromQL is parsed by `promql-parser` (GreptimeDB's port of Prometheus'
//! own parser); the evaluator implements the subset alert rules need and
//! refuses the rest by name ([`RuleError`]). Time is milliseconds since the
//! run's start, never the wall clock; every collection is ordered, so the
//! same samples give the same output byte for byte.
//!
//! This crate knows nothing of stallsim's world, scenario files or
//! processes: it is handed text and times.

mod eval;
mod exposition;
mod index;
mod labels;
mod openmetrics;
mod rules;
mod series_labels;
mod store;
mod target;

pub use eval::{check_supported, evaluate_instant, Value, LOOKBACK_DELTA_MS};
pub use labels::{Labels, MetricType};
pub use openmetrics::write_openmetrics;
pub use rules::{evaluate_rules, AlertOutcome, Rule, RuleError};
pub use store::{Ingested, Sample, SeriesStore};
