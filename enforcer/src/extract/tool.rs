//! Helper programs (poppler's `pdftotext` and `pdftoppm`) run as children of
//! the extraction worker.
//!
//! A child inherits the worker's sandbox: its user (the unprivileged
//! extraction user when the server is root), its address-space limit
//! (`RLIMIT_AS`) and its per-file CPU limit (`RLIMIT_CPU`), and it is
//! started through `setpriv --pdeathsig KILL` so it dies with the worker
//! (the pool kills a worker that overruns its deadline). On top of that each
//! run is bounded here: the input goes in on stdin (no file on disk), the
//! output is read up to a cap, stderr up to a few KiB, and the child is
//! killed at the file's wall-time deadline. A child that fails, is killed or
//! overflows its cap is an error: the file is unscannable; a helper that is
//! not installed makes every file of its kind unscannable, saying which.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::dispatch::Ctx;
use super::error::{Error, Result};

/// Most stderr kept from a helper (for error messages).
const STDERR_CAP: u64 = 4 << 10;

/// What a helper program produced.
pub(crate) struct Output {
    /// How it ended.
    pub(crate) status: ExitStatus,
    /// Its standard output, at most the cap given to [`run`] plus one byte
    /// (so an overflow is visible as `stdout.len() > cap`; the child then
    /// died of `SIGPIPE`).
    pub(crate) stdout: Vec<u8>,
    /// The start of its standard error, lossily decoded.
    pub(crate) stderr: String,
}

/// Runs `program args...` with `input` on stdin, within the file's
/// remaining wall time; stdout is read up to `out_cap + 1` bytes (the child
/// is killed once it writes more).
pub(crate) fn run(
    ctx: &Ctx<'_>,
    program: &'static str,
    args: &[&str],
    input: &[u8],
    out_cap: u64,
) -> Result<Output> {
    let tool = |detail: String| Error::Tool { program, detail };
    // `setpriv --pdeathsig KILL`: the child dies with the worker, even when
    // the pool kills the worker for overrunning its deadline.
    let mut child = Command::new("setpriv")
        .args(["--pdeathsig", "KILL", "--", program])
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| tool(format!("cannot start setpriv (util-linux): {e}")))?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(tool("no pipes".into()));
    };
    let input = input.to_vec();
    // A child that stops reading (it has seen enough, or it died) makes
    // this write fail with a broken pipe: that is not our error to report.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let reader = std::thread::spawn(move || read_capped(stdout, out_cap.saturating_add(1)));
    let errors = std::thread::spawn(move || read_capped(stderr, STDERR_CAP));
    let deadline = Instant::now() + ctx.budget.remaining_time();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout(ctx.budget.limits.max_wall_time_ms));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(tool(e.to_string()));
            }
        }
    };
    let _ = writer.join();
    let stdout = reader
        .join()
        .map_err(|_| tool("output reader failed".into()))?;
    let stderr = errors.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr).trim().to_string();
    // setpriv's own failure to start the program (126: not executable,
    // 127: not found).
    if matches!(status.code(), Some(126 | 127)) && stderr.contains("failed to execute") {
        return Err(tool(format!("cannot start (is it installed?): {stderr}")));
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Reads `source` to its end or up to `cap` bytes. Past the cap the pipe
/// is closed, so a child still writing dies of `SIGPIPE` rather than
/// running on.
fn read_capped(source: impl Read, cap: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = source.take(cap).read_to_end(&mut out);
    out
}
