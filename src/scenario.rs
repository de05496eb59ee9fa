//! A scenario file, and every question the library asks of it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use stallsim_explore::{
    matrix, sensitivity, shrink, stall_window, systematic, Explore, Matrix, MatrixQuery,
    Sensitivity, SensitivityQuery, Shrunk, Systematic, SystematicQuery, Window, WindowQuery,
};
use stallsim_harness::{Program, Run, WorldConfig};
use stallsim_scenario::{Draw, Drawn, Estimate, Expect};

use crate::Error;

/// Where two runs of one seed parted ([`Scenario::replays`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The seed run twice.
    pub seed: u64,
    /// The index of the first trace event that differs.
    pub index: usize,
    /// That event in the first run, as its JSON line (`None`: the first
    /// run's trace ended before it).
    pub first: Option<String>,
    /// That event in the second run.
    pub second: Option<String>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let none = "(the trace ended)";
        write!(
            f,
            "seed {} does not replay: trace event {} differs; first run: {}; second run: {}",
            self.seed,
            self.index,
            self.first.as_deref().unwrap_or(none),
            self.second.as_deref().unwrap_or(none)
        )
    }
}

/// A checked scenario file: the worlds it describes (one per seed, its
/// ranged times drawn under the seed) and what their runs must come to.
///
/// ```
/// # fn main() -> Result<(), stallsim::Error> {
/// let s = stallsim::Scenario::from_file("scenarios/grm-deletion-stall.yaml")?;
/// assert_eq!(s.name(), "grm-deletion-stall");
/// let run = s.run(s.seed());
/// assert!(run.report.verdict.is_stall());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    file: stallsim_scenario::Scenario,
}

impl Scenario {
    /// Reads and checks the scenario file at `path`. The error names the
    /// file, line, column and field, and what would be accepted.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario, Error> {
        Ok(Scenario {
            file: stallsim_scenario::load(path.as_ref())?,
        })
    }

    /// Checks the scenario `text`, as if read from `path` (only named in
    /// errors; nothing is read).
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Scenario, Error> {
        Ok(Scenario {
            file: stallsim_scenario::parse(path.as_ref(), text)?,
        })
    }

    /// Binds `program`'s code to the components of the file whose
    /// `program:` names it: every run, exploration, window, shrink and
    /// picture of this scenario then runs that code in their pods. The
    /// error says which programs the file names when none is `program`'s.
    ///
    /// ```
    /// # fn main() -> Result<(), stallsim::Error> {
    /// use stallsim::{Process, Program, Scenario};
    /// let text = "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: idle}\n\
    ///     spec:\n  duration: 10m\n  \
    ///     components: [{name: idle, program: idle, replicas: [{name: idle-0}]}]\n";
    /// let idle = Program::new("idle", |process: Process| async move {
    ///     process.shutdown().await;
    /// });
    /// let s = Scenario::parse("idle.yaml", text)?.program(idle)?;
    /// assert_eq!(s.run(1).report.verdict, stallsim::Verdict::Converges);
    /// # Ok(())
    /// # }
    /// ```
    pub fn program(self, program: Program) -> Result<Scenario, Error> {
        Ok(Scenario {
            file: self.file.bind_program(program)?,
        })
    }

    /// Runs the world of `seed` twice and compares the traces event by
    /// event: `Ok` when they are the same, byte for byte; else the first
    /// event where they part. How a user checks that their own code (a
    /// bound program) leaves time, randomness and iteration order to the
    /// world (docs/your-controller.md lists what breaks it: a `HashMap`
    /// iterated, `thread_rng`, the OS clock, `select!` without `biased;`).
    pub fn replays(&self, seed: u64) -> Result<(), Divergence> {
        let lines =
            |run: Run| -> Vec<String> { run.trace.iter().map(|e| e.to_json_line()).collect() };
        let (first, second) = (lines(self.run(seed)), lines(self.run(seed)));
        let parted = (0..first.len().max(second.len())).find(|&i| first.get(i) != second.get(i));
        match parted {
            None => Ok(()),
            Some(index) => Err(Divergence {
                seed,
                index,
                first: first.get(index).cloned(),
                second: second.get(index).cloned(),
            }),
        }
    }

    /// The programs the file's components name, in order.
    pub fn program_names(&self) -> Vec<String> {
        self.file.program_names()
    }

    /// The programs the file names that no code is bound to yet: a run of
    /// the scenario stops at once with a model error until each is bound
    /// ([`Scenario::program`]).
    pub fn unbound_programs(&self) -> Vec<String> {
        self.file.unbound_programs()
    }

    /// The scenario as the lower crates take it.
    pub fn file(&self) -> &stallsim_scenario::Scenario {
        &self.file
    }

    /// `metadata.name`.
    pub fn name(&self) -> String {
        self.config().name
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// The file's own seed: `spec.seed`, else 1.
    pub fn seed(&self) -> u64 {
        self.file.seed()
    }

    /// `spec.expect`, if the file has one.
    pub fn expectation(&self) -> Option<&Expect> {
        self.file.expectation().ok()
    }

    /// What runs are held to: the file's `expect`, else convergence.
    pub fn property(&self) -> Expect {
        self.expectation()
            .cloned()
            .unwrap_or_else(Expect::converges)
    }

    /// The world of the run with the file's own seed.
    pub fn config(&self) -> WorldConfig {
        self.file.config()
    }

    /// The ranged times of the file (field, range), with the values the
    /// file's own seed draws for them; empty when no time is a range.
    pub fn ranges(&self) -> Vec<Draw> {
        self.world(self.seed()).draws
    }

    /// The world of the run with `seed`: every range drawn under it.
    pub fn world(&self, seed: u64) -> Drawn {
        self.file.world(seed)
    }

    /// The world of the run with `seed`, but the ranged times named in
    /// `times` (by field, `spec.deletionFlow.deleteAt`) take the given
    /// values, clamped to their ranges, instead of their draws.
    pub fn world_with(&self, seed: u64, times: &BTreeMap<String, Duration>) -> Drawn {
        self.file.world_with(seed, times)
    }

    /// The estimated constants the file leaves unset, which
    /// [`Scenario::world_estimated`] draws (see `stallsim_scenario::ESTIMATES`).
    pub fn estimated(&self) -> &[&'static Estimate] {
        self.file.estimated()
    }

    /// The world of `seed` with every estimated constant the file leaves
    /// unset drawn from its plausible range too, under the seed.
    pub fn world_estimated(&self, seed: u64) -> Drawn {
        self.file.world_estimated(seed)
    }

    /// Runs the world of `seed` to its end and judges it.
    pub fn run(&self, seed: u64) -> Run {
        stallsim_harness::run(&self.world(seed).config)
    }

    /// Runs the world of `seed` with the ranged times in `times` (see
    /// [`Scenario::world_with`]) and judges it.
    pub fn run_with(&self, seed: u64, times: &BTreeMap<String, Duration>) -> Run {
        stallsim_harness::run(&self.world_with(seed, times).config)
    }

    /// An exploration of many seeds: set it up, then [`Explore::run`].
    ///
    /// ```
    /// # fn main() -> Result<(), stallsim::Error> {
    /// let s = stallsim::Scenario::from_file("scenarios/grm-deletion-stall-fixed.yaml")?;
    /// let e = s.explore().runs(2).jobs(2).run()?;
    /// assert_eq!(e.runs(), 2);
    /// assert_eq!(e.stall_rate().count, 0);
    /// assert!(e.stall_rate().upper_95() < 0.85);
    /// # Ok(())
    /// # }
    /// ```
    pub fn explore(&self) -> Explore<'_> {
        Explore::new(&self.file)
    }

    /// The fix matrix: `query.runs` seeds from the file's own under no fix,
    /// each fix alone and the file's combination, judged for convergence.
    pub fn matrix(&self, query: &MatrixQuery) -> Result<Matrix, Error> {
        Ok(matrix(&self.file, query, &|| false)?)
    }

    /// Where in the range of `query.field` the runs stall. The error says
    /// which fields are ranges when it is not one.
    pub fn window(&self, query: &WindowQuery) -> Result<Window, Error> {
        stall_window(&self.file, query).ok_or_else(|| Error::NotARange {
            field: query.field.clone(),
            ranged: self
                .world(query.seed)
                .draws
                .into_iter()
                .map(|d| d.field)
                .collect(),
        })
    }

    /// The run with `seed` reduced to what it needs to break `property`;
    /// `None` when it holds it.
    pub fn shrink(&self, seed: u64, property: &Expect) -> Option<Shrunk> {
        shrink(&self.file, seed, property)
    }

    /// Every order of the key events the file's ranges can force, checked
    /// against `property`; `None` when no time is a range.
    pub fn systematic(&self, property: &Expect, query: &SystematicQuery) -> Option<Systematic> {
        systematic(&self.file, property, query)
    }

    /// The file made self-contained for the run with `seed`: `spec.seed`
    /// set and every range replaced by its draw.
    pub fn fixed_text(&self, seed: u64) -> Result<String, Error> {
        Ok(self.file.fixed_text(seed)?)
    }

    /// [`fixed_text`](Self::fixed_text) as a regression test: when the file
    /// states no `expect`, the property the run broke (convergence) is
    /// written in, so the saved file fails `stallsim test` until the race
    /// is fixed instead of being skipped.
    pub fn regression_text(&self, seed: u64) -> Result<String, Error> {
        Ok(self.file.regression_text(seed)?)
    }

    /// [`regression_text`](Self::regression_text) for the run of
    /// [`Scenario::world_estimated`] with `seed`: each estimated constant's
    /// draw written as a field, so the saved file replays the run without
    /// `--estimates`.
    pub fn regression_text_estimated(&self, seed: u64) -> Result<String, Error> {
        Ok(self.file.regression_text_estimated(seed)?)
    }

    /// The file made self-contained for the run of
    /// [`Scenario::world_estimated`] with `seed`: as
    /// [`Scenario::fixed_text`], and each estimated constant's draw written
    /// as a field.
    pub fn fixed_text_estimated(&self, seed: u64) -> Result<String, Error> {
        Ok(self.file.fixed_text_estimated(seed)?)
    }

    /// Whether the verdict of the run with `query.seed` holds for every
    /// plausible value of each estimated constant, moved alone, or rests
    /// on some, and where: each change of verdict bisected to the tick and
    /// explained by the first key event that differs across it.
    ///
    /// ```
    /// # fn main() -> Result<(), stallsim::Error> {
    /// let s = stallsim::Scenario::from_file("scenarios/crds-deleted-before-start.yaml")?;
    /// let query = stallsim::explore::SensitivityQuery { seed: s.seed(), grid_points: 2, jobs: 2 };
    /// let found = s.sensitivity(&query);
    /// assert_eq!(found.verdict, "converges");
    /// assert_eq!(found.constants.len(), stallsim::explore::estimates_count());
    /// # Ok(())
    /// # }
    /// ```
    pub fn sensitivity(&self, query: &SensitivityQuery) -> Sensitivity {
        sensitivity(&self.file, query)
    }
}
