//! Export bundles: one self-contained, uncompressed tar per session.
//!
//! ```text
//! manifest.json         session, chain head and record count, segment sizes and
//!                       SHA-256s, the index rows (session and incidents)
//! segments/000001.seg   the segment files, unchanged
//! keyframes.idx         the keyframe index
//! ```
//!
//! Uncompressed so the [`super::Reader`] can seek inside segments in place
//! (frames are JPEG already; compression would gain little). The manifest is
//! first so a verifier streams the archive once. The manifest's head and
//! count anchor the chain: cutting records off the end is detected. (The
//! manifest itself is not signed: compare its head with the server's index
//! when the bundle's origin is in doubt.)

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{format, io, Error, Result};
use super::index::{Incident, SessionRow};
use super::keyframes;
use super::recorder::now_wall_ms;
use super::verify::{self, Status, Verifier, VerifyReport};

/// Format name in manifests.
pub const FORMAT: &str = "isolator-audit-bundle/1";

/// One segment in a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// File name (`000001.seg`).
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file (hex).
    pub sha256: String,
}

/// The bundle's `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Session id.
    pub session: String,
    /// When exported (Unix ms).
    pub exported_ms: i64,
    /// Verdict at export (`intact`, `unfinished` or `truncated_tail`).
    pub status: String,
    /// Records that verified at export.
    pub records: u64,
    /// Chain head at export (hex).
    pub head: String,
    /// The segments, in order.
    pub segments: Vec<SegmentEntry>,
    /// The session's index row, if the index had it.
    pub session_row: Option<SessionRow>,
    /// The session's incidents from the index.
    pub incidents: Vec<Incident>,
}

/// Writes a bundle of the recording in `dir` to `out`. A tampered recording
/// is refused (export exists to hand over evidence that checks); a
/// crash-truncated one is exported with its verified prefix as the anchor.
pub fn export(
    dir: &Path,
    session_row: Option<SessionRow>,
    incidents: Vec<Incident>,
    out: &Path,
) -> Result<Manifest> {
    let anchor = session_row
        .as_ref()
        .and_then(|r| r.head.clone().map(|h| (r.records, h)));
    let report = verify::verify_dir(dir, anchor.as_ref().map(|(n, h)| (*n, h.as_str())))?;
    if report.status == Status::Tampered {
        let problem = report.problem.map(|p| p.to_string()).unwrap_or_default();
        return Err(Error::Invalid(format!(
            "the recording in {} does not verify ({problem}); not exported",
            dir.display()
        )));
    }
    let files = verify::segment_files(dir)?;
    let mut segments = Vec::new();
    for (_, name) in &files {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        segments.push(SegmentEntry {
            name: name.clone(),
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        session: report.session.clone().unwrap_or_default(),
        exported_ms: now_wall_ms(),
        status: serde_json::to_value(report.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        records: report.records,
        head: report.head.clone(),
        segments,
        session_row,
        incidents,
    };
    let tmp = out.with_extension("partial");
    let file = File::create(&tmp).map_err(io(&tmp))?;
    let mut tar = tar::Builder::new(file);
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    append_bytes(&mut tar, "manifest.json", &json, &tmp)?;
    for seg in &manifest.segments {
        let path = dir.join(&seg.name);
        let mut f = File::open(&path).map_err(io(&path))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(seg.bytes);
        header.set_mode(0o444);
        header.set_mtime((manifest.exported_ms / 1000) as u64);
        header.set_cksum();
        let name = format!("segments/{}", seg.name);
        // A live recording may grow while exporting: copy exactly the bytes hashed.
        let mut limited = (&mut f).take(seg.bytes);
        tar.append_data(&mut header, name, &mut limited)
            .map_err(io(&tmp))?;
    }
    let kf_path = dir.join(keyframes::FILE_NAME);
    let kf = match std::fs::read(&kf_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(&kf_path)(e)),
    };
    append_bytes(&mut tar, keyframes::FILE_NAME, &kf, &tmp)?;
    let mut file = tar.into_inner().map_err(io(&tmp))?;
    file.flush().map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, out).map_err(io(out))?;
    Ok(manifest)
}

fn append_bytes(tar: &mut tar::Builder<File>, name: &str, bytes: &[u8], path: &Path) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o444);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes).map_err(io(path))
}

/// Reads and checks a manifest's form.
pub fn parse_manifest(bytes: &[u8], path: &Path) -> Result<Manifest> {
    let m: Manifest =
        serde_json::from_slice(bytes).map_err(|e| format(path, format!("manifest.json: {e}")))?;
    if m.format != FORMAT {
        return Err(format(
            path,
            format!("manifest.json: format {:?}, expected {FORMAT:?}", m.format),
        ));
    }
    Ok(m)
}

/// Verifies a bundle: the chain over its segments, anchored by the manifest.
pub fn verify_bundle(path: &Path) -> Result<VerifyReport> {
    let file = File::open(path).map_err(io(path))?;
    let mut archive = tar::Archive::new(file);
    let mut manifest: Option<Manifest> = None;
    let mut verifier = Verifier::new();
    let mut listed = 0usize;
    for entry in archive.entries().map_err(io(path))? {
        let mut entry = entry.map_err(|e| format(path, format!("not a bundle (tar): {e}")))?;
        let name = entry
            .path()
            .map_err(|e| format(path, format!("bad entry name: {e}")))?
            .to_string_lossy()
            .into_owned();
        if entry.size() > 1 << 31 {
            return Err(format(path, format!("{name}: entry too large")));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format(path, format!("{name}: {e}")))?;
        if name == "manifest.json" {
            let m = parse_manifest(&bytes, path)?;
            verifier.expect(m.records, &m.head);
            manifest = Some(m);
            continue;
        }
        let Some(seg_name) = name.strip_prefix("segments/") else {
            continue;
        };
        let m = manifest
            .as_ref()
            .ok_or_else(|| format(path, "manifest.json is not the first entry"))?;
        let number = super::format::segment_number(seg_name)
            .ok_or_else(|| format(path, format!("{name}: not a segment name")))?;
        if m.segments.iter().all(|s| s.name != seg_name) {
            return Err(format(
                path,
                format!("{name} is not listed in the manifest"),
            ));
        }
        listed += 1;
        if !verifier.segment(number, seg_name, &bytes) {
            break;
        }
    }
    let m = manifest.ok_or_else(|| format(path, "no manifest.json: not an audit bundle"))?;
    let mut report = verifier.finish();
    if report.problem.is_none() && listed != m.segments.len() {
        report.status = Status::Tampered;
        report.problem = Some(verify::Problem {
            kind: verify::ProblemKind::MissingSegment,
            segment: m
                .segments
                .get(listed)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            offset: 0,
            record: report.records,
            detail: format!(
                "the manifest lists {} segments, the bundle holds {listed}",
                m.segments.len()
            ),
        });
    }
    // A bundle of a crash-truncated recording is anchored at its verified prefix.
    if report.status == Status::Unfinished && m.status == "truncated_tail" {
        report.status = Status::TruncatedTail;
    }
    Ok(report)
}
