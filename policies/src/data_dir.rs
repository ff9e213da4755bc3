//! The directory exact-data files come from, and the one way they are read.
//!
//! A policy document is edited by admins through the API, but the server
//! reads its exact-data CSV files as root: a `csv` naming `/etc/shadow` or
//! `/proc/self/environ` would turn the policy editor into a file reader. So a
//! document never names a host path: its `csv` is a name *inside* the data
//! directory, which only the operator chooses (the server's configuration, or
//! `data/` beside the policy file). [`DataDir::read`]:
//!
//! - refuses absolute names and any `..` component before touching the disk;
//! - resolves the name with every symlink followed (`canonicalize`) and
//!   requires the result to stay inside the (canonical) directory, so a link
//!   in the directory pointing at `/etc/shadow` is refused;
//! - opens the resolved path with `O_NOFOLLOW | O_NONBLOCK` (a fifo cannot
//!   block the open, a link swapped in since cannot be followed), checks on
//!   the open file that it is a regular file and, through `/proc/self/fd`,
//!   that what was opened is still inside the directory;
//! - reads at most [`DataDir::max_bytes`].
//!
//! Errors ([`DataFileError`]) name the file as the document wrote it and say
//! what is wrong; they never carry a byte of any file.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Largest exact-data file read by default: 64 MiB.
pub const DEFAULT_MAX_DATA_BYTES: u64 = 64 << 20;

/// Where a policy's exact-data files may be read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    dir: Option<PathBuf>,
    max_bytes: u64,
}

impl DataDir {
    /// Files are read from `dir` only.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DataDir {
            dir: Some(dir.into()),
            max_bytes: DEFAULT_MAX_DATA_BYTES,
        }
    }

    /// The default for a policy file: `data/` in the file's directory.
    pub fn beside(policy_file: &Path) -> Self {
        let parent = policy_file.parent().unwrap_or(Path::new(""));
        DataDir::new(parent.join("data"))
    }

    /// No directory: every exact-data detector is refused.
    pub fn none() -> Self {
        DataDir {
            dir: None,
            max_bytes: DEFAULT_MAX_DATA_BYTES,
        }
    }

    /// The same directory with a different size limit per file.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The directory, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Largest file read, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Reads the file the document calls `name`; see the module docs.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, DataFileError> {
        let fail = |kind| DataFileError {
            name: name.to_owned(),
            kind,
        };
        let rel = Path::new(name.trim());
        if name.trim().is_empty() {
            return Err(fail(Kind::Empty));
        }
        for c in rel.components() {
            match c {
                Component::Normal(_) | Component::CurDir => {}
                Component::ParentDir => return Err(fail(Kind::ParentComponent)),
                Component::RootDir | Component::Prefix(_) => return Err(fail(Kind::Absolute)),
            }
        }
        let Some(dir) = &self.dir else {
            return Err(fail(Kind::NoDirectory));
        };
        let root =
            std::fs::canonicalize(dir).map_err(|e| fail(Kind::Directory(dir.clone(), e.kind())))?;
        if [
            Path::new("/"),
            Path::new("/proc"),
            Path::new("/sys"),
            Path::new("/dev"),
        ]
        .iter()
        .any(|p| root == *p || (*p != Path::new("/") && root.starts_with(p)))
        {
            return Err(fail(Kind::SystemDirectory(root)));
        }
        let resolved = std::fs::canonicalize(root.join(rel)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail(Kind::Missing(root.clone())),
            other => fail(Kind::Io(other)),
        })?;
        if resolved == root || !resolved.starts_with(&root) {
            return Err(fail(Kind::Outside(root)));
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&resolved)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => fail(Kind::Outside(root.clone())),
                _ => fail(Kind::Io(e.kind())),
            })?;
        let meta = file.metadata().map_err(|e| fail(Kind::Io(e.kind())))?;
        let ft = meta.file_type();
        if !ft.is_file() {
            let what = if ft.is_dir() {
                "a directory"
            } else if ft.is_fifo() {
                "a fifo"
            } else if ft.is_char_device() || ft.is_block_device() {
                "a device"
            } else if ft.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            };
            return Err(fail(Kind::NotRegular(what)));
        }
        if let Ok(opened) = opened_path(&file) {
            if !opened.starts_with(&root) {
                return Err(fail(Kind::Outside(root)));
            }
        }
        if meta.len() > self.max_bytes {
            return Err(fail(Kind::TooLarge(self.max_bytes)));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| fail(Kind::Io(e.kind())))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(fail(Kind::TooLarge(self.max_bytes)));
        }
        Ok(bytes)
    }
}

/// The path the kernel holds for an open file.
fn opened_path(file: &File) -> std::io::Result<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// Why a data file was refused. Displays the name the document gave and the
/// reason, never the file's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFileError {
    name: String,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Empty,
    Absolute,
    ParentComponent,
    NoDirectory,
    Directory(PathBuf, std::io::ErrorKind),
    SystemDirectory(PathBuf),
    Missing(PathBuf),
    Outside(PathBuf),
    NotRegular(&'static str),
    TooLarge(u64),
    Io(std::io::ErrorKind),
}

impl fmt::Display for DataFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            Kind::Empty => f.write_str("needs a file name in the data directory"),
            Kind::Absolute => write!(
                f,
                "`{name}` is an absolute path; name a file inside the data directory"
            ),
            Kind::ParentComponent => write!(
                f,
                "`{name}` contains `..`; name a file inside the data directory"
            ),
            Kind::NoDirectory => write!(
                f,
                "`{name}`: no data directory is configured for this policy (policies.data_dir)"
            ),
            Kind::Directory(dir, e) => write!(
                f,
                "`{name}`: the data directory {} cannot be used: {e}",
                dir.display()
            ),
            Kind::SystemDirectory(dir) => write!(
                f,
                "`{name}`: the data directory resolves to {}, a system directory; configure a directory of its own",
                dir.display()
            ),
            Kind::Missing(dir) => write!(f, "`{name}`: no such file in the data directory {}", dir.display()),
            Kind::Outside(dir) => write!(
                f,
                "`{name}` resolves outside the data directory {} (a symbolic link out of it is refused)",
                dir.display()
            ),
            Kind::NotRegular(what) => write!(f, "`{name}` is {what}, not a regular file"),
            Kind::TooLarge(max) => write!(f, "`{name}` is larger than {max} bytes"),
            Kind::Io(e) => write!(f, "`{name}` cannot be read: {e}"),
        }
    }
}

impl std::error::Error for DataFileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_the_disk() {
        let d = DataDir::new("/nonexistent-data-dir");
        for (name, want) in [
            ("/etc/shadow", "absolute"),
            ("../../etc/passwd", "`..`"),
            ("a/../b.csv", "`..`"),
            ("  ", "needs a file name"),
        ] {
            let e = d.read(name).unwrap_err().to_string();
            assert!(e.contains(want), "{name}: {e}");
        }
        let e = DataDir::none().read("x.csv").unwrap_err().to_string();
        assert!(e.contains("no data directory"), "{e}");
    }

    #[test]
    fn system_directories_are_refused_as_data_directories() {
        for dir in ["/", "/proc", "/proc/self", "/sys", "/dev"] {
            let e = DataDir::new(dir).read("x").unwrap_err().to_string();
            assert!(e.contains("system directory"), "{dir}: {e}");
        }
    }

    #[test]
    fn size_limit_holds() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("big.csv"), vec![b'a'; 100]).unwrap();
        let d = DataDir::new(tmp.path()).with_max_bytes(99);
        let e = d.read("big.csv").unwrap_err().to_string();
        assert!(e.contains("larger than 99 bytes"), "{e}");
        assert_eq!(d.with_max_bytes(100).read("big.csv").unwrap().len(), 100);
    }
}
