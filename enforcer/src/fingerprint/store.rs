//! The fingerprint store on disk: a directory holding `store.json` (the
//! salt, the parameters and the list of registered documents) and one file
//! of fingerprints per document (`fp/<id>.bin`, sorted little-endian u64s).
//! No text is ever written: only salted hashes, a name, the file's SHA-256
//! and counts.
//!
//! Writes go to a temporary file renamed into place, so a crash never
//! leaves a half-written store. The directory and files are private
//! (0700/0600), like every other data directory of the isolator.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::winnow::{fingerprints, SHINGLE_WORDS, WINDOW};
use super::{Error, Result};

/// Format version of `store.json`.
const VERSION: u32 = 1;

/// One registered document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Its id in the store (unique, never reused).
    pub id: u32,
    /// The name it is reported under (the file name unless given).
    pub name: String,
    /// SHA-256 of the registered bytes (hex), to recognise a re-registration.
    pub sha256: String,
    /// Words in its text.
    pub words: usize,
    /// Distinct fingerprints kept.
    pub fingerprints: usize,
    /// Seconds since the epoch when it was registered.
    pub added: u64,
    /// Background text: its fingerprints only mark common passages
    /// (boilerplate) that never count as a match.
    #[serde(default)]
    pub background: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    /// The salt, hex.
    salt: String,
    shingle_words: usize,
    window: usize,
    next_id: u32,
    documents: Vec<Document>,
}

/// A fingerprint store, opened from its directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    salt: u64,
    next_id: u32,
    documents: Vec<Document>,
    removed: Vec<u32>,
}

impl Store {
    /// Opens the store at `dir`, creating it (with a fresh random salt)
    /// when `create` and it does not exist.
    pub fn open(dir: &Path, create: bool) -> Result<Store> {
        let manifest = dir.join("store.json");
        if !manifest.exists() {
            if !create {
                return Err(Error::store(
                    dir,
                    "no fingerprint store here (store.json missing)",
                ));
            }
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir.join("fp"))
                .map_err(|e| Error::store(dir, &format!("cannot create: {e}")))?;
            let store = Store {
                dir: dir.to_owned(),
                salt: rand::random(),
                next_id: 1,
                documents: Vec::new(),
                removed: Vec::new(),
            };
            store.save()?;
            return Ok(store);
        }
        let text = fs::read_to_string(&manifest)
            .map_err(|e| Error::store(&manifest, &format!("cannot read: {e}")))?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::store(&manifest, &format!("not a fingerprint store: {e}")))?;
        if m.version != VERSION || m.shingle_words != SHINGLE_WORDS || m.window != WINDOW {
            return Err(Error::store(
                &manifest,
                &format!(
                    "made with other parameters (version {}, {} words, window {}); register the documents again in a new store",
                    m.version, m.shingle_words, m.window
                ),
            ));
        }
        let salt = u64::from_str_radix(&m.salt, 16)
            .map_err(|_| Error::store(&manifest, "the salt is not hex"))?;
        Ok(Store {
            dir: dir.to_owned(),
            salt,
            next_id: m.next_id,
            documents: m.documents,
            removed: Vec::new(),
        })
    }

    /// The registered documents.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// The store's salt.
    pub(crate) fn salt(&self) -> u64 {
        self.salt
    }

    /// Registers the text of a document under `name`; `sha256` is of its
    /// bytes (a document with the same hash is replaced). Returns it. The
    /// list of documents is written by [`Store::commit`].
    pub fn add(
        &mut self,
        name: &str,
        sha256: &str,
        text: &str,
        background: bool,
    ) -> Result<Document> {
        let mut words = 0;
        let mut fps = fingerprints(text, self.salt, &mut words);
        fps.sort_unstable();
        fps.dedup();
        if fps.is_empty() {
            return Err(Error::store(
                Path::new(name),
                &format!("has too little text to fingerprint ({words} words; at least {SHINGLE_WORDS} are needed)"),
            ));
        }
        if let Some(old) = self
            .documents
            .iter()
            .find(|d| d.sha256 == sha256)
            .map(|d| d.id)
        {
            self.remove(old)?;
        }
        let doc = Document {
            id: self.next_id,
            name: name.to_owned(),
            sha256: sha256.to_owned(),
            words,
            fingerprints: fps.len(),
            added: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            background,
        };
        let bytes: Vec<u8> = fps.iter().flat_map(|h| h.to_le_bytes()).collect();
        write_private(&self.fp_path(doc.id), &bytes)?;
        self.next_id += 1;
        self.documents.push(doc.clone());
        Ok(doc)
    }

    /// Writes the list of documents (after [`Store::add`] and
    /// [`Store::remove`]); until then the store on disk is unchanged.
    pub fn commit(&mut self) -> Result<()> {
        self.save()?;
        self.removed.clear();
        Ok(())
    }

    /// Removes document `id` (its fingerprints go at [`Store::commit`]).
    pub fn remove(&mut self, id: u32) -> Result<Document> {
        let pos = self
            .documents
            .iter()
            .position(|d| d.id == id)
            .ok_or_else(|| Error::store(&self.dir, &format!("has no document {id}")))?;
        let doc = self.documents.remove(pos);
        self.removed.push(id);
        Ok(doc)
    }

    /// The fingerprints of document `id`, sorted.
    pub(crate) fn load_fingerprints(&self, id: u32) -> Result<Vec<u64>> {
        let path = self.fp_path(id);
        let bytes =
            fs::read(&path).map_err(|e| Error::store(&path, &format!("cannot read: {e}")))?;
        if bytes.len() % 8 != 0 {
            return Err(Error::store(&path, "is truncated"));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect())
    }

    fn fp_path(&self, id: u32) -> PathBuf {
        self.dir.join("fp").join(format!("{id}.bin"))
    }

    fn save(&self) -> Result<()> {
        self.write_manifest()?;
        // Fingerprints of removed documents go once the list no longer names them.
        for id in &self.removed {
            let _ = fs::remove_file(self.fp_path(*id));
        }
        Ok(())
    }

    fn write_manifest(&self) -> Result<()> {
        let m = Manifest {
            version: VERSION,
            salt: format!("{:016x}", self.salt),
            shingle_words: SHINGLE_WORDS,
            window: WINDOW,
            next_id: self.next_id,
            documents: self.documents.clone(),
        };
        let text =
            serde_json::to_vec_pretty(&m).map_err(|e| Error::store(&self.dir, &e.to_string()))?;
        write_private(&self.dir.join("store.json"), &text)
    }
}

/// Writes `bytes` to `path` through a private temporary file renamed into place.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| Error::store(&tmp, &format!("cannot write: {e}")))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::store(&tmp, &format!("cannot write: {e}")))?;
    fs::rename(&tmp, path).map_err(|e| Error::store(path, &format!("cannot replace: {e}")))
}
