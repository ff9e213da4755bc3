//! The user the extraction workers run as.
//!
//! Workers parse hostile files: PDF, Office, archive and image parsers, and
//! tesseract and leptonica, which are C. A bug in any of them must cost an
//! unprivileged process, never the server's root. When the server runs as
//! root, each worker is started as `isolator extract-worker --user UID:GID`
//! and drops to that user (supplementary groups cleared, gid then uid,
//! `no_new_privs` set) before it reads a byte; it verifies the drop and
//! exits otherwise. The drop happens inside the worker rather than through
//! `setpriv` so that the worker program may live anywhere (a build tree
//! under `/root` is not executable by another user); files reach the worker
//! through its stdin, so it needs no access to the server's directories.

use std::ffi::OsString;
use std::path::PathBuf;

use enforcer::extract::WorkerConfig;

/// The default worker user, created by `isolator/scripts/install-deps.sh`.
pub const DEFAULT_USER: &str = "isolator-extract";

/// The worker configuration for `program` (default: this executable) with
/// workers running as `run_as` when the server is root. An empty `run_as`
/// keeps them as the server's user, which the log says out loud.
pub fn worker_config(program: Option<PathBuf>, run_as: &str) -> Result<WorkerConfig, String> {
    let program = match program {
        Some(p) => p,
        None => std::env::current_exe().map_err(|e| format!("finding this executable: {e}"))?,
    };
    let mut args: Vec<OsString> = vec!["extract-worker".into()];
    if crate::os::is_root() {
        if run_as.is_empty() {
            tracing::warn!(
                "SECURITY: extraction workers run as root (enforce.extract_run_as = \"\"): \
                 a parser bug exploited by a hostile file would run as root"
            );
        } else {
            let (uid, gid) = crate::os::lookup_user(run_as).ok_or_else(|| {
                format!(
                    "enforce.extract_run_as: user {run_as:?} does not exist \
                     (isolator/scripts/install-deps.sh creates {DEFAULT_USER:?})"
                )
            })?;
            if uid == 0 {
                return Err(format!("enforce.extract_run_as: {run_as:?} is root"));
            }
            args.push("--user".into());
            args.push(format!("{uid}:{gid}").into());
        }
    }
    Ok(WorkerConfig::new(program, args))
}
