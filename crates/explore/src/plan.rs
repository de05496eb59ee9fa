//! Which seeds an exploration runs: the first, how many (or until told to
//! stop), and which shard of them this process takes. A plan is checked
//! when it is made, so a run never meets a seed past `u64::MAX`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Runs of an exploration that is given no budget.
pub const RUNS_DEFAULT: u64 = 100;

/// How many runs an exploration may start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Exactly this many (unless interrupted).
    Runs(u64),
    /// Seeds one after the other until a stop predicate says so (the
    /// caller's clock, say): the engine itself reads no clock.
    UntilStopped,
}

/// Which of the runs this process takes: those whose index (seed minus the
/// first seed) is `index` modulo `count`. The shards of one exploration
/// together run exactly the unsharded runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard's index, below `count`.
    pub index: u64,
    /// How many shards the runs are split into, 1 or more.
    pub count: u64,
}

impl Shard {
    /// Every run.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; the error says why there is no such shard.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count} does not exist; expected an index below a count of 1 or more"
            ));
        }
        Ok(Shard { index, count })
    }

    /// `I/N`, or `N` alone with `I` from `job_index` (as a Kubernetes
    /// Indexed Job's `JOB_COMPLETION_INDEX` or a CI matrix sets it).
    pub fn parse(text: &str, job_index: Option<&str>) -> Result<Shard, String> {
        let number = |part: &str, what: &str| {
            part.parse::<u64>()
                .map_err(|_| format!("`{part}` is not a {what}; expected --shard I/N, like 0/4"))
        };
        let (index, count) = match text.split_once('/') {
            Some((index, count)) => (number(index, "shard index")?, number(count, "shard count")?),
            None => {
                let index = job_index.ok_or(
                    "--shard N needs JOB_COMPLETION_INDEX for the index; expected --shard I/N",
                )?;
                (number(index, "shard index")?, number(text, "shard count")?)
            }
        };
        Shard::new(index, count)
    }
}

impl fmt::Display for Shard {
    /// `I/N`, as `--shard` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Serialize for Shard {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shard, D::Error> {
        let text = String::deserialize(deserializer)?;
        Shard::parse(&text, None).map_err(serde::de::Error::custom)
    }
}

/// Why a plan cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// `first + runs - 1` is past `u64::MAX`: the seeds would wrap.
    SeedsWrap {
        /// The first seed asked for.
        first: u64,
        /// The runs asked for.
        runs: u64,
    },
    /// A budget of no runs.
    NoRuns,
    /// No worker thread.
    NoJobs,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::SeedsWrap { first, runs } => write!(
                f,
                "{runs} runs from seed {first} would pass the last seed ({}); expected a first seed of at most {}",
                u64::MAX,
                u64::MAX - (runs - 1)
            ),
            PlanError::NoRuns => write!(f, "a budget of 0 runs runs nothing; expected 1 or more"),
            PlanError::NoJobs => write!(f, "0 worker threads run nothing; expected 1 or more"),
        }
    }
}

impl std::error::Error for PlanError {}

/// Which seeds to run: `first + index` for every index of the budget that
/// falls in the shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    first: u64,
    budget: Budget,
    shard: Shard,
}

impl Plan {
    /// A plan whose every seed exists: with a budget of runs, the last
    /// (`first + runs - 1`) must not pass `u64::MAX`. An open-ended budget
    /// stops at `u64::MAX` at the latest.
    pub fn new(first: u64, budget: Budget, shard: Shard) -> Result<Plan, PlanError> {
        if let Budget::Runs(runs) = budget {
            if runs == 0 {
                return Err(PlanError::NoRuns);
            }
            if first.checked_add(runs - 1).is_none() {
                return Err(PlanError::SeedsWrap { first, runs });
            }
        }
        Ok(Plan {
            first,
            budget,
            shard,
        })
    }

    /// The first seed of the whole exploration (of every shard).
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The budget of the whole exploration.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// The shard this plan runs.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// Runs this shard takes of a budget of runs; `None` when open-ended.
    pub fn runs_in_shard(&self) -> Option<u64> {
        match self.budget {
            Budget::Runs(runs) => Some(
                runs.saturating_sub(self.shard.index)
                    .div_ceil(self.shard.count),
            ),
            Budget::UntilStopped => None,
        }
    }

    /// The seed of this shard's `taken`-th run, or `None` past the budget.
    /// Monotonic: past the budget for one `taken`, past it for every later.
    pub fn seed(&self, taken: u64) -> Option<u64> {
        let index = taken
            .checked_mul(self.shard.count)?
            .checked_add(self.shard.index)?;
        if matches!(self.budget, Budget::Runs(runs) if index >= runs) {
            return None;
        }
        self.first.checked_add(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_that_would_wrap_are_refused() {
        let error = Plan::new(u64::MAX, Budget::Runs(3), Shard::WHOLE).unwrap_err();
        assert_eq!(
            error,
            PlanError::SeedsWrap {
                first: u64::MAX,
                runs: 3
            }
        );
        assert!(
            error.to_string().contains("18446744073709551613"),
            "{error}"
        );
        let last = Plan::new(u64::MAX - 2, Budget::Runs(3), Shard::WHOLE).unwrap();
        assert_eq!(last.seed(2), Some(u64::MAX));
        assert_eq!(last.seed(3), None);
        assert_eq!(
            Plan::new(1, Budget::Runs(0), Shard::WHOLE),
            Err(PlanError::NoRuns)
        );
    }

    #[test]
    fn shards_take_every_seed_once() {
        let whole = Plan::new(10, Budget::Runs(7), Shard::WHOLE).unwrap();
        let all: Vec<u64> = (0..).map_while(|i| whole.seed(i)).collect();
        assert_eq!(all, (10..17).collect::<Vec<_>>());
        let mut sharded = Vec::new();
        for index in 0..3 {
            let plan = Plan::new(10, Budget::Runs(7), Shard::new(index, 3).unwrap()).unwrap();
            let seeds: Vec<u64> = (0..).map_while(|i| plan.seed(i)).collect();
            assert_eq!(seeds.len() as u64, plan.runs_in_shard().unwrap());
            sharded.extend(seeds);
        }
        sharded.sort();
        assert_eq!(sharded, all);
    }

    #[test]
    fn an_open_budget_ends_at_the_last_seed() {
        let plan = Plan::new(u64::MAX - 1, Budget::UntilStopped, Shard::WHOLE).unwrap();
        assert_eq!(plan.seed(1), Some(u64::MAX));
        assert_eq!(plan.seed(2), None);
    }

    #[test]
    fn shards_parse_and_print_as_i_of_n() {
        assert_eq!(Shard::parse("1/4", None), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(
            Shard::parse("4", Some("3")),
            Ok(Shard { index: 3, count: 4 })
        );
        assert!(Shard::parse("4/4", None).is_err());
        assert!(Shard::parse("4", None).is_err());
        assert_eq!(Shard::new(2, 5).unwrap().to_string(), "2/5");
    }
}
