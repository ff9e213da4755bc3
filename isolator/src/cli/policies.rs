//! `isolator policies check|explain`.

use std::process::ExitCode;

/// Subcommands of `isolator policies`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a policy document and print a summary.
    Check {
        /// The policy file.
        file: std::path::PathBuf,
    },
}

/// Runs `isolator policies ...`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`isolator policies` is not available in this build yet")
}
