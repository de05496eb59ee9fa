//! Reading a target's text exposition (the Prometheus text format or
//! OpenMetrics' text format, as `prometheus-client` writes it) line by
//! line, as a scrape does.

use crate::labels::{Labels, MetricType, NAME};

/// One line of an exposition that says something.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Line<'a> {
    /// `# TYPE name type`.
    Type { name: &'a str, kind: MetricType },
    /// `# HELP name text`.
    Help { name: &'a str, help: &'a str },
    /// A sample, trailing whitespace trimmed.
    Sample(&'a str),
}

/// The lines of `text` that say something: blank lines, `# EOF` and
/// other comments are left out.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    text.lines().filter_map(|line| {
        let line = line.trim_end();
        if line.is_empty() || line == "# EOF" {
            return None;
        }
        let Some(rest) = line.strip_prefix("# ") else {
            return (!line.starts_with('#')).then_some(Line::Sample(line));
        };
        let mut parts = rest.splitn(3, ' ');
        let (keyword, name, value) = (parts.next(), parts.next()?, parts.next().unwrap_or(""));
        match keyword {
            Some("TYPE") => {
                let kind = match value {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    _ => MetricType::Unknown,
                };
                Some(Line::Type { name, kind })
            }
            Some("HELP") => Some(Line::Help { name, help: value }),
            _ => None,
        }
    })
}

/// The family a sample named `name` belongs to: `current` (the last
/// `# TYPE` or `# HELP` line's) when `name` is that family's or one of its
/// suffixes (`_total`, `_created`, `_bucket`, `_sum`, `_count`, `_info`),
/// else its own name.
pub(crate) fn family<'a>(name: &'a str, current: Option<&'a str>) -> &'a str {
    match current {
        Some(family) if belongs(name, family) => family,
        _ => name,
    }
}

fn belongs(name: &str, family: &str) -> bool {
    name == family
        || ["_total", "_created", "_bucket", "_sum", "_count", "_info"]
            .iter()
            .any(|suffix| name.strip_prefix(family) == Some(suffix))
}

/// A sample line's value: the first word after its series part, which
/// ends at `series_end`. Samples carry no timestamps (a scrape stamps
/// them with its own time); a timestamp written after the value is
/// ignored. `None` when there is no value, or it is not a number.
pub(crate) fn value(line: &str, series_end: usize) -> Option<f64> {
    parse_value(line[series_end..].split_whitespace().next()?)
}

/// A value as the text formats write one (`+Inf`, `-Inf`, `NaN` among them).
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// A sample line's series part, `name{a="b",c="d"}`: its labels (label
/// values unescaped, the name under `__name__`) and where the part ends;
/// `None` when it does not read.
pub(crate) fn series(line: &str) -> Option<(Labels, usize)> {
    let name_end = line.find(['{', ' '])?;
    let mut labels = Labels::new();
    let name = line[..name_end].to_string();
    let rest = &line[name_end..];
    let Some(mut rest) = rest.strip_prefix('{') else {
        labels.insert(NAME.to_string(), name);
        return Some((labels, name_end));
    };
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            labels.insert(NAME.to_string(), name);
            return Some((labels, line.len() - after.len()));
        }
        let eq = rest.find('=')?;
        let label = rest[..eq].trim().to_string();
        rest = rest[eq + 1..].strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return None,
                },
                Some((_, c)) => value.push(c),
                None => return None,
            }
        };
        labels.insert(label, value);
        rest = &rest[end + 1..];
    }
}

/// A label value escaped for the text formats.
pub(crate) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_prometheus_client_writes() {
        let text = "# HELP up_total Ups.\n# TYPE up_total counter\nup_total{a=\"x\\\"y\",b=\"2\"} 3\n# TYPE g gauge\ng 1.5\n# EOF\n";
        let read: Vec<_> = lines(text).collect();
        assert_eq!(read.len(), 5);
        assert_eq!(
            read[1],
            Line::Type {
                name: "up_total",
                kind: MetricType::Counter
            }
        );
        let Line::Sample(line) = read[2] else {
            panic!("a sample")
        };
        let (labels, end) = series(line).unwrap();
        assert_eq!(labels["a"], "x\"y");
        assert_eq!(labels[NAME], "up_total");
        assert_eq!(&line[..end], "up_total{a=\"x\\\"y\",b=\"2\"}");
        assert_eq!(value(line, end), Some(3.0));
        assert_eq!(family("up_total", Some("up_total")), "up_total");
        let Line::Sample(line) = read[4] else {
            panic!("a sample")
        };
        assert_eq!(
            series(line).and_then(|(_, end)| value(line, end)),
            Some(1.5)
        );
        assert!(series("g{a=1} 2").is_none());
    }
}
