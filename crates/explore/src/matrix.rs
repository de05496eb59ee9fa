//! The fix matrix's rows: the scenario with no fix, each candidate fix
//! alone, and the combination the file names, so the same draws can be
//! judged under each.

use std::time::Duration;

use stallsim_harness::manager::Mitigations;

/// Gardener's `DefaultCacheSyncDeadline` (pkg/healthz/informer.go).
const LIVENESS_CACHE_SYNC_DEADLINE: Duration = Duration::from_secs(180);
/// A lazily created informer is given what a watch source gets: the
/// controller's default CacheSyncTimeout.
const LAZY_INFORMER_SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// One row: a name as scenario files write it, and the switches.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixRow {
    pub name: String,
    pub mitigations: Mitigations,
}

/// No fix, then each fix alone, then the file's own combination when it
/// names one that is not among them.
pub fn matrix_rows(in_file: &Mitigations) -> Vec<MatrixRow> {
    let none = Mitigations::default();
    let row = |name: &str, mitigations: Mitigations| MatrixRow {
        name: name.to_string(),
        mitigations,
    };
    let mut rows = vec![
        row("none", none.clone()),
        row(
            "livenessCacheSyncDeadline: 3m",
            Mitigations {
                liveness_cache_sync_deadline: Some(LIVENESS_CACHE_SYNC_DEADLINE),
                ..none.clone()
            },
        ),
        row(
            "ignoreNotFound",
            Mitigations {
                ignore_not_found: true,
                ..none.clone()
            },
        ),
        row(
            "rediscoverOnLeadership",
            Mitigations {
                rediscover_on_leadership: true,
                ..none.clone()
            },
        ),
        row(
            "notFoundListIsEmpty",
            Mitigations {
                not_found_list_is_empty: true,
                ..none.clone()
            },
        ),
        row(
            "lazyInformerSyncTimeout: 2m",
            Mitigations {
                lazy_informer_sync_timeout: Some(LAZY_INFORMER_SYNC_TIMEOUT),
                ..none
            },
        ),
    ];
    if !rows.iter().any(|r| r.mitigations == *in_file) {
        rows.push(row("as written in the file", in_file.clone()));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fix_alone_then_the_files_combination() {
        let rows = matrix_rows(&Mitigations::default());
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].mitigations, Mitigations::default());
        for row in &rows[1..] {
            assert_ne!(row.mitigations, Mitigations::default(), "{}", row.name);
        }
        let combined = Mitigations {
            ignore_not_found: true,
            rediscover_on_leadership: true,
            ..Mitigations::default()
        };
        let rows = matrix_rows(&combined);
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[6].mitigations, combined);
    }
}
