//! Log lines for people, off by default: `RUST_LOG` turns them on
//! (`RUST_LOG=stallsim_manager=debug`, `RUST_LOG=stallsim_manager::election=debug,stallsim_harness=info`),
//! each stamped with the simulated time; a replica's lines name it in a
//! `replica` field (its process identity). They go to stderr, so what a
//! command prints on stdout stays the same.

use std::io::IsTerminal;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::EnvFilter;

/// Stamps a line with the simulated time of the host being polled.
struct SimulatedTime;

impl FormatTime for SimulatedTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        match stallsim_harness::sim_now() {
            Some(now) => write!(w, "{:>11}", stallsim_harness::format_duration(now)),
            None => write!(w, "{:>11}", "-"),
        }
    }
}

/// Installs the log subscriber when `RUST_LOG` is set; an unreadable
/// `RUST_LOG` is an error for the user.
pub fn init() -> Result<(), String> {
    let Ok(directives) = std::env::var(EnvFilter::DEFAULT_ENV) else {
        return Ok(());
    };
    let filter = EnvFilter::builder()
        .parse(&directives)
        .map_err(|error| format!("RUST_LOG={directives}: {error}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(SimulatedTime)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}
