//! `isolator serve`.

use std::process::ExitCode;

/// Arguments of `isolator serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `isolator serve`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`isolator serve` is not available in this build yet")
}
