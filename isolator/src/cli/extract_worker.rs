//! `isolator extract-worker`: the sandboxed side of the extraction pool.
//!
//! Hidden from `--help`; started by `enforcer::extract::WorkerPool` (which
//! runs this binary with `extract-worker`). It speaks the framed protocol of
//! `enforcer::extract::worker::protocol` on stdin/stdout, so nothing else may
//! write to stdout here. It sets its own memory and CPU limits from the
//! pool's setup message and exits when the pool closes its stdin.

use std::process::ExitCode;

/// Arguments of `isolator extract-worker` (none: everything comes from the
/// pool over the protocol).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `isolator extract-worker` until its input closes.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    enforcer::extract::worker::serve(stdin, stdout)?;
    Ok(ExitCode::SUCCESS)
}
