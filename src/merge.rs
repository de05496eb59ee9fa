//! `stallsim merge`: the summaries of an exploration's shards combined into
//! the summary of the whole, as if one process had run every seed.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::runs::Shard as ShardSpec;
use crate::summary::{Context, Property, Saved, Summary};
use crate::tally::Tally;
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
    if let Err(error) = every_shard_once(files, &shards) {
        eprintln!("error: {error}");
        return EXIT_BAD_INPUT;
    }
    let mut tally = Tally::default();
    for shard in &shards {
        if let Err(seed) = tally.merge(shard.tally.clone()) {
            eprintln!(
                "error: seed {seed} is in two shards; expected each shard of one exploration once"
            );
            return EXIT_BAD_INPUT;
        }
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
    let summary = Summary::new(context, tally, saved);
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

/// The shards must be `0/N` to `N-1/N` of one count, each once: then
/// together they ran exactly the unsharded runs.
fn every_shard_once(files: &[PathBuf], shards: &[Shard]) -> Result<(), String> {
    let mut specs = Vec::new();
    for (file, shard) in files.iter().zip(shards) {
        let spec = shard
            .shard
            .as_deref()
            .ok_or_else(|| {
                format!(
                    "{}: the summary of a whole exploration, not of a shard; expected the summaries of `explore --shard I/N`",
                    file.display()
                )
            })
            .and_then(|text| {
                ShardSpec::parse(text, None).map_err(|e| format!("{}: {e}", file.display()))
            })?;
        specs.push((file, spec));
    }
    let count = specs[0].1.count;
    for (file, spec) in &specs {
        if spec.count != count {
            return Err(format!(
                "{}: a shard of {} where {} has shards of {count}; expected shards of one exploration",
                file.display(),
                spec.count,
                files[0].display()
            ));
        }
    }
    for index in 0..count {
        match specs.iter().filter(|(_, s)| s.index == index).count() {
            1 => {}
            0 => return Err(format!("shard {index}/{count} is missing; expected every shard of the exploration once")),
            _ => return Err(format!("shard {index}/{count} is given twice; expected every shard of the exploration once")),
        }
    }
    Ok(())
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
