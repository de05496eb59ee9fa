//! The series the scrapes collected: each a label set (its metric name
//! under `__name__`), stored once under an id, and its points in time
//! order.

use std::collections::BTreeMap;

use crate::exposition::{self, Line};
use crate::labels::{Labels, MetricType, SeriesId, NAME};
use crate::target::Target;

/// One point of a series: when (milliseconds since the run's start) and
/// its value, or `None` for a staleness marker (the series vanished from
/// its target's scrape, or the target went down), as Prometheus writes
/// one so that a selector stops returning the series at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub t_ms: i64,
    pub value: Option<f64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Family {
    pub kind: MetricType,
    pub help: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Series {
    /// The metric family the series belongs to (`foo` for `foo_total`).
    pub family: String,
    pub points: Vec<Sample>,
}

/// What one scrape stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// Whether the target answered with an exposition that reads.
    pub up: bool,
    /// The samples stored, `up` among them.
    pub samples: usize,
}

/// Every series every scrape collected, with their families' metadata.
#[derive(Clone, Debug, Default)]
pub struct SeriesStore {
    pub(crate) families: BTreeMap<String, Family>,
    /// Each series' id, by its label set.
    pub(crate) ids: BTreeMap<Labels, SeriesId>,
    /// Each series by its id.
    pub(crate) series: Vec<Series>,
    /// Each target, by its labels.
    targets: BTreeMap<Labels, Target>,
    samples: u64,
}

/// What an exposition said, before it is stored: the families it
/// introduces (their metadata as the whole exposition gives it) and each
/// sample with its value.
struct Exposition<'t> {
    families: Vec<(&'t str, Family)>,
    samples: Vec<(Read, f64)>,
}

/// A sample line of the scrape being read, before it is stored.
enum Read {
    /// A series the target wrote the same way before.
    Known(SeriesId),
    /// A series part read in full: its text, family and labels, the
    /// target's among them.
    New {
        text: String,
        family: String,
        labels: Labels,
    },
}

impl SeriesStore {
    /// An empty store.
    pub fn new() -> Self {
        SeriesStore::default()
    }

    /// Stores one scrape of the target `target` (its `job` and `instance`
    /// labels) at `t_ms`: `Some` with the exposition it answered, `None`
    /// when it could not be scraped. An exposition that does not read
    /// fails the scrape, as in Prometheus, and nothing of it is stored.
    /// Each sample gets the target's labels (a sample's own label of the
    /// same name is kept as `exported_<name>`, as Prometheus does with
    /// `honor_labels: false`), and `up` is 1 or 0; a series the target's
    /// previous scrape had and this one lacks gets a staleness marker.
    /// A family's type and help are the first scrape's that had it.
    pub fn ingest_exposition(
        &mut self,
        target: &Labels,
        t_ms: i64,
        exposition: Option<&str>,
    ) -> Ingested {
        let mut state = self
            .targets
            .get_mut(target)
            .map(std::mem::take)
            .unwrap_or_default();
        let read = exposition.and_then(|text| self.read(&state, target, text));
        let up = read.is_some();
        let mut seen = Vec::new();
        if let Some(read) = read {
            for (name, family) in read.families {
                self.families.insert(name.to_string(), family);
            }
            for (sample, value) in read.samples {
                let id = match sample {
                    Read::Known(id) => id,
                    Read::New {
                        text,
                        family,
                        labels,
                    } => {
                        let id = self.id(labels, &family);
                        state.known.insert(text, id);
                        id
                    }
                };
                self.series[id].points.push(Sample {
                    t_ms,
                    value: Some(value),
                });
                seen.push(id);
            }
        }
        let count = seen.len() + 1;
        if !self.families.contains_key("up") {
            self.families.insert(
                "up".to_string(),
                Family {
                    kind: MetricType::Gauge,
                    help: "Whether the target could be scraped (1) or not (0).".to_string(),
                },
            );
        }
        let up_id = *state.up.get_or_insert_with(|| {
            let mut labels = target.clone();
            labels.insert(NAME.to_string(), "up".to_string());
            self.id(labels, "up")
        });
        self.series[up_id].points.push(Sample {
            t_ms,
            value: Some(if up { 1.0 } else { 0.0 }),
        });
        seen.sort_unstable();
        seen.dedup();
        for &gone in &state.last_scrape {
            if seen.binary_search(&gone).is_err() {
                self.series[gone].points.push(Sample { t_ms, value: None });
            }
        }
        state.last_scrape = seen;
        match self.targets.get_mut(target) {
            Some(kept) => *kept = state,
            None => {
                self.targets.insert(target.clone(), state);
            }
        }
        self.samples += count as u64;
        Ingested { up, samples: count }
    }

    /// Reads an exposition of `target`; `None` when a line does not read.
    fn read<'t>(&self, state: &Target, target: &Labels, text: &'t str) -> Option<Exposition<'t>> {
        let mut families: Vec<(&str, Family)> = Vec::new();
        let mut samples = Vec::new();
        let mut current = None;
        for line in exposition::lines(text) {
            let (name, kind, help) = match line {
                Line::Type { name, kind } => (name, Some(kind), None),
                Line::Help { name, help } => (name, None, Some(help)),
                Line::Sample(line) => {
                    samples.push(self.read_sample(state, target, line, current)?);
                    continue;
                }
            };
            current = Some(name);
            if self.families.contains_key(name) {
                continue;
            }
            let index = match families.iter().position(|(n, _)| *n == name) {
                Some(index) => index,
                None => {
                    let family = Family {
                        kind: MetricType::Unknown,
                        help: String::new(),
                    };
                    families.push((name, family));
                    families.len() - 1
                }
            };
            let family = &mut families[index].1;
            if let Some(kind) = kind {
                family.kind = kind;
            }
            if let Some(help) = help {
                family.help = help.to_string();
            }
        }
        Some(Exposition { families, samples })
    }

    /// One sample line of `target`'s, `current` the family the last
    /// `# TYPE` or `# HELP` line named; `None` when it does not read.
    fn read_sample(
        &self,
        state: &Target,
        target: &Labels,
        line: &str,
        current: Option<&str>,
    ) -> Option<(Read, f64)> {
        if let Some((id, end)) = state.known_series(line) {
            return Some((Read::Known(id), exposition::value(line, end)?));
        }
        let (mut labels, end) = exposition::series(line)?;
        let value = exposition::value(line, end)?;
        let family = exposition::family(&labels[NAME], current).to_string();
        for (name, value) in target {
            if let Some(own) = labels.insert(name.clone(), value.clone()) {
                labels.insert(format!("exported_{name}"), own);
            }
        }
        let text = line[..end].to_string();
        Some((
            Read::New {
                text,
                family,
                labels,
            },
            value,
        ))
    }

    /// The id of the series `labels`, a new one (of `family`) if none has
    /// them yet.
    fn id(&mut self, labels: Labels, family: &str) -> SeriesId {
        let next = self.series.len();
        let id = *self.ids.entry(labels).or_insert(next);
        if id == next {
            self.series.push(Series {
                family: family.to_string(),
                points: Vec::new(),
            });
        }
        id
    }

    /// Every series, in label order, with its points.
    pub fn series(&self) -> impl Iterator<Item = (&Labels, &[Sample])> {
        self.ids
            .iter()
            .map(|(l, &id)| (l, self.series[id].points.as_slice()))
    }

    /// How many samples were stored (staleness markers not counted).
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels_of;

    fn target() -> Labels {
        labels_of(&[("job", "j"), ("instance", "i")])
    }

    fn points(store: &SeriesStore, name: &str) -> Vec<Sample> {
        let (_, points) = store
            .series()
            .find(|(labels, _)| labels[NAME] == name)
            .expect("a series");
        points.to_vec()
    }

    #[test]
    fn a_series_is_stored_once_and_read_again_by_its_text() {
        let mut store = SeriesStore::new();
        let text =
            |v: u32| format!("# TYPE c counter\nc_total{{kind=\"v1, Kind=Pod\",job=\"x\"}} {v}\n");
        let first = store.ingest_exposition(&target(), 0, Some(&text(1)));
        assert_eq!(
            first,
            Ingested {
                up: true,
                samples: 2
            }
        );
        store.ingest_exposition(&target(), 30_000, Some(&text(2)));
        // A timestamp after the value: the same series, read in full.
        store.ingest_exposition(
            &target(),
            60_000,
            Some(&format!("{} 7", text(3).trim_end())),
        );
        assert_eq!(store.series().count(), 2);
        let values: Vec<_> = points(&store, "c_total").iter().map(|p| p.value).collect();
        assert_eq!(values, [Some(1.0), Some(2.0), Some(3.0)]);
        let (labels, _) = store.series().next().unwrap();
        assert_eq!(labels["exported_job"], "x");
        assert_eq!(labels["job"], "j");
        assert_eq!(store.samples(), 6);
    }

    #[test]
    fn an_exposition_that_does_not_read_is_a_failed_scrape() {
        let mut store = SeriesStore::new();
        store.ingest_exposition(&target(), 0, Some("# TYPE g gauge\ng 1\n"));
        let failed = store.ingest_exposition(&target(), 30_000, Some("g{a=1} 2\n"));
        assert_eq!(
            failed,
            Ingested {
                up: false,
                samples: 1
            }
        );
        assert_eq!(store.series().count(), 2);
        let g = points(&store, "g");
        assert_eq!(
            g[1],
            Sample {
                t_ms: 30_000,
                value: None
            }
        );
        assert_eq!(points(&store, "up")[1].value, Some(0.0));
    }
}
