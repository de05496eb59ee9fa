//! Go-style durations (`15s`, `3m`, `1m30s`, `800ms`): parsing, printing, and the serde field type.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// What a duration field accepts, for error messages.
pub(crate) const ACCEPTED: &str = "a duration like 15s, 3m, 1m30s or 800ms";

/// The longest duration a file may name; longer ones are typos, not simulations.
const NANOS_MAX: u128 = u64::MAX as u128;

/// Fraction digits beyond this many cannot change the result by a nanosecond.
const FRACTION_DIGITS_MAX: u32 = 18;

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SECOND: u128 = 1_000_000_000;
const NANOS_PER_MINUTE: u128 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: u128 = 60 * NANOS_PER_MINUTE;

/// Parses a duration as Go's `time.ParseDuration` does, minus signs: a
/// sequence of decimal numbers, each with an optional fraction and a unit
/// (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`). A bare `0` is accepted, as in Go.
///
/// The error says what is wrong with `text`, without the accepted form.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    if text.is_empty() {
        return Err("an empty string is not a duration".to_string());
    }
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative"));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total: u128 = 0;
    if text.contains(char::is_whitespace) {
        return Err(format!(
            "`{text}` is not a duration (spaces are not allowed)"
        ));
    }
    while !rest.is_empty() {
        let (number, after_number) = split_number(rest);
        if number.is_empty() || number == "." {
            return Err(format!(
                "`{text}` is not a duration (a number is missing before `{rest}`)"
            ));
        }
        let unit_len = after_number
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphabetic() || *c == 'µ' || *c == 'μ'))
            .map_or(after_number.len(), |(i, _)| i);
        let (unit, after_unit) = after_number.split_at(unit_len);
        if unit.is_empty() {
            return Err(if after_number.is_empty() && number.len() == text.len() {
                format!("`{text}` has no unit")
            } else {
                format!("`{text}` is not a duration (no unit after `{number}`)")
            });
        }
        let Some(unit_nanos) = unit_nanos(unit) else {
            return Err(format!(
                "`{text}` has the unknown unit `{unit}` (units are ns, us, ms, s, m, h)"
            ));
        };
        let nanos = component_nanos(number, unit_nanos).ok_or_else(|| too_large(text))?;
        total = total
            .checked_add(nanos)
            .filter(|t| *t <= NANOS_MAX)
            .ok_or_else(|| too_large(text))?;
        rest = after_unit;
    }
    let nanos = u64::try_from(total).map_err(|_| too_large(text))?;
    Ok(Duration::from_nanos(nanos))
}

fn too_large(text: &str) -> String {
    format!("`{text}` is too large")
}

/// Splits off the leading `digits[.digits]` (either part may be empty).
fn split_number(text: &str) -> (&str, &str) {
    let mut seen_dot = false;
    let end = text
        .char_indices()
        .find(|(_, c)| match c {
            '0'..='9' => false,
            '.' if !seen_dot => {
                seen_dot = true;
                false
            }
            _ => true,
        })
        .map_or(text.len(), |(i, _)| i);
    text.split_at(end)
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SECOND,
        "m" => NANOS_PER_MINUTE,
        "h" => NANOS_PER_HOUR,
        _ => return None,
    })
}

/// `number` (`12`, `1.5`, `.5`, `3.`) times `unit_nanos`; `None` on overflow.
fn component_nanos(number: &str, unit_nanos: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let mut whole_value: u128 = 0;
    for digit in whole.bytes() {
        whole_value = whole_value
            .checked_mul(10)?
            .checked_add(u128::from(digit - b'0'))?;
        if whole_value > NANOS_MAX {
            return None;
        }
    }
    let mut fraction_value: u128 = 0;
    let mut scale: u128 = 1;
    for digit in fraction.bytes().take(FRACTION_DIGITS_MAX as usize) {
        fraction_value = fraction_value * 10 + u128::from(digit - b'0');
        scale *= 10;
    }
    whole_value
        .checked_mul(unit_nanos)?
        .checked_add(fraction_value * unit_nanos / scale)
}

/// Prints a duration so that [`parse`] reads it back: `0s`, `800ms`, `1.5s`,
/// `1m30s`, `1h`, `2h30m`.
pub(crate) fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < NANOS_PER_SECOND {
        return if nanos.is_multiple_of(NANOS_PER_MILLI) {
            format!("{}ms", nanos / NANOS_PER_MILLI)
        } else if nanos.is_multiple_of(NANOS_PER_MICRO) {
            format!("{}us", nanos / NANOS_PER_MICRO)
        } else {
            format!("{nanos}ns")
        };
    }
    let hours = nanos / NANOS_PER_HOUR;
    let minutes = nanos % NANOS_PER_HOUR / NANOS_PER_MINUTE;
    let seconds = nanos % NANOS_PER_MINUTE / NANOS_PER_SECOND;
    let sub_second = nanos % NANOS_PER_SECOND;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || sub_second > 0 {
        out.push_str(&seconds.to_string());
        if sub_second > 0 {
            let fraction = format!("{sub_second:09}");
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        out.push('s');
    }
    out
}

/// What a duration field accepts, for error messages.
pub(crate) const TIMING_ACCEPTED: &str =
    "a duration like 15s, 3m, 1m30s or 800ms, or a range like 30s..50s";

/// A duration field of a scenario file: one duration, or a range
/// `least..greatest` (both included) from which each run draws under its
/// seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timing {
    pub least: Duration,
    pub greatest: Duration,
}

impl Timing {
    pub fn is_range(&self) -> bool {
        self.least != self.greatest
    }
}

/// `15s` or `30s..50s`; the error says what is wrong with `text`.
pub(crate) fn parse_timing(text: &str) -> Result<Timing, String> {
    let Some((least, greatest)) = text.split_once("..") else {
        let fixed = parse(text)?;
        return Ok(Timing {
            least: fixed,
            greatest: fixed,
        });
    };
    let least = parse(least).map_err(|e| format!("the range `{text}` starts badly: {e}"))?;
    let greatest = parse(greatest).map_err(|e| format!("the range `{text}` ends badly: {e}"))?;
    if greatest < least {
        return Err(format!("the range `{text}` ends before it starts"));
    }
    Ok(Timing { least, greatest })
}

impl<'de> Deserialize<'de> for Timing {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimingVisitor)
    }
}

struct TimingVisitor;

impl<'de> Visitor<'de> for TimingVisitor {
    type Value = Timing;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TIMING_ACCEPTED)
    }

    crate::refuse::refuse_other_shapes!();

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Timing, E> {
        parse_timing(text).map_err(|what| E::custom(format!("{what}; expected {TIMING_ACCEPTED}")))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Timing, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Timing, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Timing, E> {
        Err(E::custom(format!(
            "`{number}` has no unit; expected {TIMING_ACCEPTED}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, expected: Duration) {
        assert_eq!(parse(text), Ok(expected), "parsing `{text}`");
    }

    fn rejected(text: &str, expected_error: &str) {
        match parse(text) {
            Ok(d) => panic!("`{text}` parsed as {d:?}, expected an error"),
            Err(e) => assert!(
                e.contains(expected_error),
                "`{text}`: error `{e}` lacks `{expected_error}`"
            ),
        }
    }

    #[test]
    fn timings_are_durations_or_ranges() {
        let secs = Duration::from_secs;
        assert_eq!(
            parse_timing("30s..50s"),
            Ok(Timing {
                least: secs(30),
                greatest: secs(50)
            })
        );
        assert_eq!(
            parse_timing("1m"),
            Ok(Timing {
                least: secs(60),
                greatest: secs(60)
            })
        );
        assert!(!parse_timing("1m..1m").unwrap().is_range());
        assert_eq!(
            parse_timing("50s..30s"),
            Err("the range `50s..30s` ends before it starts".to_string())
        );
        assert!(parse_timing("30s..").unwrap_err().contains("ends badly"));
        assert!(parse_timing("..5s").unwrap_err().contains("starts badly"));
        assert!(parse_timing("1s..2s..3s").is_err());
    }

    #[test]
    fn accepts_go_durations() {
        ok("15s", Duration::from_secs(15));
        ok("3m", Duration::from_secs(180));
        ok("1m30s", Duration::from_secs(90));
        ok("800ms", Duration::from_millis(800));
        ok("1h", Duration::from_secs(3600));
        ok("2h45m10s", Duration::from_secs(2 * 3600 + 45 * 60 + 10));
        ok("1.5s", Duration::from_millis(1500));
        ok(".5s", Duration::from_millis(500));
        ok("3.s", Duration::from_secs(3));
        ok("1.5h", Duration::from_secs(5400));
        ok("10us", Duration::from_micros(10));
        ok("10µs", Duration::from_micros(10));
        ok("7ns", Duration::from_nanos(7));
        ok("0", Duration::ZERO);
        ok("0s", Duration::ZERO);
        ok("0.000000001s", Duration::from_nanos(1));
        ok("1.0000000000000000000000001s", Duration::from_secs(1));
    }

    #[test]
    fn rejects_what_go_rejects_and_negatives() {
        rejected("15", "`15` has no unit");
        rejected("s", "a number is missing");
        rejected("-1s", "`-1s` is negative");
        rejected("1.5.3s", "no unit after `1.5`");
        rejected("", "empty");
        rejected("+1s", "a number is missing");
        rejected("1x", "unknown unit `x`");
        rejected("1sec", "unknown unit `sec`");
        rejected("1 s", "spaces are not allowed");
        rejected("1s ", "spaces are not allowed");
        rejected(".s", "a number is missing");
        rejected("1m30", "no unit after `30`");
        rejected("99999999999999999999999h", "too large");
        rejected("999999999999h", "too large");
    }

    #[test]
    fn format_round_trips() {
        for (duration, text) in [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(800), "800ms"),
            (Duration::from_millis(10), "10ms"),
            (Duration::from_micros(15), "15us"),
            (Duration::from_nanos(3), "3ns"),
            (Duration::from_secs(15), "15s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(180), "3m"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(3600 + 1), "1h1s"),
            (Duration::from_millis(60_800), "1m0.8s"),
        ] {
            assert_eq!(format(duration), text);
            assert_eq!(parse(text), Ok(duration), "`{text}` reads back");
        }
    }
}
