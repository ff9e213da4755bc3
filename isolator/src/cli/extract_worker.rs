//! `isolator extract-worker`.

use std::process::ExitCode;

/// Arguments of `isolator extract-worker`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `isolator extract-worker`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`isolator extract-worker` is not available in this build yet")
}
