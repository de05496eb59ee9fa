//! `stallsim merge`: the summaries of an exploration's shards combined into
//! the summary of the whole, as if one process had run every seed.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use stallsim::explore::{Exploration, MergeError, Property, Shard, Tally};

use super::exit;
use super::summary::{Saved, Summary};

/// Combine the `--json` summaries of an exploration's shards into the
/// summary of the whole. Exit 0 when every run held the property, 1
/// when one did not, 2 on bad input.
#[derive(clap::Args)]
pub struct Args {
    /// The shards' JSON summaries.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the merged summary as JSON.
    #[arg(long)]
    json: bool,
}

/// What merge reads of a shard's summary.
#[derive(Deserialize)]
struct ShardFile {
    scenario: String,
    file: PathBuf,
    first_seed: u64,
    planned: Option<u64>,
    interrupted: bool,
    property: Property,
    /// Absent in summaries of stallsim before estimates could be drawn.
    #[serde(default)]
    estimates: Vec<String>,
    shard: Option<String>,
    tally: Tally,
    saved: SavedFiles,
}

#[derive(Deserialize)]
struct SavedFiles {
    dir: PathBuf,
    written: Vec<PathBuf>,
    not_written: u64,
    errors: Vec<String>,
}

/// Runs `stallsim merge`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let files = &args.files;
    let shards = match files.iter().map(|f| read(f)).collect::<Result<Vec<_>, _>>() {
        Ok(shards) => shards,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
    };
    let explorations: Vec<Exploration> = shards.iter().map(|(e, _)| e.clone()).collect();
    let merged = match Exploration::merge(&explorations) {
        Ok(merged) => merged,
        Err(error) => {
            eprintln!("error: {}", explain(&error, files));
            return exit::BAD_INPUT;
        }
    };
    let first = &shards[0].1;
    let saved = Saved {
        dir: first.dir.clone(),
        written: shards.iter().flat_map(|(_, s)| s.written.clone()).collect(),
        not_written: shards.iter().map(|(_, s)| s.not_written).sum(),
        errors: shards.iter().flat_map(|(_, s)| s.errors.clone()).collect(),
    };
    let summary = Summary::new(merged, saved);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("a summary serializes")
        );
    } else {
        print!("{}", summary.text());
    }
    if summary.failed == 0 {
        exit::CONVERGES
    } else {
        exit::STALL
    }
}

/// The merge's error, naming the files it is about.
fn explain(error: &MergeError, files: &[PathBuf]) -> String {
    let file = |shard: &usize| files[*shard].display();
    match error {
        MergeError::NotSameExploration { shard } => format!(
            "{}: not a shard of the same exploration as {} (scenario, file, property, first seed and runs must match)",
            file(shard),
            files[0].display()
        ),
        MergeError::Whole { shard } => format!(
            "{}: the summary of a whole exploration, not of a shard; expected the summaries of `explore --shard I/N`",
            file(shard)
        ),
        MergeError::OtherCount {
            shard,
            count,
            expected,
        } => format!(
            "{}: a shard of {count} where {} has shards of {expected}; expected shards of one exploration",
            file(shard),
            files[0].display()
        ),
        other => other.to_string(),
    }
}

/// A shard's exploration and the files it saved, read from its summary.
fn read(file: &Path) -> Result<(Exploration, SavedFiles), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read the file: {e}", file.display()))?;
    let shard: ShardFile = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not the JSON summary of `stallsim explore --json` ({e})",
            file.display()
        )
    })?;
    let spec = shard
        .shard
        .as_deref()
        .map(|text| Shard::parse(text, None).map_err(|e| format!("{}: {e}", file.display())))
        .transpose()?;
    let exploration = Exploration {
        scenario: shard.scenario,
        file: shard.file,
        first_seed: shard.first_seed,
        planned: shard.planned,
        interrupted: shard.interrupted,
        shard: spec,
        estimates: shard.estimates,
        property: shard.property,
        tally: shard.tally,
    };
    Ok((exploration, shard.saved))
}
