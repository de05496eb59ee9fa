//! docs/your-controller.md shows the code and the scenario this crate
//! tests, whole and as they are, and the code stays under 50 lines.

const DOC: &str = include_str!("../../../docs/your-controller.md");
const CODE: &str = include_str!("doc_example.rs");
const SCENARIO: &str = include_str!("../scenarios/widget-cache.yaml");

#[test]
fn the_doc_shows_the_tested_code_and_scenario() {
    assert!(
        DOC.contains(&format!("```rust\n{CODE}```\n")),
        "the doc's code is not tests/doc_example.rs"
    );
    let scenario = SCENARIO.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(
        DOC.contains(&format!("```yaml\n{scenario}\n```\n")),
        "the doc's scenario is not scenarios/widget-cache.yaml"
    );
    let lines = CODE.lines().filter(|line| !line.trim().is_empty()).count();
    assert!(lines < 50, "{lines} lines");
    assert!(
        DOC.contains(&format!(": {lines} lines, the whole of")),
        "the doc counts {lines} lines"
    );
}
