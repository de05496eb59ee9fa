//! What the store remembers of one scrape target from one scrape to the
//! next: the series its lines named, and which of them its last scrape
//! returned.

use std::collections::BTreeMap;

use crate::labels::SeriesId;

/// One target's memory of its scrapes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Target {
    /// Each series part (`name{labels}`) a sample line of this target
    /// had, as written, and the series it named. A target writes the same
    /// series the same way at every scrape, so a line whose series part
    /// is known needs no label read again.
    pub known: BTreeMap<String, SeriesId>,
    /// The target's `up` series, once it has one.
    pub up: Option<SeriesId>,
    /// The series the last scrape returned, in id order, for staleness.
    pub last_scrape: Vec<SeriesId>,
}

impl Target {
    /// The series a sample line names, when its series part is one this
    /// target wrote before, with where that part ends. The part ends at
    /// the line's last space: a line whose part ends elsewhere (a
    /// timestamp after the value, two spaces) is read in full.
    pub fn known_series(&self, line: &str) -> Option<(SeriesId, usize)> {
        let end = line.rfind(' ')?;
        self.known.get(&line[..end]).map(|&id| (id, end))
    }
}
