//! The stored series as an evaluation reads them: by metric name, as a
//! TSDB's postings are, so that a selector naming its metric looks only
//! at that metric's series.

use std::collections::BTreeMap;

use crate::labels::{Labels, NAME};
use crate::store::{Sample, SeriesStore};

/// One stored series, borrowed: its labels and its points.
pub(crate) type Stored<'a> = (&'a Labels, &'a [Sample]);

/// Every stored series, and each metric name's, in label order.
pub(crate) struct SeriesIndex<'a> {
    all: Vec<Stored<'a>>,
    by_name: BTreeMap<&'a str, Vec<Stored<'a>>>,
}

impl<'a> SeriesIndex<'a> {
    /// The index of what `store` holds.
    pub fn new(store: &'a SeriesStore) -> Self {
        let all: Vec<Stored<'a>> = store.series().collect();
        let mut by_name: BTreeMap<&str, Vec<Stored<'a>>> = BTreeMap::new();
        for &(labels, points) in &all {
            let name = labels.get(NAME).map(String::as_str).unwrap_or("");
            by_name.entry(name).or_default().push((labels, points));
        }
        SeriesIndex { all, by_name }
    }

    /// The series named `name`, or every series when the selector names
    /// no metric.
    pub fn named(&self, name: Option<&str>) -> &[Stored<'a>] {
        match name {
            Some(name) => self.by_name.get(name).map_or(&[], Vec::as_slice),
            None => &self.all,
        }
    }
}
