//! Scanning a stream of chunks (large files) in bounded memory.
//!
//! The scanner keeps a tail of the text it has seen. After each chunk it
//! scans `tail + chunk` and emits the findings that start before the *safe
//! point* (`reach` = longest span + context window bytes before the end):
//! nothing later in the stream can change them. It then drops everything but
//! `reach` bytes before the safe point (left context for the next round).
//! Findings are emitted exactly once, with offsets in the whole stream; a
//! match straddling a chunk border is found because the border is always at
//! least `reach` bytes from the safe point. Memory is bounded by
//! `2 * reach + chunk size` plus the findings kept for the report
//! (at most [`MAX_REPORTED`]; counts keep going past that).

use super::context::floor_boundary;
use super::engine::Engine;
use super::profile::{ScanReport, Selection};
use super::types::Finding;

/// Most findings kept for the final report.
pub const MAX_REPORTED: usize = 10_000;

/// Chunked scanner; see the module docs.
#[derive(Debug)]
pub struct StreamScanner {
    engine: Engine,
    sel: Selection,
    buf: String,
    /// Stream offset of `buf[0]`.
    base: usize,
    /// Stream offset before which findings were already emitted.
    emitted_upto: usize,
    counts: Vec<usize>,
    reported: Vec<Finding>,
    total: usize,
}

impl StreamScanner {
    pub(crate) fn new(engine: Engine, sel: Selection) -> StreamScanner {
        let counts = vec![0; sel.inner.profiles.len()];
        StreamScanner {
            engine,
            sel,
            buf: String::new(),
            base: 0,
            emitted_upto: 0,
            counts,
            reported: Vec::new(),
            total: 0,
        }
    }

    /// Feeds a chunk; returns the findings that became final (stream offsets),
    /// those that count for at least one selected profile.
    pub fn push(&mut self, chunk: &str) -> Vec<Finding> {
        self.buf.push_str(chunk);
        let reach = self.engine.reach();
        if self.buf.len() < 4 * reach {
            return Vec::new();
        }
        let safe = floor_boundary(&self.buf, self.buf.len() - reach);
        let out = self.emit(safe);
        let drop = floor_boundary(&self.buf, safe.saturating_sub(reach));
        self.buf.drain(..drop);
        self.base += drop;
        out
    }

    /// Feeds raw bytes decoded as UTF-8 (lossy); an incomplete character at
    /// the end must be completed by the next call, so callers with arbitrary
    /// byte chunks should prefer [`StreamScanner::push`] on decoded text.
    pub fn push_bytes(&mut self, chunk: &[u8]) -> Vec<Finding> {
        self.push(&String::from_utf8_lossy(chunk))
    }

    /// Ends the stream: emits the remaining findings and returns the report
    /// for the whole stream.
    pub fn finish(mut self) -> ScanReport {
        let end = self.buf.len();
        self.emit_final(end);
        let fired = self
            .sel
            .inner
            .profiles
            .iter()
            .zip(&self.counts)
            .filter(|(p, &c)| c >= p.min_matches)
            .map(|(p, _)| p.id.clone())
            .collect();
        ScanReport {
            findings: self.reported,
            fired,
        }
    }

    /// Number of counted findings so far (including those past [`MAX_REPORTED`]).
    pub fn total(&self) -> usize {
        self.total
    }

    fn emit_final(&mut self, end: usize) {
        let _ = self.emit_until(end, true);
    }

    fn emit(&mut self, safe: usize) -> Vec<Finding> {
        self.emit_until(safe, false)
    }

    fn emit_until(&mut self, limit: usize, last: bool) -> Vec<Finding> {
        let found = self
            .engine
            .scan_indexed(&self.buf, Some(&self.sel.inner.mask));
        let mut out = Vec::new();
        for f in found {
            let abs_start = self.base + f.finding.start;
            if abs_start < self.emitted_upto || (!last && f.finding.start >= limit) {
                continue;
            }
            let value = &self.buf[f.finding.start..f.finding.end];
            let mut counted = false;
            for (k, p) in self.sel.inner.profiles.iter().enumerate() {
                if p.counts(f.det, f.finding.confidence, value) {
                    self.counts[k] += 1;
                    counted = true;
                }
            }
            if counted {
                let mut finding = f.finding;
                finding.start += self.base;
                finding.end += self.base;
                self.total += 1;
                if self.reported.len() < MAX_REPORTED {
                    self.reported.push(finding.clone());
                }
                out.push(finding);
            }
        }
        self.emitted_upto = self.base + limit;
        out
    }
}
