//! `isolator scan`.

use std::process::ExitCode;

/// Arguments of `isolator scan`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `isolator scan`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`isolator scan` is not available in this build yet")
}
