//! Property tests over scenarios, with [proptest]: a [`Strategy`] over
//! every ranged time of a scenario file ([`times`]), so a test draws
//! worlds the file allows and proptest's shrinker minimises the times of
//! a failing one.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::{Config, TestRunner};
//!
//! let s = stallsim::Scenario::from_file("scenarios/grm-deletion-stall-fixed-ranged.yaml").unwrap();
//! let mut runner = TestRunner::new(Config { cases: 2, failure_persistence: None, ..Config::default() });
//! runner
//!     .run(&stallsim::proptest::times(&s), |times| {
//!         let run = s.run_with(s.seed(), &times);
//!         prop_assert!(!run.report.verdict.is_stall(), "{times:?}: {:?}", run.report.verdict);
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! In a `proptest!` block the strategy is written like any other,
//! `times in stallsim::proptest::times(&scenario)`, and proptest keeps
//! the seeds of failing cases in its regression file as for any
//! strategy.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use proptest::num::u64::BinarySearch;
use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::Scenario;

/// Rounds of shrinking every time in turn, at most: each round that moves
/// a time makes the draw smaller, so few are ever needed.
const PASSES_MAX: u32 = 8;

/// Every ranged time of `scenario` (`spec.deletionFlow.deleteAt`, a
/// fault's `at`, ...), each drawn uniformly in whole milliseconds within
/// its range, as a map from field to value for [`Scenario::world_with`]
/// and [`Scenario::run_with`]. A failing draw shrinks each time toward
/// the least value of its range, by bisection to the millisecond, one time
/// after another and round again while any moved: it ends where no time
/// can move lower alone and still fail, at the edge of a stall window.
pub fn times(scenario: &Scenario) -> Times {
    Times {
        ranges: scenario
            .ranges()
            .into_iter()
            .map(|draw| (draw.field, millis(draw.range.0), millis(draw.range.1)))
            .collect(),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The strategy [`times`] returns.
#[derive(Clone, Debug)]
pub struct Times {
    /// Each ranged field, and its least and greatest value in milliseconds.
    ranges: Vec<(String, u64, u64)>,
}

impl Strategy for Times {
    type Tree = TimesTree;
    type Value = BTreeMap<String, Duration>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let mut trees = Vec::with_capacity(self.ranges.len());
        for (_, least, greatest) in &self.ranges {
            let drawn = (*least..=*greatest).new_tree(runner)?.current();
            trees.push(BinarySearch::new_above(*least, drawn));
        }
        Ok(TimesTree {
            fields: self.ranges.iter().map(|(f, _, _)| f.clone()).collect(),
            least: self.ranges.iter().map(|(_, l, _)| *l).collect(),
            turn_started_at: trees.first().map_or(0, ValueTree::current),
            trees,
            at: 0,
            moved: false,
            passes: 0,
        })
    }
}

/// A draw of [`Times`] and its shrinking: one binary search per time,
/// taking turns.
#[derive(Clone)]
pub struct TimesTree {
    fields: Vec<String>,
    least: Vec<u64>,
    trees: Vec<BinarySearch>,
    /// The time whose turn it is to shrink.
    at: usize,
    /// Its value when its turn began.
    turn_started_at: u64,
    /// Whether any time moved lower in this round.
    moved: bool,
    passes: u32,
}

impl fmt::Debug for TimesTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.current()).finish()
    }
}

impl ValueTree for TimesTree {
    type Value = BTreeMap<String, Duration>;

    fn current(&self) -> Self::Value {
        self.fields
            .iter()
            .zip(&self.trees)
            .map(|(field, tree)| (field.clone(), Duration::from_millis(tree.current())))
            .collect()
    }

    fn simplify(&mut self) -> bool {
        if self.trees.is_empty() {
            return false;
        }
        loop {
            if self.trees[self.at].simplify() {
                return true;
            }
            // This time's search has converged on its least failing value
            // (the current draw, which failed): the next time's turn.
            self.moved |= self.trees[self.at].current() < self.turn_started_at;
            self.at += 1;
            if self.at == self.trees.len() {
                self.at = 0;
                self.passes += 1;
                if !self.moved || self.passes >= PASSES_MAX {
                    return false;
                }
                self.moved = false;
            }
            let now = self.trees[self.at].current();
            self.trees[self.at] = BinarySearch::new_above(self.least[self.at], now);
            self.turn_started_at = now;
        }
    }

    fn complicate(&mut self) -> bool {
        // Only the time that simplified last moved: move it back up.
        self.trees
            .get_mut(self.at)
            .is_some_and(ValueTree::complicate)
    }
}
