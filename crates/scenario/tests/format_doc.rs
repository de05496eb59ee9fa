//! docs/scenario-format.md shows every field with its default: it must
//! parse, and naming every default must change nothing.

use std::path::Path;

fn documented() -> String {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scenario-format.md");
    let text = std::fs::read_to_string(&doc).expect("docs/scenario-format.md exists");
    let start = text.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + text[start..].find("```").expect("the block ends");
    text[start..end].to_string()
}

#[test]
fn the_documented_defaults_are_the_defaults() {
    let path = Path::new("docs/scenario-format.md");
    let full = stallsim_scenario::parse(path, &documented()).unwrap_or_else(|e| panic!("{e}"));
    let minimal = "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata:\n  name: every-field\nspec:\n  expect:\n    verdict: converges\n";
    let minimal = stallsim_scenario::parse(path, minimal).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(full.config(), minimal.config());
}
