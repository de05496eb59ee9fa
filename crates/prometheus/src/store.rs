//! The series the scrapes collected: each a label set (its metric name
//! under `__name__`) and its points in time order.

use std::collections::{BTreeMap, BTreeSet};

use crate::exposition::Scraped;
use crate::labels::{Labels, MetricType, NAME};

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

/// Every series every scrape collected, with their families' metadata.
#[derive(Clone, Debug, Default)]
pub struct SeriesStore {
    pub(crate) families: BTreeMap<String, Family>,
    pub(crate) series: BTreeMap<Labels, Series>,
    /// The series each target's last scrape returned, for staleness.
    last_scrape: BTreeMap<Labels, BTreeSet<Labels>>,
    samples: u64,
}

impl SeriesStore {
    /// An empty store.
    pub fn new() -> Self {
        SeriesStore::default()
    }

    /// Stores one scrape of the target `target` (its `job` and `instance`
    /// labels) at `t_ms`: `Some` with what it exposed, `None` when it could
    /// not be scraped. Each sample gets the target's labels (a sample's own
    /// label of the same name is kept as `exported_<name>`, as Prometheus
    /// does with `honor_labels: false`), and `up` is 1 or 0; a series the
    /// target's previous scrape had and this one lacks gets a staleness
    /// marker. Returns the number of samples stored, `up` among them.
    pub fn ingest(&mut self, target: &Labels, t_ms: i64, scraped: Option<&Scraped>) -> usize {
        let mut seen = BTreeSet::new();
        let mut count = 0;
        if let Some(scraped) = scraped {
            for (name, kind, help) in &scraped.families {
                self.families.entry(name.clone()).or_insert(Family {
                    kind: *kind,
                    help: help.clone(),
                });
            }
            for (family, labels, value) in &scraped.samples {
                let mut labels = labels.clone();
                for (name, value) in target {
                    if let Some(own) = labels.insert(name.clone(), value.clone()) {
                        labels.insert(format!("exported_{name}"), own);
                    }
                }
                self.push(family, labels.clone(), t_ms, Some(*value));
                seen.insert(labels);
                count += 1;
            }
        }
        self.families.entry("up".to_string()).or_insert(Family {
            kind: MetricType::Gauge,
            help: "Whether the target could be scraped (1) or not (0).".to_string(),
        });
        let mut up = target.clone();
        up.insert(NAME.to_string(), "up".to_string());
        self.push(
            "up",
            up,
            t_ms,
            Some(if scraped.is_some() { 1.0 } else { 0.0 }),
        );
        count += 1;
        let previous = self.last_scrape.insert(target.clone(), seen.clone());
        for gone in previous.unwrap_or_default().difference(&seen) {
            if let Some(series) = self.series.get_mut(gone) {
                series.points.push(Sample { t_ms, value: None });
            }
        }
        self.samples += count as u64;
        count
    }

    fn push(&mut self, family: &str, labels: Labels, t_ms: i64, value: Option<f64>) {
        let series = self.series.entry(labels).or_insert_with(|| Series {
            family: family.to_string(),
            points: Vec::new(),
        });
        series.points.push(Sample { t_ms, value });
    }

    /// Every series, in label order, with its points.
    pub fn series(&self) -> impl Iterator<Item = (&Labels, &[Sample])> {
        self.series.iter().map(|(l, s)| (l, s.points.as_slice()))
    }

    /// How many samples were stored (staleness markers not counted).
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The last point of each series at or before `t_ms`, no older than
    /// `lookback_ms`, that is not a staleness marker.
    pub(crate) fn instant(
        &self,
        t_ms: i64,
        lookback_ms: i64,
    ) -> impl Iterator<Item = (&Labels, f64)> {
        self.series.iter().filter_map(move |(labels, series)| {
            let end = series.points.partition_point(|p| p.t_ms <= t_ms);
            let last = series.points[..end].last()?;
            if last.t_ms <= t_ms - lookback_ms {
                return None;
            }
            last.value.map(|v| (labels, v))
        })
    }

    /// The points of each series in `(t_ms - range_ms, t_ms]`, markers left out.
    pub(crate) fn range(
        &self,
        t_ms: i64,
        range_ms: i64,
    ) -> impl Iterator<Item = (&Labels, Vec<(i64, f64)>)> {
        self.series.iter().filter_map(move |(labels, series)| {
            let end = series.points.partition_point(|p| p.t_ms <= t_ms);
            let start = series.points.partition_point(|p| p.t_ms <= t_ms - range_ms);
            let points: Vec<(i64, f64)> = series.points[start..end]
                .iter()
                .filter_map(|p| p.value.map(|v| (p.t_ms, v)))
                .collect();
            (!points.is_empty()).then_some((labels, points))
        })
    }
}
