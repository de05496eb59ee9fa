//! The YAML language server's modeline (`# yaml-language-server:
//! $schema=...`) of a scenario file copied to another directory, so that
//! the copy still names the schema.

use std::path::{Component, Path, PathBuf};

const PREFIX: &str = "# yaml-language-server: $schema=";

/// `text`, the contents of a file in `from_dir`, with a modeline that
/// names the schema by a relative path rewritten for a copy in `to_dir`.
/// A URL, an absolute path or a schema that cannot be found stays as is.
pub fn retarget(text: &str, from_dir: &Path, to_dir: &Path) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let retargeted = line
            .strip_prefix(PREFIX)
            .map(str::trim_end)
            .filter(|target| !target.contains("://") && !Path::new(target).is_absolute())
            .and_then(|target| relative(&from_dir.join(target), to_dir));
        match retargeted {
            Some(path) => {
                out.push_str(PREFIX);
                out.push_str(&path.to_string_lossy().replace('\\', "/"));
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `file` as a path relative to `dir`; both must exist.
fn relative(file: &Path, dir: &Path) -> Option<PathBuf> {
    let file = file.canonicalize().ok()?;
    let dir = dir.canonicalize().ok()?;
    let file_parts: Vec<Component> = file.components().collect();
    let dir_parts: Vec<Component> = dir.components().collect();
    let common = file_parts
        .iter()
        .zip(&dir_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut path = PathBuf::new();
    for _ in common..dir_parts.len() {
        path.push("..");
    }
    for part in &file_parts[common..] {
        path.push(part);
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_names_the_same_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = "# yaml-language-server: $schema=./scenario.schema.json\nkind: Scenario\n";
        assert_eq!(
            retarget(text, &root.join("scenarios"), &root.join("docs")),
            "# yaml-language-server: $schema=../scenarios/scenario.schema.json\nkind: Scenario\n"
        );
        for unchanged in [
            "# yaml-language-server: $schema=https://example.com/s.json\n",
            "# yaml-language-server: $schema=./no-such.json\n",
            "# not a modeline\n",
        ] {
            assert_eq!(
                retarget(unchanged, &root.join("scenarios"), &root.join("docs")),
                unchanged
            );
        }
    }
}
