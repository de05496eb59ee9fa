//! A series' labels while an expression is evaluated: borrowed from the
//! store, or pairs an operation took from stored label sets and the
//! expression, so that an evaluation copies no label.

use std::cmp::Ordering;

use crate::labels::{Labels, NAME};

/// The labels of one element of an instant vector.
#[derive(Clone, Debug)]
pub(crate) enum SeriesLabels<'a> {
    /// A stored series' label set, with its metric name (`name`) or
    /// without.
    Stored { labels: &'a Labels, name: bool },
    /// A label set an operation made (an aggregation's group, `absent`'s
    /// labels), in name order, each name once.
    Made(Vec<(&'a str, &'a str)>),
}

impl<'a> SeriesLabels<'a> {
    /// A stored series' labels, its metric name among them.
    pub fn stored(labels: &'a Labels) -> Self {
        SeriesLabels::Stored { labels, name: true }
    }

    /// Every label, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        let (stored, with_name, made): (Option<&'a Labels>, bool, &[(&'a str, &'a str)]) =
            match self {
                SeriesLabels::Stored { labels, name } => (Some(*labels), *name, &[]),
                SeriesLabels::Made(pairs) => (None, true, pairs),
            };
        stored
            .into_iter()
            .flatten()
            .filter(move |(k, _)| with_name || k.as_str() != NAME)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(made.iter().copied())
    }

    /// The value of the label `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        match self {
            SeriesLabels::Stored { name: false, .. } if name == NAME => None,
            SeriesLabels::Stored { labels, .. } => labels.get(name).map(String::as_str),
            SeriesLabels::Made(pairs) => pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
        }
    }

    /// The same labels without the metric's name.
    pub fn without_name(self) -> Self {
        match self {
            SeriesLabels::Stored { labels, .. } => SeriesLabels::Stored {
                labels,
                name: false,
            },
            SeriesLabels::Made(mut pairs) => {
                pairs.retain(|(k, _)| *k != NAME);
                SeriesLabels::Made(pairs)
            }
        }
    }

    /// The labels as a label set of their own.
    pub fn to_labels(&self) -> Labels {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Label sets' order: their pairs', one after the other, as
    /// [`Labels`] compare.
    pub fn order(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}
