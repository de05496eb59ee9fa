//! The bounded history of changes that watches from a past version replay.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::object::{ResourceKey, Stored};

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One change: every create, update and delete makes exactly one, at the
/// resourceVersion it bumped the server to. It shares its objects with the
/// store and the watch frames.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub(crate) resource_version: u64,
    pub(crate) resource: ResourceKey,
    pub(crate) kind: ChangeKind,
    /// The object after the change (for a delete, the deleted object
    /// carrying the deletion's version).
    pub(crate) object: Rc<Stored>,
    /// The object before an update or a delete: a selector tells by it an
    /// object that left or entered its selection, and a continued LIST
    /// undoes the change with it.
    pub(crate) previous: Option<Rc<Stored>>,
    /// The memory the change holds, `object` and `previous` each counted
    /// (both are kept alive by it).
    pub(crate) bytes: u64,
}

/// The last `events_max` changes across all resources, oldest first, and
/// no more than `bytes_max` of them.
#[derive(Debug)]
pub(crate) struct History {
    changes: VecDeque<Change>,
    events_max: usize,
    bytes_max: u64,
    /// The bytes the kept changes hold.
    bytes: u64,
    /// The newest version no longer in the history; 0 while nothing was dropped.
    compacted_through: u64,
}

impl History {
    pub(crate) fn new(events_max: usize, bytes_max: u64) -> Self {
        History {
            changes: VecDeque::new(),
            events_max,
            bytes_max,
            bytes: 0,
            compacted_through: 0,
        }
    }

    /// Records a change, dropping the oldest beyond either bound.
    pub(crate) fn record(&mut self, change: Change) {
        debug_assert!(change.resource_version > self.newest());
        self.bytes = self.bytes.saturating_add(change.bytes);
        self.changes.push_back(change);
        while self.changes.len() > self.events_max || self.bytes > self.bytes_max {
            let Some(dropped) = self.changes.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(dropped.bytes);
            self.compacted_through = dropped.resource_version;
        }
    }

    /// The bytes the kept changes hold.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    fn newest(&self) -> u64 {
        self.changes
            .back()
            .map_or(self.compacted_through, |c| c.resource_version)
    }

    /// Every change after `resource_version`, oldest first; `Err` with the
    /// oldest version still known when changes after it were dropped.
    pub(crate) fn since(
        &self,
        resource_version: u64,
    ) -> Result<impl Iterator<Item = &Change>, u64> {
        if resource_version < self.compacted_through {
            return Err(self.compacted_through + 1);
        }
        Ok(self
            .changes
            .iter()
            .filter(move |c| c.resource_version > resource_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{JsonObject, Object};

    fn change(resource_version: u64) -> Change {
        let object = Stored::new(Object::Json(JsonObject::default())).unwrap();
        Change {
            resource_version,
            resource: ResourceKey {
                group: String::new(),
                plural: "pods".to_string(),
            },
            kind: ChangeKind::Added,
            object,
            previous: None,
            bytes: 10,
        }
    }

    fn versions(history: &History, since: u64) -> Result<Vec<u64>, u64> {
        history
            .since(since)
            .map(|changes| changes.map(|c| c.resource_version).collect())
    }

    #[test]
    fn keeps_the_newest_and_expires_the_rest() {
        let mut history = History::new(3, u64::MAX);
        for version in 1..=5 {
            history.record(change(version));
        }
        assert_eq!(versions(&history, 1), Err(3));
        assert_eq!(versions(&history, 2), Ok(vec![3, 4, 5]));
        assert_eq!(versions(&history, 4), Ok(vec![5]));
        assert_eq!(versions(&history, 5), Ok(vec![]));
        assert_eq!(versions(&history, 9), Ok(vec![]));
    }

    #[test]
    fn an_empty_history_expires_nothing() {
        let history = History::new(0, u64::MAX);
        assert_eq!(versions(&history, 0), Ok(vec![]));
        let mut history = History::new(0, u64::MAX);
        history.record(change(1));
        assert_eq!(versions(&history, 0), Err(2));
        assert_eq!(versions(&history, 1), Ok(vec![]));
    }

    #[test]
    fn keeps_no_more_bytes_than_its_bound() {
        let mut history = History::new(100, 25);
        for version in 1..=5 {
            history.record(change(version));
        }
        assert_eq!(versions(&history, 3), Ok(vec![4, 5]));
        assert_eq!(versions(&history, 2), Err(4));
        assert_eq!(history.bytes(), 20);
    }
}
