# Named recipes; each is one plain cargo command you can run without `just`.

# The main job: the incident scenario, with its verdict and timeline.
run file="scenarios/grm-deletion-stall.yaml" *args="":
    cargo run --release -- run {{file}} {{args}}

# Every test, every bundled scenario's expectation among them.
test:
    cargo test --release --workspace

# Check each scenario file's `expect`.
scenarios *paths="scenarios":
    cargo run --release -- test {{paths}}

# Long exploration: one scenario under many seeds (each seed draws its
# ranged times, latencies and jitters): verdict rates, coverage of the
# orderings, and the failing runs saved to regressions/ beside the file
# with their replay lines. Default: does the fix hold for every timing?
fuzz-race file="scenarios/grm-deletion-stall-fixed-ranged.yaml" runs="1000" *args="":
    cargo run --release -- explore {{file}} --runs {{runs}} {{args}}

# Cost of the incident and its fix against an empty world of the same shape,
# and how it grows with replicas and simulated time.
bench runs="5":
    cargo run --release --example bench -- {{runs}}

# What CI runs.
ci:
    bash .ci/run
