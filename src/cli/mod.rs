//! The command line: one module per subcommand, each with its arguments
//! and what it prints, plus the exit codes. Only this side reads
//! arguments and the environment, prints, and picks exit codes; the
//! questions themselves are the library's.

pub mod exit;
pub mod explore;
pub mod logs;
pub mod matrix;
pub mod merge;
mod modeline;
mod progress;
pub mod run;
mod save;
pub mod sensitivity;
pub mod serve;
pub mod shrink;
mod summary;
pub mod systematic;
pub mod test;
pub mod window;

use std::path::Path;

/// The scenario at `file`, or `None` after saying on stderr what is wrong
/// with it (the caller exits with [`exit::BAD_INPUT`]).
pub fn load_scenario(file: &Path) -> Option<stallsim::Scenario> {
    let scenario = stallsim::Scenario::from_file(file)
        .map_err(|error| eprintln!("error: {error}"))
        .ok()?;
    if let Some(error) = unbound_programs_error(file, &scenario.unbound_programs()) {
        eprintln!("error: {error}");
        return None;
    }
    Some(scenario)
}

/// Why a file that names programs cannot run from the command line: a
/// program is code, which only Rust can bind; `None` when it names none.
pub fn unbound_programs_error(file: &Path, unbound: &[String]) -> Option<String> {
    let names: Vec<String> = unbound.iter().map(|n| format!("`{n}`")).collect();
    (!names.is_empty()).then(|| {
        format!(
            "{}: the scenario runs the program {}, which is code: a program is bound from Rust \
             (stallsim::Scenario::program, in your crate's tests or binary), not by a file \
             alone (see docs/your-controller.md)",
            file.display(),
            names.join(", ")
        )
    })
}

/// Writes `text` to `out`; the error names the file and what was written.
fn write_file(out: &Path, what: &str, text: &str) -> Result<(), String> {
    create_parent(out, what)?;
    std::fs::write(out, text)
        .map_err(|error| format!("cannot write the {what} to {}: {error}", out.display()))
}

/// Creates (or truncates) the file `out` for the `what`, and the
/// directories above it; the error names the file and what it was for.
fn create_file(out: &Path, what: &str) -> Result<std::fs::File, String> {
    create_parent(out, what)?;
    std::fs::File::create(out)
        .map_err(|error| format!("cannot write the {what} to {}: {error}", out.display()))
}

/// Creates the directories above `out`, as `mkdir -p` does.
fn create_parent(out: &Path, what: &str) -> Result<(), String> {
    match out.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|error| {
            format!(
                "cannot write the {what} to {}: cannot create {}: {error}",
                out.display(),
                dir.display()
            )
        }),
        None => Ok(()),
    }
}
