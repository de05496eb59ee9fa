//! The stored series in the OpenMetrics text format, with timestamps.

use std::fmt::Write;

use crate::exposition::escape;
use crate::labels::NAME;
use crate::store::SeriesStore;

/// Writes every stored sample in the OpenMetrics text format (version
/// 1.0.0): each family once (`# TYPE`, `# HELP`), its series one after the
/// other, each point with its timestamp in seconds since the Unix epoch
/// (`origin_ms`, the wall-clock time the run's start stands for, plus the
/// simulated time of the scrape), ending with
/// `# EOF`. Staleness markers are left out: the format has no way to
/// write one. `promtool tsdb create-blocks-from openmetrics` and Python's
/// `prometheus_client.openmetrics.parser` read it.
pub fn write_openmetrics(store: &SeriesStore, origin_ms: i64) -> String {
    let mut out = String::new();
    for (family, meta) in &store.families {
        let series: Vec<_> = store
            .ids
            .iter()
            .map(|(labels, &id)| (labels, &store.series[id]))
            .filter(|(_, s)| &s.family == family && s.points.iter().any(|p| p.value.is_some()))
            .collect();
        if series.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# TYPE {family} {}", meta.kind.as_str());
        if !meta.help.is_empty() {
            let _ = writeln!(out, "# HELP {family} {}", meta.help.replace('\\', "\\\\"));
        }
        for (labels, series) in series {
            let name = labels.get(NAME).map(String::as_str).unwrap_or(family);
            let pairs: Vec<String> = labels
                .iter()
                .filter(|(k, _)| k.as_str() != NAME)
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let head = if pairs.is_empty() {
                name.to_string()
            } else {
                format!("{name}{{{}}}", pairs.join(","))
            };
            for point in &series.points {
                let Some(value) = point.value else { continue };
                let _ = writeln!(
                    out,
                    "{head} {} {}",
                    format_value(value),
                    format_seconds(origin_ms + point.t_ms)
                );
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value == f64::INFINITY {
        "+Inf".to_string()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{value}")
    }
}

fn format_seconds(t_ms: i64) -> String {
    let (s, ms) = (t_ms.div_euclid(1000), t_ms.rem_euclid(1000));
    if ms == 0 {
        format!("{s}")
    } else {
        format!("{s}.{ms:03}")
    }
}
