//! Files for `isolator scan`: extraction through the worker pool, then a
//! scan of each extracted part.
//!
//! A plain UTF-8 text or CSV file is read in this process
//! ([`enforcer::extract::extract_plain_text`]: magic numbers and a UTF-8
//! check decide it, no parser runs, and the text is scanned where it was
//! read, without a copy through the worker's pipes). Every other file goes
//! to a [`WorkerPool`] running this same binary's `extract-worker` (memory,
//! CPU and wall-time limits, a crash costs one worker): the CLI parses
//! untrusted files exactly as the server does. The pool starts when the
//! first file needs it. Files are extracted in parallel, one per worker,
//! and reported in the order they were given.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};

use anyhow::Context as _;
use enforcer::extract::{Extraction, FileKind, Limits, Part, WorkerPool};
use enforcer::fingerprint::Index;
use enforcer::{Confidence, Engine, Finding, Selection};
use serde::Serialize;

use crate::enforce::worker_user;

/// A rectangle in pixels of an OCR'd image or rendered PDF page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PixelBox {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// A finding located in one extracted part of a file.
#[derive(Clone, Debug, Serialize)]
pub struct PartFinding {
    /// Detector id.
    pub detector: String,
    /// Start byte in the part's text.
    pub start: usize,
    /// End byte (exclusive) in the part's text.
    pub end: usize,
    /// How sure the engine is.
    pub confidence: Confidence,
    /// Redacted evidence (never the full value).
    pub evidence: String,
    /// The part: file name, then `!/member` per nesting level.
    pub path: String,
    /// Page of OCR'd text (1 for a single image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Union of the OCR word boxes the finding covers.
    #[serde(rename = "box", skip_serializing_if = "Option::is_none")]
    pub bbox: Option<PixelBox>,
}

impl PartFinding {
    /// A finding in `part`, with the page and box of OCR'd text.
    pub fn new(finding: Finding, part: &Part) -> Self {
        let (page, bbox) = match covered_box(part, finding.start, finding.end) {
            Some((page, b)) => (Some(page), Some(b)),
            None => (None, None),
        };
        PartFinding {
            detector: finding.detector.into_owned(),
            start: finding.start,
            end: finding.end,
            confidence: finding.confidence,
            evidence: finding.evidence.to_string(),
            path: part.path.clone(),
            page,
            bbox,
        }
    }

    /// A finding on a file as a whole (a sensitivity label) at `path`.
    pub fn at(finding: Finding, path: String) -> Self {
        PartFinding {
            detector: finding.detector.into_owned(),
            start: finding.start,
            end: finding.end,
            confidence: finding.confidence,
            evidence: finding.evidence.to_string(),
            path,
            page: None,
            bbox: None,
        }
    }
}

/// The page and union box of the word boxes overlapping `start..end` (only
/// boxes on the page of the first overlapping word count).
pub fn covered_box(part: &Part, start: usize, end: usize) -> Option<(u32, PixelBox)> {
    let mut hit = part
        .boxes
        .iter()
        .filter(|b| b.text_start < end.max(start + 1) && b.text_end > start);
    let first = hit.next()?;
    let page = first.page;
    let (mut x0, mut y0) = (first.x, first.y);
    let (mut x1, mut y1) = (
        first.x.saturating_add(first.w),
        first.y.saturating_add(first.h),
    );
    for b in hit.filter(|b| b.page == page) {
        x0 = x0.min(b.x);
        y0 = y0.min(b.y);
        x1 = x1.max(b.x.saturating_add(b.w));
        y1 = y1.max(b.y.saturating_add(b.h));
    }
    Some((
        page,
        PixelBox {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        },
    ))
}

/// What scanning one input produced.
#[derive(Debug)]
pub enum Outcome {
    /// Read completely and scanned.
    Scanned {
        /// The type found from the content (`None` for text read as text).
        kind: Option<FileKind>,
        /// Name/content mismatch, when there is one.
        mismatch: Option<String>,
        /// Profiles that fired, in any part.
        fired: Vec<String>,
        /// Findings, by part in extraction order.
        findings: Vec<PartFinding>,
    },
    /// Could not be read completely: the caller must fail closed.
    Unscannable {
        /// Why (the limit or the damage, naming the member).
        reason: String,
    },
    /// Could not be read at all (missing file, directory, I/O error).
    Failed(String),
}

impl Outcome {
    /// Scans every part of an extraction; with `fingerprints`, the whole
    /// text is also looked up among the registered documents
    /// (`document_match` findings, and the `fingerprints` profile fires).
    pub fn from_extraction(
        extraction: Extraction,
        engine: &Engine,
        sel: &Selection,
        fingerprints: Option<&Index>,
    ) -> Self {
        match extraction {
            Extraction::Unscannable { reason } => Outcome::Unscannable { reason },
            Extraction::Text {
                kind,
                mismatch,
                parts,
                labels,
            } => {
                let mut fired: Vec<String> = Vec::new();
                let mut findings = Vec::new();
                // The file's sensitivity labels, each finding placed at the
                // file (or member) that carries its label.
                let report = engine.scan_labels(&labels, sel);
                fired.extend(report.fired);
                findings.extend(report.findings.into_iter().map(|f| {
                    let path = labels
                        .iter()
                        .find(|l| *f.evidence == l.evidence())
                        .map_or_else(String::new, |l| l.path.clone());
                    PartFinding::at(f, path)
                }));
                for part in &parts {
                    let report = engine.scan_file_part(&part.text, sel);
                    for id in report.fired {
                        if !fired.contains(&id) {
                            fired.push(id);
                        }
                    }
                    findings.extend(
                        report
                            .findings
                            .into_iter()
                            .map(|f| PartFinding::new(f, part)),
                    );
                }
                if let Some(index) = fingerprints {
                    let whole: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
                    let matched = document_matches(index, &whole.join("\n"), &parts[0].path);
                    if !matched.is_empty() && !fired.iter().any(|f| f == FINGERPRINTS) {
                        fired.push(FINGERPRINTS.into());
                    }
                    findings.extend(matched);
                }
                Outcome::Scanned {
                    kind: Some(kind),
                    mismatch,
                    fired,
                    findings,
                }
            }
        }
    }
}

/// The profile name `document_match` findings fire under.
pub const FINGERPRINTS: &str = enforcer::fingerprint::PROFILE;

/// `document_match` findings for `text` (one per registered document it
/// matches), located at the whole text of `path`.
pub fn document_matches(index: &Index, text: &str, path: &str) -> Vec<PartFinding> {
    index
        .lookup(text)
        .into_iter()
        .map(|m| PartFinding {
            detector: enforcer::fingerprint::DETECTOR.into(),
            start: 0,
            end: text.len(),
            confidence: Confidence::High,
            evidence: m.evidence(),
            path: path.to_owned(),
            page: None,
            bbox: None,
        })
        .collect()
}

/// Limits and parallelism for file extraction, from the command line.
#[derive(Clone, Debug)]
pub struct FileOptions {
    /// Per-file extraction limits.
    pub limits: Limits,
    /// Worker processes (at most one per file).
    pub workers: usize,
}

/// Extracts and scans `paths` through a worker pool; calls `emit` with each
/// outcome in the order of `paths`, as soon as it and all before it are done.
pub fn scan_files(
    paths: &[PathBuf],
    opts: &FileOptions,
    engine: &Engine,
    sel: &Selection,
    fingerprints: Option<&Index>,
    emit: impl FnMut(&Path, Outcome) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    run_pool(
        paths,
        opts,
        |pool, path| match extract_one(pool, path) {
            Ok(extraction) => Outcome::from_extraction(extraction, engine, sel, fingerprints),
            Err(failed) => failed,
        },
        emit,
    )
}

/// Extracts `paths` through a worker pool; calls `emit` with each
/// extraction (or why the file could not be read) in the order of `paths`.
pub fn extract_files(
    paths: &[PathBuf],
    opts: &FileOptions,
    emit: impl FnMut(&Path, Result<Extraction, Outcome>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    run_pool(paths, opts, extract_one, emit)
}

/// Runs `work` on `paths` in worker threads sharing one extraction pool,
/// calling `emit` in the order of `paths`.
fn run_pool<T: Send>(
    paths: &[PathBuf],
    opts: &FileOptions,
    work: impl Fn(&LazyPool, &Path) -> T + Sync,
    mut emit: impl FnMut(&Path, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    // Hostile files are parsed as the unprivileged worker user when run as root.
    let mut cfg = worker_user::worker_config(None, worker_user::DEFAULT_USER)
        .map_err(anyhow::Error::msg)
        .context("starting the extraction workers")?;
    cfg.workers = opts.workers.clamp(1, paths.len());
    cfg.limits = opts.limits.clone();
    let threads = cfg.workers;
    let pool = LazyPool {
        cfg,
        pool: OnceLock::new(),
    };
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|s| -> anyhow::Result<()> {
        for _ in 0..threads {
            let tx = tx.clone();
            let (pool, next, work) = (&pool, &next, &work);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let outcome = work(pool, path);
                if tx.send((i, outcome)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut due = 0;
        for (i, outcome) in rx {
            pending.insert(i, outcome);
            while let Some(outcome) = pending.remove(&due) {
                emit(&paths[due], outcome)?;
                due += 1;
            }
        }
        Ok(())
    })
}

/// The worker pool, started by the first file that needs a reader.
struct LazyPool {
    cfg: enforcer::extract::WorkerConfig,
    pool: OnceLock<Result<WorkerPool, String>>,
}

impl LazyPool {
    fn get(&self) -> Result<&WorkerPool, String> {
        self.pool
            .get_or_init(|| {
                WorkerPool::new(self.cfg.clone())
                    .map_err(|e| format!("starting extraction workers: {e:#}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Reads and extracts one file: plain text in this process, anything else
/// in a worker. `Err` holds the outcome when it could not be read.
fn extract_one(pool: &LazyPool, path: &Path) -> Result<Extraction, Outcome> {
    let limit = pool.cfg.limits.max_input_bytes;
    match read_capped(path, limit) {
        Ok(Some(bytes)) => {
            let name = path.display().to_string();
            let bytes = match enforcer::extract::extract_plain_text(&name, bytes, &pool.cfg.limits)
            {
                Ok(extraction) => return Ok(extraction),
                Err(bytes) => bytes,
            };
            match pool.get() {
                Ok(pool) => Ok(pool.extract(&name, &bytes)),
                Err(err) => Err(Outcome::Failed(err)),
            }
        }
        Ok(None) => Err(Outcome::Unscannable {
            reason: format!("larger than the size limit of {limit} bytes (--max-size)"),
        }),
        Err(err) => Err(Outcome::Failed(format!("{err:#}"))),
    }
}

/// Reads a file whole, or `None` when it is larger than `limit` bytes.
fn read_capped(path: &Path, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path).context("cannot open")?;
    let meta = file.metadata().context("cannot read")?;
    if meta.is_dir() {
        anyhow::bail!("is a directory");
    }
    if meta.len() > limit {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .context("cannot read")?;
    if bytes.len() as u64 > limit {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// Parses a size such as `64M`, `512K`, `1G` or `1048576` (bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size (bytes, or a number with K, M or G)"))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))?;
    if bytes == 0 {
        return Err("the size limit must be more than 0".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use enforcer::extract::WordBox;

    fn wb(start: usize, end: usize, page: u32, x: u32, y: u32) -> WordBox {
        WordBox {
            text_start: start,
            text_end: end,
            page,
            x,
            y,
            w: 50,
            h: 20,
        }
    }

    #[test]
    fn box_is_the_union_of_covered_words_on_one_page() {
        let part = Part {
            path: "a.png".into(),
            text: "card 4111 1111 next".into(),
            boxes: vec![
                wb(0, 4, 1, 0, 0),
                wb(5, 9, 1, 60, 0),
                wb(10, 14, 1, 120, 4),
                wb(15, 19, 1, 180, 0),
            ],
        };
        let (page, b) = covered_box(&part, 5, 14).expect("box");
        assert_eq!(page, 1);
        assert_eq!(
            b,
            PixelBox {
                x: 60,
                y: 0,
                w: 110,
                h: 24
            }
        );
        assert!(covered_box(&part, 19, 19).is_none());
        let plain = Part {
            path: "a.txt".into(),
            text: "x".into(),
            boxes: Vec::new(),
        };
        assert!(covered_box(&plain, 0, 1).is_none());
    }

    #[test]
    fn sizes_parse_with_suffixes_and_reject_nonsense() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("ten").unwrap_err().contains("`ten`"));
        assert!(parse_size("99999999999G").is_err());
        assert!(parse_size("").is_err());
    }
}
