//! Sampling: many seeds of one scenario run on the worker pool, each
//! folded into a tally as it finishes, and what a caller wants of the
//! failing runs drawn in the worker from the run that found them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use stallsim_harness::manager::Mitigations;
use stallsim_harness::Run;
use stallsim_scenario::{Drawn, Expect, Scenario};

use crate::exploration::Exploration;
use crate::ordering::ordering;
use crate::plan::{Budget, Plan, PlanError, Shard, RUNS_DEFAULT};
use crate::pool::{jobs_default, never, run_indexed};
use crate::property::{property_of, Property};
use crate::tally::{RunRecord, Tally};

/// A stop predicate: asked before each run is taken.
pub type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// An exploration to run: built with [`Explore::new`] (or
/// `stallsim::Scenario::explore`), set up with its methods, started with
/// [`Explore::run`].
///
/// Each run draws its world from its seed (`first`, `first + 1`, ...), is
/// checked against the property (the file's `expect`, else convergence),
/// folded into the tally and forgotten, so memory stays flat over any
/// number of runs; the result does not depend on the number of threads.
pub struct Explore<'a> {
    scenario: &'a Scenario,
    budget: Budget,
    until: Stop<'a>,
    interrupt: Stop<'a>,
    first: Option<u64>,
    shard: Shard,
    jobs: Option<usize>,
    property: Option<Expect>,
    mitigations: Option<Mitigations>,
    estimates: Estimates,
    on_run: Option<&'a mut (dyn FnMut(&RunRecord) + 'a)>,
}

/// Which values the model's estimated constants take in each run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Estimates {
    /// As the file writes them, else the model's defaults.
    #[default]
    AsWritten,
    /// Each one the file leaves unset drawn from its plausible range under
    /// the run's seed (`Scenario::world_estimated`), so that a rate covers
    /// the model's own uncertainty.
    Plausible,
}

/// A run that did not hold the property, as a worker hands it to the
/// caller's drawing ([`Explore::run_keeping`]) before forgetting it.
pub struct FoundFailure<'r> {
    /// Its seed.
    pub seed: u64,
    /// Its world and the values drawn for it.
    pub drawn: &'r Drawn,
    /// The whole run: trace and report.
    pub run: &'r Run,
    /// What the tally keeps of it (the property's complaints among it).
    pub record: &'r RunRecord,
}

impl<'a> Explore<'a> {
    /// [`RUNS_DEFAULT`] runs of `scenario` from its own seed, on every
    /// core, held to its `expect` (else convergence).
    pub fn new(scenario: &'a Scenario) -> Explore<'a> {
        Explore {
            scenario,
            budget: Budget::Runs(RUNS_DEFAULT),
            until: &never,
            interrupt: &never,
            first: None,
            shard: Shard::WHOLE,
            jobs: None,
            property: None,
            mitigations: None,
            estimates: Estimates::AsWritten,
            on_run: None,
        }
    }

    /// Exactly `runs` runs (at least 1).
    pub fn runs(mut self, runs: u64) -> Self {
        self.budget = Budget::Runs(runs);
        self.until = &never;
        self
    }

    /// Runs until `stop` is true (asked before each run; a run once taken
    /// finishes): how a caller gives a wall-clock budget without this
    /// crate reading a clock. Replaces [`Explore::runs`].
    pub fn until(mut self, stop: Stop<'a>) -> Self {
        self.budget = Budget::UntilStopped;
        self.until = stop;
        self
    }

    /// Stops early, as an interruption (Ctrl-C), when `interrupt` is true:
    /// the result covers the runs that finished and says it was interrupted.
    pub fn interrupt(mut self, interrupt: Stop<'a>) -> Self {
        self.interrupt = interrupt;
        self
    }

    /// The first seed (default: the scenario's own).
    pub fn seed(mut self, first: u64) -> Self {
        self.first = Some(first);
        self
    }

    /// Only this shard of the runs.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Worker threads (at least 1; default: every core).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// Holds every run to `property` instead of the file's `expect`.
    pub fn property(mut self, property: Expect) -> Self {
        self.property = Some(property);
        self
    }

    /// Runs every world with these fixes instead of the file's.
    pub fn mitigations(mut self, mitigations: Mitigations) -> Self {
        self.mitigations = Some(mitigations);
        self
    }

    /// Which values the estimated constants take (default: as written).
    pub fn estimates(mut self, estimates: Estimates) -> Self {
        self.estimates = estimates;
        self
    }

    /// Hands each run's record to `seen` as it finishes (in any order), on
    /// the calling thread: for a progress bar.
    pub fn on_run(mut self, seen: &'a mut (dyn FnMut(&RunRecord) + 'a)) -> Self {
        self.on_run = Some(seen);
        self
    }

    /// The plan these settings make, checked: the seeds must not wrap.
    pub fn plan(&self) -> Result<Plan, PlanError> {
        Plan::new(
            self.first.unwrap_or(self.scenario.seed()),
            self.budget,
            self.shard,
        )
    }

    /// Runs the exploration.
    pub fn run(self) -> Result<Exploration, PlanError> {
        self.run_keeping(0, &|_| ())
            .map(|(exploration, _)| exploration)
    }

    /// Runs the exploration, and for the failing runs of the `keep_max`
    /// lowest seeds keeps what `draw` makes of each (a picture, a file),
    /// drawn inside the worker from the run that failed, so nothing is run
    /// twice. Failures beyond them are counted in the tally, not drawn
    /// (at most a few that were in flight when the bound was reached).
    pub fn run_keeping<K: Send>(
        self,
        keep_max: usize,
        draw: &(dyn Fn(&FoundFailure<'_>) -> K + Sync),
    ) -> Result<(Exploration, BTreeMap<u64, K>), PlanError> {
        let plan = self.plan()?;
        let jobs = self.jobs.unwrap_or_else(jobs_default);
        if jobs == 0 {
            return Err(PlanError::NoJobs);
        }
        let (property, from_file) = match self.property {
            Some(given) => (given, None),
            None => {
                let (expect, from_file) = property_of(self.scenario);
                (expect, Some(from_file))
            }
        };
        let scenario = self.scenario;
        let mitigations = self.mitigations;
        let estimates = self.estimates;
        // Seeds at or above this are not drawn: `keep_max` lower ones failed.
        let cutoff = AtomicU64::new(if keep_max == 0 { 0 } else { u64::MAX });
        let work = |taken: u64| {
            let seed = plan.seed(taken)?;
            let mut drawn = match estimates {
                Estimates::AsWritten => scenario.world(seed),
                Estimates::Plausible => scenario.world_estimated(seed),
            };
            if let Some(mitigations) = &mitigations {
                drawn.config.manager.mitigations = mitigations.clone();
            }
            let run = stallsim_harness::run(&drawn.config);
            let mismatches = property.check(&run.report);
            let record = RunRecord::new(seed, &run.report, mismatches, ordering(&run));
            let kept = (!record.held() && seed < cutoff.load(Ordering::SeqCst)).then(|| {
                draw(&FoundFailure {
                    seed,
                    drawn: &drawn,
                    run: &run,
                    record: &record,
                })
            });
            Some((record, kept))
        };
        let (until, interrupt) = (self.until, self.interrupt);
        let stop = || interrupt() || until();
        let mut on_run = self.on_run;
        let mut tally = Tally::default();
        let mut kept = BTreeMap::new();
        run_indexed(jobs, &stop, &work, |(record, drawn)| {
            if let Some(seen) = on_run.as_mut() {
                seen(&record);
            }
            tally.add(&record);
            if let Some(drawn) = drawn {
                kept.insert(record.seed, drawn);
                while kept.len() > keep_max {
                    kept.pop_last();
                }
                if kept.len() == keep_max {
                    if let Some(highest) = kept.keys().next_back() {
                        cutoff.store(*highest, Ordering::SeqCst);
                    }
                }
            }
        });
        let exploration = Exploration {
            scenario: scenario.config().name,
            file: scenario.path.clone(),
            first_seed: plan.first(),
            planned: match plan.budget() {
                Budget::Runs(runs) => Some(runs),
                Budget::UntilStopped => None,
            },
            interrupted: interrupt(),
            shard: (plan.shard() != Shard::WHOLE).then_some(plan.shard()),
            estimates: match estimates {
                Estimates::AsWritten => Vec::new(),
                Estimates::Plausible => scenario
                    .estimated()
                    .iter()
                    .map(|e| e.field.to_string())
                    .collect(),
            },
            property: match from_file {
                Some(from_file) => Property::new(&property, from_file),
                None => Property::given(&property),
            },
            tally,
        };
        Ok((exploration, kept))
    }
}
