//! A property test over the scenario itself: proptest draws the ranged
//! fixed scenario's times (grm-1's start, grm-0's loss, the deletion) with
//! `stallsim::proptest::times`, and a seed for the network and the other
//! draws, and every such run converges. A failing draw would shrink to
//! the least times that still fail; the cases it ever found failing are
//! kept in `tests/fix_holds.proptest-regressions` and tried first on every
//! run.

use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use stallsim::Scenario;

/// Runs per `cargo test`: each is a 20-minute world.
const CASES: u32 = 6;

static FIXED: LazyLock<Scenario> = LazyLock::new(|| {
    Scenario::from_file(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/grm-deletion-stall-fixed-ranged.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
});

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/fix_holds.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_liveness_deadline_converges_for_every_timing(
        seed in 1u64..1_000_000,
        times in stallsim::proptest::times(&FIXED),
    ) {
        prop_assert_eq!(times.len(), 3, "every ranged time is drawn");
        let report = FIXED.run_with(seed, &times).report;
        prop_assert_eq!(
            report.verdict.name(),
            "converges",
            "seed {} with {:?}: {:?}",
            seed,
            times,
            report.verdict
        );
    }
}
