//! Private files and directories: what the server keeps (recordings,
//! uploads, downloads, the browser's profile) is readable by the server's
//! own user only, and nothing it uses lives where another local user can
//! write.
//!
//! - [`set_private_umask`]: the `serve` command sets the process umask to
//!   077 before anything is created, so even files made by libraries
//!   (SQLite's journals) are 0600.
//! - [`ensure_private_dir`]: a directory the configuration names (the
//!   `data_dir`, its `files/`) is created 0700, or adopted only when it is a
//!   real directory (not a symlink) owned by the server's own user, its mode
//!   then tightened to 0700. One owned by anyone else is refused: another
//!   user may have created it first (`/tmp/isolator` is a predictable name)
//!   to read or plant what the server writes there.
//! - [`fresh_temp_dir`]: a directory for Chromium (profile, staged uploads,
//!   downloads) gets an unguessable name and is created atomically with
//!   mode 0700 (`mkdtemp`), so no one can have prepared it. Its name carries
//!   the server's pid, so [`sweep_stale_temp_dirs`] at the next start
//!   removes what a server that was killed left behind (a profile's cookies
//!   and cache, files a user downloaded).

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The server's effective user id.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Sets the process umask to 077: files and directories created from now
/// on are private to the server's user unless given a mode explicitly.
pub fn set_private_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `path` (0700, missing parents with the defaults) or adopts it if
/// it is a directory of ours, tightening its mode to 0700; refuses a
/// symlink, a non-directory or a directory owned by another user.
pub fn ensure_private_dir(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| annotate(parent, &format!("cannot create: {e}")))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(annotate(path, &format!("cannot create: {e}"))),
    }
    check_own_dir(path, 0o700)
}

/// Checks that `path` is a real directory owned by the server's user and
/// sets its mode to `mode` (permission bits only).
pub fn check_own_dir(path: &Path, mode: u32) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| annotate(path, &format!("cannot inspect: {e}")))?;
    if !meta.file_type().is_dir() {
        return Err(annotate(
            path,
            "is not a directory (a symlink or a file); refusing to use it",
        ));
    }
    let me = euid();
    if meta.uid() != me {
        return Err(annotate(
            path,
            &format!(
                "is owned by uid {}, not by this server's user (uid {me}): another user may have \
                 created it to read or plant files; remove it or configure another directory",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o7777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| annotate(path, &format!("cannot set mode {mode:o}: {e}")))?;
    }
    Ok(())
}

/// A new directory `<tmp>/<prefix><random>` created atomically with mode
/// 0700 and then set to `mode`; the caller removes it.
pub fn fresh_temp_dir(prefix: &str, mode: u32) -> io::Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .rand_bytes(16)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()?
        .keep();
    if mode != 0o700 {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(dir)
}

/// Removes the directories [`fresh_temp_dir`] made with `prefix` for
/// servers that are gone (`<tmp>/<prefix><pid>-<random>` whose pid no longer
/// runs), owned by this server's user (by anyone when it is root: it hands
/// them to the browser's user). Symlinks are never followed. Returns how
/// many were removed.
pub fn sweep_stale_temp_dirs(prefix: &str) -> usize {
    let me = euid();
    let mut removed = 0;
    let tmp = std::env::temp_dir();
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let ours = me == 0 || meta.uid() == me;
        if !meta.is_dir() || !ours || pid == std::process::id() {
            continue;
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(dir = %entry.path().display(), "a directory left by a stopped server was not removed: {e}")
            }
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            prefix,
            "removed directories left by stopped servers"
        );
    }
    removed
}

/// Creates directory `path` (its parent must exist) with exactly `mode`;
/// fails if anything is there already.
pub fn create_dir_exclusive(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::DirBuilder::new().mode(0o700).create(path)?;
    if mode != 0o700 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

fn annotate(path: &Path, what: &str) -> io::Error {
    io::Error::other(format!("{}: {what}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn creates_private_and_tightens_our_own() {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("a/b/data");
        ensure_private_dir(&new).unwrap();
        assert_eq!(mode(&new), 0o700);
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        ensure_private_dir(&open).unwrap();
        assert_eq!(mode(&open), 0o700);
    }

    #[test]
    fn refuses_symlinks_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        std::fs::create_dir(&target).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = ensure_private_dir(&link).unwrap_err().to_string();
        assert!(err.contains("not a directory"), "{err}");
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(ensure_private_dir(&file).is_err());
    }

    /// As root: a directory another user (nobody) created first is refused
    /// and left alone.
    #[test]
    fn refuses_a_directory_another_user_owns() {
        if euid() != 0 {
            eprintln!("SKIPPED: needs root to give a directory to another user");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let theirs = tmp.path().join("isolator");
        std::fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = ensure_private_dir(&theirs).unwrap_err().to_string();
        assert!(err.contains("owned by uid 65534"), "{err}");
        assert_eq!(mode(&theirs), 0o777, "not touched");
    }

    #[test]
    fn fresh_dirs_are_unique_and_private() {
        let a = fresh_temp_dir("isolator-unit-", 0o700).unwrap();
        let b = fresh_temp_dir("isolator-unit-", 0o711).unwrap();
        assert_ne!(a, b);
        assert_eq!(mode(&a), 0o700);
        assert_eq!(mode(&b), 0o711);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        let pid = format!("isolator-unit-{}-", std::process::id());
        assert!(name.starts_with(&pid), "{name}");
        assert!(name.len() >= pid.len() + 16, "{name}");
        std::fs::remove_dir(&a).unwrap();
        std::fs::remove_dir(&b).unwrap();
        assert!(create_dir_exclusive(&a, 0o711).is_ok());
        assert!(create_dir_exclusive(&a, 0o711).is_err(), "never adopted");
        std::fs::remove_dir(&a).unwrap();
    }

    #[test]
    fn directories_of_stopped_servers_are_swept_and_live_ones_kept() {
        let tmp = std::env::temp_dir();
        // A server that is gone: a pid beyond pid_max never runs.
        let gone = tmp.join("isolator-sweeptest-4194305-abc");
        let gone_file = gone.join("Default/Cookies");
        std::fs::create_dir_all(gone_file.parent().unwrap()).unwrap();
        std::fs::write(&gone_file, "session cookies").unwrap();
        // This server's own, and one of a live process (pid 1).
        let mine = fresh_temp_dir("isolator-sweeptest-", 0o700).unwrap();
        let live = tmp.join("isolator-sweeptest-1-abc");
        std::fs::create_dir_all(&live).unwrap();
        // A symlink named like a stale directory is left alone.
        let target = tempfile::tempdir().unwrap();
        std::fs::write(target.path().join("keep"), "x").unwrap();
        let link = tmp.join("isolator-sweeptest-4194306-lnk");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target.path(), &link).unwrap();
        assert_eq!(sweep_stale_temp_dirs("isolator-sweeptest-"), 1);
        assert!(!gone.exists());
        assert!(mine.is_dir() && live.is_dir());
        assert!(
            target.path().join("keep").exists(),
            "a link is never followed"
        );
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir(&mine).unwrap();
        std::fs::remove_dir(&live).unwrap();
    }
}
