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

# Long exploration: every scenario's expectation under many seeds (each
# seed draws other latencies and jitters); a failure prints its replay line.
fuzz-race seeds="1000" *paths="scenarios":
    cargo run --release -- test --seeds {{seeds}} {{paths}}

# Cost of a run against an empty turmoil world of the same shape.
bench file="scenarios/grm-deletion-stall.yaml" runs="5":
    cargo run --release --example bench -- {{file}} {{runs}}

# What CI runs.
ci:
    bash .ci/run
