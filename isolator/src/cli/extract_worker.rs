//! `isolator extract-worker`: the sandboxed side of the extraction pool.
//!
//! Hidden from `--help`; started by `enforcer::extract::WorkerPool` (which
//! runs this binary with `extract-worker`). It speaks the framed protocol of
//! `enforcer::extract::worker::protocol` on stdin/stdout, so nothing else may
//! write to stdout here. It sets its own memory and CPU limits from the
//! pool's setup message and exits when the pool closes its stdin.
//!
//! With `--user UID:GID` (the server runs as root) it first drops to that
//! user: see [`crate::enforce::worker_user`].

use std::process::ExitCode;

use anyhow::{bail, Context};
use rustix::process::{Gid, Uid};

/// Arguments of `isolator extract-worker` (the rest comes from the pool
/// over the protocol).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Drop to this user (`UID:GID`) before reading anything.
    #[arg(long, value_name = "UID:GID")]
    user: Option<String>,
}

/// Runs `isolator extract-worker` until its input closes.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(user) = &args.user {
        drop_to(user)?;
    }
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    enforcer::extract::worker::serve(stdin, stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// Becomes `uid:gid` for good: no supplementary groups, real, effective and
/// saved ids all set (so the capabilities of root are gone), and no way to
/// gain privileges again through a set-uid program. The process has one
/// thread here, so the per-thread system calls change the whole process.
fn drop_to(user: &str) -> anyhow::Result<()> {
    let (uid, gid) = user
        .split_once(':')
        .and_then(|(u, g)| Some((u.parse::<u32>().ok()?, g.parse::<u32>().ok()?)))
        .with_context(|| format!("--user {user:?}: expected UID:GID"))?;
    if uid == 0 {
        bail!("--user {user:?}: refusing to run as root");
    }
    let (u, g) = (Uid::from_raw(uid), Gid::from_raw(gid));
    rustix::thread::set_thread_groups(&[]).context("clearing supplementary groups")?;
    rustix::thread::set_thread_res_gid(g, g, g).context("setting the group")?;
    rustix::thread::set_thread_res_uid(u, u, u).context("setting the user")?;
    rustix::thread::set_no_new_privs(true).context("setting no_new_privs")?;
    if rustix::process::getuid() != u || rustix::process::geteuid() != u {
        bail!(
            "--user {user:?}: still running as uid {}",
            rustix::process::geteuid().as_raw()
        );
    }
    Ok(())
}
