//! Document fingerprinting: finds text that comes from a registered
//! confidential document (a contract, a roadmap), whatever format it was
//! registered or found in, without keeping the document's text.
//!
//! Admins register documents in a [`Store`] (only salted, winnowed shingle
//! hashes are kept: [`winnow`]); an [`Index`] built from the store answers
//! which registered documents a text shares passages with
//! ([`Index::lookup`]), as `document_match` findings naming the document
//! and how much is shared.
//!
//! A text matches a document when they share at least
//! [`Thresholds::min_shared`] fingerprints and either
//! - they share [`Thresholds::passage`] fingerprints or more (a paragraph
//!   of the document, wherever it sits: in a chat message or in the middle
//!   of a large upload), or
//! - at least [`Thresholds::document_fraction`] of the document's
//!   fingerprints are in the text (the document, re-saved or lightly
//!   edited, however short), or
//! - at least [`Thresholds::text_fraction`] of the text's fingerprints are
//!   the document's (a short text taken from it).
//!
//! Fingerprints that occur in many registered documents
//! ([`Thresholds::max_documents_per_fingerprint`]) or in a background text
//! (registered with `background`) are boilerplate: they never count.

mod store;
pub mod winnow;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use store::{Document, Store};

/// The detector id fingerprint matches are reported under.
pub const DETECTOR: &str = "document_match";

/// The profile a policy lists to have texts and files looked up among the
/// registered documents (`profiles = ["fingerprints"]`); its one detector
/// is [`DETECTOR`].
pub const PROFILE: &str = "fingerprints";

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct Error {
    /// The file or directory.
    pub path: PathBuf,
    /// What was wrong.
    pub why: String,
}

impl Error {
    fn store(path: &Path, why: &str) -> Self {
        Error {
            path: path.to_owned(),
            why: why.to_owned(),
        }
    }
}

/// Results of the fingerprint store.
pub type Result<T> = std::result::Result<T, Error>;

/// When a shared passage is a match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Fewest shared fingerprints for any match (each stands for about
    /// `WINDOW / 2` words of shared text).
    pub min_shared: usize,
    /// Shared fingerprints that make a match whatever the fractions: a
    /// shared passage this long (about 40 words at the default) is no
    /// coincidence once boilerplate is excluded.
    pub passage: usize,
    /// Share of the document's fingerprints found in the text.
    pub document_fraction: f64,
    /// Share of the text's fingerprints that are the document's.
    pub text_fraction: f64,
    /// A fingerprint in more registered documents than this is boilerplate.
    pub max_documents_per_fingerprint: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_shared: 3,
            passage: 8,
            document_fraction: 0.2,
            text_fraction: 0.5,
            max_documents_per_fingerprint: 5,
        }
    }
}

/// One registered document a text shares passages with.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentMatch {
    /// The document's id in the store.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Fingerprints shared.
    pub shared: usize,
    /// Share of the document's (non-boilerplate) fingerprints in the text.
    pub document_fraction: f64,
    /// Share of the text's fingerprints that are the document's.
    pub text_fraction: f64,
}

impl DocumentMatch {
    /// The redacted evidence of a `document_match` finding: the document
    /// and how much is shared, never the text.
    pub fn evidence(&self) -> String {
        format!(
            "shares {} passages with registered document #{} \"{}\" ({:.0}% of the document, {:.0}% of this text)",
            self.shared,
            self.id,
            self.name,
            self.document_fraction * 100.0,
            self.text_fraction * 100.0
        )
    }
}

/// Bits of a hash that pick its bucket in the directory.
const DIRECTORY_BITS: u32 = 20;

/// The registered documents' fingerprints, ready for lookups: one array of
/// (hash, document) pairs sorted by hash (16 bytes per fingerprint), and a
/// directory of where each run of hashes with the same top
/// [`DIRECTORY_BITS`] bits starts (4 MiB), so a lookup reads one directory
/// entry and a few neighbouring pairs instead of searching the array.
#[derive(Debug)]
pub struct Index {
    salt: u64,
    entries: Vec<(u64, u32)>,
    directory: Vec<u32>,
    /// Per document id: name and counted (non-boilerplate) fingerprints.
    documents: HashMap<u32, (String, usize)>,
    thresholds: Thresholds,
}

impl Index {
    /// Loads every document of `store`.
    pub fn build(store: &Store, thresholds: Thresholds) -> Result<Index> {
        let mut entries: Vec<(u64, u32)> = Vec::new();
        let mut background: Vec<u64> = Vec::new();
        for doc in store.documents() {
            let fps = store.load_fingerprints(doc.id)?;
            if doc.background {
                background.extend(fps);
            } else {
                entries.extend(fps.into_iter().map(|h| (h, doc.id)));
            }
        }
        entries.sort_unstable();
        background.sort_unstable();
        background.dedup();
        // Boilerplate: in a background text, or in too many documents.
        let mut kept = Vec::with_capacity(entries.len());
        let mut i = 0;
        while i < entries.len() {
            let h = entries[i].0;
            let j = i + entries[i..].partition_point(|e| e.0 == h);
            let common = j - i > thresholds.max_documents_per_fingerprint
                || background.binary_search(&h).is_ok();
            if !common {
                kept.extend_from_slice(&entries[i..j]);
            }
            i = j;
        }
        let mut documents: HashMap<u32, (String, usize)> = store
            .documents()
            .iter()
            .filter(|d| !d.background)
            .map(|d| (d.id, (d.name.clone(), 0)))
            .collect();
        for (_, id) in &kept {
            if let Some(d) = documents.get_mut(id) {
                d.1 += 1;
            }
        }
        kept.shrink_to_fit();
        let buckets = 1usize << DIRECTORY_BITS;
        let mut directory = Vec::with_capacity(buckets + 1);
        let mut at = 0usize;
        for b in 0..buckets {
            while at < kept.len() && ((kept[at].0 >> (64 - DIRECTORY_BITS)) as usize) < b {
                at += 1;
            }
            directory.push(at as u32);
        }
        directory.push(kept.len() as u32);
        Ok(Index {
            salt: store.salt(),
            entries: kept,
            directory,
            documents,
            thresholds,
        })
    }

    /// Fingerprints held (after boilerplate is removed).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no document is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes the index holds in memory (its arrays, not the map's overhead).
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(u64, u32)>()
            + self.directory.capacity() * 4
            + self
                .documents
                .values()
                .map(|(n, _)| n.len() + 48)
                .sum::<usize>()
    }

    /// The registered documents `text` matches, best first.
    pub fn lookup(&self, text: &str) -> Vec<DocumentMatch> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let mut words = 0;
        let mut fps = winnow::fingerprints(text, self.salt, &mut words);
        fps.sort_unstable();
        fps.dedup();
        self.score(&fps)
    }

    /// Like [`lookup`](Self::lookup), with where each document's shared
    /// passages lie in `text`: byte ranges in text order, neighbouring
    /// shingles merged (the first and last few words of a passage may lie
    /// outside, as winnowing keeps about one shingle in four).
    pub fn lookup_passages(&self, text: &str) -> Vec<(DocumentMatch, Vec<Range<usize>>)> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let spans = winnow::fingerprint_spans(text, self.salt);
        let mut fps: Vec<u64> = spans.iter().map(|(h, _)| *h).collect();
        fps.sort_unstable();
        fps.dedup();
        self.score(&fps)
            .into_iter()
            .map(|m| {
                let mine: Vec<Range<usize>> = spans
                    .iter()
                    .filter(|(h, _)| self.holders(*h).any(|id| id == m.id))
                    .map(|(_, r)| r.clone())
                    .collect();
                let merged = merge_passages(text, mine);
                (m, merged)
            })
            .collect()
    }

    /// The documents holding fingerprint `h`.
    fn holders(&self, h: u64) -> impl Iterator<Item = u32> + '_ {
        let b = (h >> (64 - DIRECTORY_BITS)) as usize;
        let (from, to) = (self.directory[b] as usize, self.directory[b + 1] as usize);
        self.entries[from..to]
            .iter()
            .filter(move |e| e.0 == h)
            .map(|e| e.1)
    }

    /// The matches of a text whose distinct fingerprints are `fps`.
    fn score(&self, fps: &[u64]) -> Vec<DocumentMatch> {
        if fps.is_empty() {
            return Vec::new();
        }
        let mut shared: HashMap<u32, usize> = HashMap::new();
        for h in fps {
            for id in self.holders(*h) {
                *shared.entry(id).or_default() += 1;
            }
        }
        let t = self.thresholds;
        let mut out: Vec<DocumentMatch> = shared
            .into_iter()
            .filter_map(|(id, n)| {
                let (name, total) = self.documents.get(&id)?;
                let document_fraction = n as f64 / (*total).max(1) as f64;
                let text_fraction = n as f64 / fps.len() as f64;
                let hit = n >= t.min_shared
                    && (n >= t.passage
                        || document_fraction >= t.document_fraction
                        || text_fraction >= t.text_fraction);
                hit.then(|| DocumentMatch {
                    id,
                    name: name.clone(),
                    shared: n,
                    document_fraction,
                    text_fraction,
                })
            })
            .collect();
        out.sort_by(|a, b| b.shared.cmp(&a.shared).then(a.id.cmp(&b.id)));
        out
    }
}

/// Shingle spans in text order, merged where they overlap or where no more
/// words than a winnowing gap stand between them (consecutive picks of a
/// shared passage are at most `WINDOW` shingles apart).
fn merge_passages(text: &str, mut spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    spans.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in spans {
        match out.last_mut() {
            Some(last)
                if r.start <= last.end
                    || words_in(&text[last.end..r.start])
                        <= winnow::WINDOW - winnow::SHINGLE_WORDS + 1 =>
            {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    out
}

/// Words (runs of letters and digits) in `s`.
fn words_in(s: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in s.chars() {
        let w = c.is_alphanumeric();
        if w && !in_word {
            n += 1;
        }
        in_word = w;
    }
    n
}
