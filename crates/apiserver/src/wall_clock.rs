//! Timestamps read from the OS clock: a client that writes into an object
//! a time it read from its own wall clock (`SystemTime::now()`,
//! `chrono::Utc::now()`, `jiff::Timestamp::now()`) instead of the
//! simulation's gives itself away, since the simulated wall clock starts at
//! the run's epoch (2025-04-01T00:00:00Z) and moves with simulated time.
//!
//! Every committed write of a client is checked: a Lease's `acquireTime`
//! and `renewTime` (typed), and in an object kept as JSON (custom
//! resources, the other built-ins) every string that reads as an RFC 3339
//! timestamp; more than [`WALL_CLOCK_SKEW_MAX`] away from the server's
//! simulated wall clock is a [`WallClockRead`]. Pods and CRDs (typed, and
//! written by the world's own parts) cost nothing.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use crate::object::{time_at, Object, Stored};

/// A written timestamp this far from the simulated wall clock (either way)
/// came from elsewhere: a run's clocks agree to within seconds, and a
/// real clock is months or years from the run's epoch.
pub const WALL_CLOCK_SKEW_MAX: Duration = Duration::from_secs(3600);

/// A timestamp in a committed object that the simulated wall clock could
/// not have given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WallClockRead {
    /// The client that wrote it (a simulated host's name), when known.
    pub client: Option<String>,
    /// The object: `<resource> <namespace>/<name>`.
    pub object: String,
    /// The field (its key in the object).
    pub field: String,
    /// The value written.
    pub value: String,
    /// Simulated time of the write.
    pub at: Duration,
}

impl std::fmt::Display for WallClockRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} wrote {} = {} into {} when the simulated wall clock said {}: a time read from the \
             OS clock (SystemTime, chrono or jiff `now()`) instead of Process::now()",
            self.client.as_deref().unwrap_or("a client"),
            self.field,
            self.value,
            self.object,
            time_at(self.at).0
        )
    }
}

/// The first timestamp of `stored` too far from the simulated wall clock
/// at `now`, as (field, value).
pub(crate) fn far_timestamp(stored: &Stored, now: Duration) -> Option<(String, String)> {
    let wall = time_at(now).0;
    let far = |t: Timestamp| t.duration_since(wall).unsigned_abs() > WALL_CLOCK_SKEW_MAX;
    match stored.typed() {
        Some(Object::Lease(lease)) => {
            let spec = lease.spec.as_ref()?;
            [
                ("acquireTime", &spec.acquire_time),
                ("renewTime", &spec.renew_time),
            ]
            .into_iter()
            .find_map(|(field, time)| {
                let time = time.as_ref()?.0;
                far(time).then(|| (format!("spec.{field}"), time.to_string()))
            })
        }
        Some(_) => None,
        None => json_timestamps(stored.json.text())
            .find(|(_, value)| value.parse::<Timestamp>().is_ok_and(|t| far(t))),
    }
}

/// Every string of `text` (a JSON document) that begins as an RFC 3339
/// date-time (`dddd-dd-ddT`), with the key it is the value of (or
/// `[item]` inside a list).
fn json_timestamps(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if bytes[i] != b'"' {
                i += 1;
                continue;
            }
            let start = i + 1;
            let Some(len) = bytes[start..].iter().position(|&b| b == b'"') else {
                i = bytes.len();
                return None;
            };
            // JSON strings here carry no escaped quotes in a timestamp;
            // one that does is not a timestamp.
            let end = start + len;
            i = end + 1;
            let value = &text[start..end];
            if looks_like_date_time(value.as_bytes()) {
                return Some((key_before(text, start - 1), value.to_string()));
            }
        }
        None
    })
}

/// `dddd-dd-ddT`, the start of an RFC 3339 date-time.
fn looks_like_date_time(b: &[u8]) -> bool {
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b[10] == b'T' || b[10] == b't')
}

/// The key whose value starts at byte `quote` of `text` (`"key":"value"`).
fn key_before(text: &str, quote: usize) -> String {
    let before = text[..quote].trim_end();
    let Some(before) = before.strip_suffix(':') else {
        return "[item]".to_string();
    };
    let before = before.trim_end();
    let Some(before) = before.strip_suffix('"') else {
        return "[item]".to_string();
    };
    match before.rfind('"') {
        Some(open) => before[open + 1..].to_string(),
        None => "[item]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::SignedDuration;

    use super::*;

    #[test]
    fn strings_that_read_as_date_times_are_found_with_their_key() {
        let text =
            r#"{"spec":{"at":"2026-12-06T04:00:00Z","n":"2026"},"l":["2025-04-01T00:00:01Z"]}"#;
        let found: Vec<(String, String)> = json_timestamps(text).collect();
        assert_eq!(
            found,
            [
                ("at".to_string(), "2026-12-06T04:00:00Z".to_string()),
                ("[item]".to_string(), "2025-04-01T00:00:01Z".to_string())
            ]
        );
    }

    #[test]
    fn the_bound_is_an_hour_either_way() {
        let at = Duration::from_secs(600);
        let wall = time_at(at).0;
        let near = wall.checked_add(SignedDuration::from_secs(3599)).unwrap();
        let far = wall.checked_sub(SignedDuration::from_secs(3601)).unwrap();
        let text = |t: Timestamp| format!(r#"{{"x":"{t}"}}"#);
        let check = |t| {
            json_timestamps(&text(t)).any(|(_, v)| {
                v.parse::<Timestamp>()
                    .is_ok_and(|t| t.duration_since(wall).unsigned_abs() > WALL_CLOCK_SKEW_MAX)
            })
        };
        assert!(!check(near));
        assert!(check(far));
    }
}
