//! Reading a target's text exposition (the Prometheus text format or
//! OpenMetrics' text format, as `prometheus-client` writes it) into
//! samples, as a scrape does.

use std::fmt;

use crate::labels::{Labels, MetricType, NAME};

/// What one scrape read: the families' metadata and the samples, each with
/// its family's name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scraped {
    /// Each family once: name, type, help.
    pub families: Vec<(String, MetricType, String)>,
    /// Each sample: its family, its labels (`__name__` among them), value.
    pub samples: Vec<(String, Labels, f64)>,
}

/// Text that is not an exposition, with its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpositionError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ExpositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ExpositionError {}

/// Reads an exposition. Samples carry no timestamps (a scrape stamps them
/// with its own time); a sample's family is the last `# TYPE` line's when
/// its name is that family's or one of its suffixes (`_total`,
/// `_created`, `_bucket`, `_sum`, `_count`), else its own name.
pub fn parse_exposition(text: &str) -> Result<Scraped, ExpositionError> {
    let mut scraped = Scraped::default();
    let mut current: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let fail = |message: String| ExpositionError {
            line: i + 1,
            message,
        };
        let line = line.trim_end();
        if line.is_empty() || line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (keyword, name, value) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
            match (keyword, name) {
                (Some("TYPE"), Some(name)) => {
                    let kind = match value {
                        "counter" => MetricType::Counter,
                        "gauge" => MetricType::Gauge,
                        _ => MetricType::Unknown,
                    };
                    match scraped.families.iter_mut().find(|f| f.0 == name) {
                        Some(family) => family.1 = kind,
                        None => scraped
                            .families
                            .push((name.to_string(), kind, String::new())),
                    }
                    current = Some(name.to_string());
                }
                (Some("HELP"), Some(name)) => {
                    match scraped.families.iter_mut().find(|f| f.0 == name) {
                        Some(family) => family.2 = value.to_string(),
                        None => scraped.families.push((
                            name.to_string(),
                            MetricType::Unknown,
                            value.to_string(),
                        )),
                    }
                    current = Some(name.to_string());
                }
                _ => {}
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, labels, rest) = sample_head(line).map_err(fail)?;
        let value_text = rest
            .split_whitespace()
            .next()
            .ok_or_else(|| fail("no value".to_string()))?;
        let value =
            parse_value(value_text).ok_or_else(|| fail(format!("not a number: {value_text}")))?;
        let family = match &current {
            Some(family) if belongs(&name, family) => family.clone(),
            _ => name.clone(),
        };
        let mut labels = labels;
        labels.insert(NAME.to_string(), name);
        scraped.samples.push((family, labels, value));
    }
    Ok(scraped)
}

fn belongs(name: &str, family: &str) -> bool {
    name == family
        || ["_total", "_created", "_bucket", "_sum", "_count", "_info"]
            .iter()
            .any(|suffix| name.strip_prefix(family) == Some(suffix))
}

/// A value as the text formats write one (`+Inf`, `-Inf`, `NaN` among them).
pub(crate) fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// `name{a="b",c="d"} rest` into its parts; label values unescaped.
fn sample_head(line: &str) -> Result<(String, Labels, &str), String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| "a sample without a value".to_string())?;
    let name = line[..name_end].to_string();
    let mut labels = Labels::new();
    let rest = &line[name_end..];
    let Some(mut rest) = rest.strip_prefix('{') else {
        return Ok((name, labels, rest.trim_start()));
    };
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((name, labels, after.trim_start()));
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| "a label without a value".to_string())?;
        let label = rest[..eq].trim().to_string();
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or_else(|| format!("label {label}: its value is not quoted"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("label {label}: unterminated value")),
                },
                Some((_, c)) => value.push(c),
                None => return Err(format!("label {label}: unterminated value")),
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
        let scraped = parse_exposition(text).unwrap();
        assert_eq!(scraped.families.len(), 2);
        assert_eq!(scraped.samples[0].0, "up_total");
        assert_eq!(scraped.samples[0].1["a"], "x\"y");
        assert_eq!(scraped.samples[0].2, 3.0);
        assert_eq!(scraped.samples[1].2, 1.5);
        assert!(parse_exposition("g{a=1} 2").is_err());
    }
}
