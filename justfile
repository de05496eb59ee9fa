# Named recipes. Each is one plain cargo command you can run without `just`,
# except `fuzz-race` (a shell loop over the scenario files) and `ci`
# (`bash .ci/run`: formatting, lints, the layering check, docs, the tests).

# The main job: the incident scenario, with its verdict and timeline.
run file="scenarios/grm-deletion-stall.yaml" *args="":
    cargo run --release -- run {{file}} {{args}}

# Every test, every bundled scenario's expectation among them.
test:
    cargo test --release --workspace

# Check each scenario file's `expect`.
scenarios *paths="scenarios":
    cargo run --release -- test {{paths}}

# Long exploration: every bundled scenario for `budget` of wall-clock time
# each (each seed draws its ranged times, latencies and jitters), held to
# its `expect`: verdict rates, coverage of the orderings, and the failing
# runs saved to scenarios/found/ with their replay lines (move one to
# scenarios/regressions/ to keep it as a test). Files
# without an `expect` are for exploring by hand and are skipped, as
# `stallsim test` skips them. Exit 1 if any scenario had a failing run.
fuzz-race budget="10m" *args="":
    status=0; for f in $(grep -l '^  expect:' scenarios/*.yaml); do cargo run --release -- explore "$f" --for {{budget}} {{args}} || status=1; done; exit $status

# Cost of the incident and its fix against an empty world of the same shape,
# and how it grows with replicas and simulated time.
bench runs="5":
    cargo run --release --example bench -- {{runs}}

# What CI runs.
ci:
    bash .ci/run
