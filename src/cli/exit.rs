//! The exit codes of every subcommand.

/// The run converged, every expectation held, or nothing went wrong.
pub const CONVERGES: u8 = 0;
/// A stall, or a run that broke its expectation.
pub const STALL: u8 = 1;
/// Bad input: arguments, a scenario file, an unwritable output.
pub const BAD_INPUT: u8 = 2;
/// The run ended too early, or something it was told to do never happened.
pub const INCONCLUSIVE: u8 = 3;
/// `run`: a replica kept restarting without getting ready (a restart loop).
pub const RESTART_LOOP: u8 = 4;
/// A second Ctrl-C, which stops at once (128 + SIGINT).
pub const SECOND_INTERRUPT: i32 = 130;
