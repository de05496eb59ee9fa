//! A property test over the same generator `explore` uses: any seed of the
//! ranged fixed scenario draws a timing (grm-1's start, grm-0's loss, the
//! deletion) and a network, and every such run converges. proptest picks
//! the seeds and shrinks a failing one to the smallest; the seeds it ever
//! found failing are kept in `tests/fix_holds.proptest-regressions` and
//! tried first on every run.

use std::path::Path;

use proptest::prelude::*;

/// Runs per `cargo test`: each is a 20-minute world, about a second.
const CASES: u32 = 6;

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
    fn the_liveness_deadline_converges_for_every_timing(seed in 1u64..1_000_000) {
        let scenario = stallsim_scenario::load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios/grm-deletion-stall-fixed-ranged.yaml"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let drawn = scenario.world(seed);
        let report = stallsim_harness::run(&drawn.config).report;
        let draws: Vec<String> = drawn.draws.iter().map(ToString::to_string).collect();
        prop_assert_eq!(
            report.verdict.name(),
            "converges",
            "seed {} with {:?}: {:?}",
            seed,
            draws,
            report.verdict
        );
    }
}
