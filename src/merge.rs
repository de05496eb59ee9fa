//! `stallsim merge`: the summaries of an exploration's shards combined into
//! the summary of the whole, as if one process had run every seed.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::summary::{Context, Property, RunRecord, Saved, Summary};
use crate::{EXIT_BAD_INPUT, EXIT_CONVERGES, EXIT_STALL};

/// What merge reads of a shard's summary.
#[derive(Deserialize)]
struct Shard {
    scenario: String,
    file: PathBuf,
    first_seed: u64,
    planned: Option<u64>,
    interrupted: bool,
    property: Property,
    per_run: Vec<RunRecord>,
    saved: SavedFiles,
}

#[derive(Deserialize)]
struct SavedFiles {
    dir: PathBuf,
    written: Vec<PathBuf>,
    not_written: u64,
    errors: Vec<String>,
}

pub fn merge(files: &[PathBuf], json: bool) -> u8 {
    let shards = match files.iter().map(|f| read(f)).collect::<Result<Vec<_>, _>>() {
        Ok(shards) => shards,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    let first = &shards[0];
    if let Some((file, _)) = files.iter().zip(&shards).find(|(_, s)| {
        s.scenario != first.scenario
            || s.file != first.file
            || s.property != first.property
            || s.first_seed != first.first_seed
            || s.planned != first.planned
    }) {
        eprintln!(
            "error: {}: not a shard of the same exploration as {} (scenario, file, property, first seed and runs must match)",
            file.display(),
            files[0].display()
        );
        return EXIT_BAD_INPUT;
    }
    let mut runs: Vec<RunRecord> = shards.iter().flat_map(|s| s.per_run.clone()).collect();
    runs.sort_by_key(|r| r.seed);
    if let Some(pair) = runs.windows(2).find(|pair| pair[0].seed == pair[1].seed) {
        eprintln!(
            "error: seed {} is in two shards; expected each shard of one exploration once",
            pair[0].seed
        );
        return EXIT_BAD_INPUT;
    }
    let saved = Saved {
        dir: first.saved.dir.clone(),
        written: shards
            .iter()
            .flat_map(|s| s.saved.written.clone())
            .collect(),
        not_written: shards.iter().map(|s| s.saved.not_written).sum(),
        errors: shards.iter().flat_map(|s| s.saved.errors.clone()).collect(),
    };
    let context = Context {
        scenario: &first.scenario,
        file: &first.file,
        first_seed: first.first_seed,
        planned: first.planned,
        interrupted: shards.iter().any(|s| s.interrupted),
        shard: None,
        property: first.property.clone(),
    };
    let summary = Summary::new(context, &runs, saved);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("a summary serializes")
        );
    } else {
        print!("{}", summary.text());
    }
    if summary.failed == 0 {
        EXIT_CONVERGES
    } else {
        EXIT_STALL
    }
}

fn read(file: &Path) -> Result<Shard, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read the file: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not the JSON summary of `stallsim explore --json` ({e})",
            file.display()
        )
    })
}
