//! The property runs of a scenario are held to.

use stallsim_scenario::{Expect, ExpectedVerdict, Scenario};

/// The scenario's `expect` when it has one (`true`), else convergence
/// (`false`): every replica that is not ready recovers or is restarted in time.
pub fn property_of(scenario: &Scenario) -> (Expect, bool) {
    match scenario.expectation() {
        Ok(expect) => (expect.clone(), true),
        Err(_) => (
            Expect {
                verdict: ExpectedVerdict::Converges,
                stalled_replica: None,
                deployment_ready_within_flow_timeout: None,
                api_requests: None,
            },
            false,
        ),
    }
}
