//! What a file gate scans: bytes already in memory (a printed page, a test
//! bench upload) or a file on disk (uploads, downloads, pasted images),
//! which is never read whole into the server's memory: it is opened without
//! following links, its size comes from the open file, and the extraction
//! worker receives it streamed in small chunks.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The content of a file crossing a gate.
#[derive(Debug, Clone)]
pub enum FileInput {
    /// Bytes in memory.
    Bytes(Arc<Vec<u8>>),
    /// A file on disk, read by the extraction worker in chunks.
    Path(PathBuf),
}

impl From<Arc<Vec<u8>>> for FileInput {
    fn from(bytes: Arc<Vec<u8>>) -> Self {
        FileInput::Bytes(bytes)
    }
}

impl From<PathBuf> for FileInput {
    fn from(path: PathBuf) -> Self {
        FileInput::Path(path)
    }
}

impl From<&Path> for FileInput {
    fn from(path: &Path) -> Self {
        FileInput::Path(path.to_owned())
    }
}

/// Opens `path` for reading without following a symbolic link in its last
/// component, and only when it is a regular file: the file and its size.
pub fn open_regular(path: &Path) -> std::io::Result<(File, u64)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok((file, meta.len()))
}

/// SHA-256 of a regular file, read in 64 KiB chunks.
pub fn digest_file(path: &Path) -> std::io::Result<[u8; 32]> {
    let (mut file, _) = open_regular(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buf[..n]);
    }
}

/// The first `max` bytes of a regular file (a content sniff's head).
pub fn head(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    let (file, _) = open_regular(path)?;
    let mut out = Vec::with_capacity(max);
    file.take(max as u64).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_directories_are_refused_and_files_hash_like_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&f, &data).unwrap();
        let want: [u8; 32] = Sha256::digest(&data).into();
        assert_eq!(digest_file(&f).unwrap(), want);
        assert_eq!(open_regular(&f).unwrap().1, 200_000);
        assert_eq!(head(&f, 4).unwrap(), data[..4]);
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(open_regular(&link).is_err());
        assert!(open_regular(dir.path()).is_err());
    }
}
