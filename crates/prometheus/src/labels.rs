//! What names a series: its label set, with the metric's name under
//! `__name__`, its id in the store, and its family's type.

use std::collections::BTreeMap;

/// A series' labels, its metric name under `__name__`, in name order.
pub type Labels = BTreeMap<String, String>;

/// The label holding a series' metric name.
pub const NAME: &str = "__name__";

/// A series' place in the store: the order in which the scrapes first
/// found it.
pub(crate) type SeriesId = usize;

/// A metric family's type, as its exposition's `# TYPE` line gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricType {
    Counter,
    Gauge,
    Unknown,
}

impl MetricType {
    /// The name the text formats use.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Unknown => "unknown",
        }
    }
}

/// A label set from `(name, value)` pairs, for tests.
#[cfg(test)]
pub(crate) fn labels_of(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
