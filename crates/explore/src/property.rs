//! The property runs of a scenario are held to, and how it is named in a
//! summary.

use serde::{Deserialize, Serialize};
use stallsim_scenario::{Expect, Scenario};

/// The scenario's `expect` when it has one (`true`), else convergence
/// (`false`): every replica that is not ready recovers or is restarted in time.
pub fn property_of(scenario: &Scenario) -> (Expect, bool) {
    match scenario.expectation() {
        Ok(expect) => (expect.clone(), true),
        Err(_) => (Expect::converges(), false),
    }
}

/// The property every run of an exploration is checked against, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Property {
    /// `converges` or `stall` (and the replica, if the file names one).
    pub expect: String,
    /// `file` for the scenario's own `expect`, `default` for convergence
    /// where the file has none, `given` for one the caller gave.
    pub from: String,
}

impl Property {
    /// `expect` in words; `from_file` when it is the file's own.
    pub fn new(expect: &Expect, from_file: bool) -> Property {
        Property {
            expect: describe(expect),
            from: if from_file { "file" } else { "default" }.to_string(),
        }
    }

    /// A property the caller gave instead of the file's.
    pub fn given(expect: &Expect) -> Property {
        Property {
            expect: describe(expect),
            from: "given".to_string(),
        }
    }

    /// Whether it is the file's own `expect`.
    pub fn from_file(&self) -> bool {
        self.from == "file"
    }
}

/// The property in a few words: `converges`, `stall of grm-1`, and the
/// flow's wait and the request bounds if the file names them.
pub fn describe(expect: &Expect) -> String {
    let mut text = expect.verdict.name().to_string();
    if let Some(replica) = &expect.stalled_replica {
        text.push_str(&format!(" of {replica}"));
    }
    match expect.deployment_ready_within_flow_timeout {
        Some(true) => text.push_str(", deployment ready within the flow's wait"),
        Some(false) => text.push_str(", deployment not ready within the flow's wait"),
        None => {}
    }
    if let Some(bounds) = &expect.api_requests {
        for (class, _, max) in bounds.bounds() {
            text.push_str(&format!(
                ", at most {max} {} a minute per replica",
                class.label()
            ));
        }
    }
    text
}
