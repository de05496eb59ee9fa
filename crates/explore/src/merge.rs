//! The explorations of an exploration's shards combined into the
//! exploration of the whole, as if one process had run every seed.

use std::fmt;

use crate::exploration::Exploration;
use crate::tally::Tally;

/// Why shards do not combine; `shard` is a position in the list given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// No shard was given.
    Empty,
    /// This shard explored another scenario, file, property, first seed or
    /// number of runs than the first.
    NotSameExploration {
        /// Its position.
        shard: usize,
    },
    /// This one covers a whole exploration, not a shard of one.
    Whole {
        /// Its position.
        shard: usize,
    },
    /// This shard splits the runs into another number of shards than the first.
    OtherCount {
        /// Its position.
        shard: usize,
        /// Its number of shards.
        count: u64,
        /// The first shard's number of shards.
        expected: u64,
    },
    /// No shard covers `index` of `count`.
    Missing {
        /// The shard index missing.
        index: u64,
        /// Of this many shards.
        count: u64,
    },
    /// Two shards cover `index` of `count`.
    Twice {
        /// The shard index given twice.
        index: u64,
        /// Of this many shards.
        count: u64,
    },
    /// Two shards ran this seed (and failed it).
    SeedTwice {
        /// The seed.
        seed: u64,
    },
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::Empty => write!(f, "no shard to merge; expected every shard of the exploration once"),
            MergeError::NotSameExploration { shard } => write!(
                f,
                "shard #{} is not a shard of the same exploration as the first (scenario, file, property, estimates, first seed and runs must match)",
                shard + 1
            ),
            MergeError::Whole { shard } => write!(
                f,
                "#{} is the summary of a whole exploration, not of a shard; expected the summaries of `explore --shard I/N`",
                shard + 1
            ),
            MergeError::OtherCount { shard, count, expected } => write!(
                f,
                "#{}: a shard of {count} where the first has shards of {expected}; expected shards of one exploration",
                shard + 1
            ),
            MergeError::Missing { index, count } => write!(
                f,
                "shard {index}/{count} is missing; expected every shard of the exploration once"
            ),
            MergeError::Twice { index, count } => write!(
                f,
                "shard {index}/{count} is given twice; expected every shard of the exploration once"
            ),
            MergeError::SeedTwice { seed } => write!(
                f,
                "seed {seed} is in two shards; expected each shard of one exploration once"
            ),
        }
    }
}

impl std::error::Error for MergeError {}

impl Exploration {
    /// Combines the shards `0/N` to `N-1/N` of one exploration, each once,
    /// in any order, into the exploration of the whole: exactly what one
    /// process running every seed would have found.
    pub fn merge(shards: &[Exploration]) -> Result<Exploration, MergeError> {
        let first = shards.first().ok_or(MergeError::Empty)?;
        if let Some(shard) = shards.iter().position(|s| {
            s.scenario != first.scenario
                || s.file != first.file
                || s.property != first.property
                || s.estimates != first.estimates
                || s.first_seed != first.first_seed
                || s.planned != first.planned
        }) {
            return Err(MergeError::NotSameExploration { shard });
        }
        every_shard_once(shards)?;
        let mut tally = Tally::default();
        for shard in shards {
            tally
                .merge(shard.tally.clone())
                .map_err(|seed| MergeError::SeedTwice { seed })?;
        }
        Ok(Exploration {
            scenario: first.scenario.clone(),
            file: first.file.clone(),
            first_seed: first.first_seed,
            planned: first.planned,
            interrupted: shards.iter().any(|s| s.interrupted),
            shard: None,
            estimates: first.estimates.clone(),
            property: first.property.clone(),
            tally,
        })
    }
}

/// The shards must be `0/N` to `N-1/N` of one count, each once: then
/// together they ran exactly the unsharded runs.
fn every_shard_once(shards: &[Exploration]) -> Result<(), MergeError> {
    let mut specs = Vec::new();
    for (position, shard) in shards.iter().enumerate() {
        specs.push(shard.shard.ok_or(MergeError::Whole { shard: position })?);
    }
    let count = specs[0].count;
    if let Some(shard) = specs.iter().position(|s| s.count != count) {
        return Err(MergeError::OtherCount {
            shard,
            count: specs[shard].count,
            expected: count,
        });
    }
    for index in 0..count {
        match specs.iter().filter(|s| s.index == index).count() {
            1 => {}
            0 => return Err(MergeError::Missing { index, count }),
            _ => return Err(MergeError::Twice { index, count }),
        }
    }
    Ok(())
}
