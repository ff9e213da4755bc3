//! Output of `isolator scan`: one JSON object or a few human lines per
//! document, and the exit status over all of them.

use std::io::Write;
use std::process::ExitCode;

use enforcer::extract::FileKind;
use serde::Serialize;

use super::scan_files::{Outcome, PartFinding};

/// One document as printed with `--json`.
#[derive(Serialize)]
struct Document<'a> {
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<FileKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatch: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    fired: &'a [String],
    findings: &'a [PartFinding],
}

/// Prints one outcome (nothing for [`Outcome::Failed`], which goes to
/// standard error through [`Verdicts::record`]). With `line` (`--lines`),
/// clean lines print nothing in human output.
pub fn print_outcome(
    out: &mut impl Write,
    json: bool,
    input: &str,
    line: Option<usize>,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let doc = match outcome {
        Outcome::Failed(_) => return Ok(()),
        Outcome::Unscannable { reason } => Document {
            input,
            line,
            verdict: "unscannable",
            kind: None,
            mismatch: None,
            reason: Some(reason),
            fired: &[],
            findings: &[],
        },
        Outcome::Scanned {
            kind,
            mismatch,
            fired,
            findings,
        } => Document {
            input,
            line,
            verdict: if fired.is_empty() { "clean" } else { "match" },
            kind: *kind,
            mismatch: mismatch.as_deref(),
            reason: None,
            fired,
            findings,
        },
    };
    if json {
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    if line.is_some() && doc.verdict == "clean" {
        return Ok(());
    }
    let at = line.map(|l| format!(":{l}")).unwrap_or_default();
    let kind = doc
        .kind
        .map(|k| format!(" [{}]", k.describe()))
        .unwrap_or_default();
    match doc.verdict {
        "unscannable" => writeln!(
            out,
            "{input}{at}: unscannable ({})",
            doc.reason.unwrap_or_default()
        )?,
        "match" => writeln!(out, "{input}{at}: match{kind} ({})", doc.fired.join(", "))?,
        _ => writeln!(out, "{input}{at}: clean{kind}")?,
    }
    if let Some(mismatch) = doc.mismatch {
        writeln!(out, "  type mismatch: {mismatch}")?;
    }
    for f in doc.findings {
        write!(
            out,
            "  {} {}..{} {} {}",
            f.detector, f.start, f.end, f.confidence, f.evidence
        )?;
        if f.path != input {
            write!(out, "  in {}", f.path)?;
        }
        if let (Some(page), Some(b)) = (f.page, f.bbox) {
            write!(
                out,
                "  page {page} at x={} y={} w={} h={}",
                b.x, b.y, b.w, b.h
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// What the exit status is made of: anything matched, anything failed.
#[derive(Debug, Default)]
pub struct Verdicts {
    matched: bool,
    failed: bool,
}

impl Verdicts {
    /// Records one outcome; unscannable and failed inputs are also named on
    /// standard error.
    pub fn record(&mut self, input: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Scanned { fired, .. } => self.matched |= !fired.is_empty(),
            Outcome::Unscannable { reason } => {
                self.failed = true;
                eprintln!("isolator scan: {input}: unscannable: {reason}");
            }
            Outcome::Failed(err) => {
                self.failed = true;
                eprintln!("isolator scan: {input}: {err}");
            }
        }
    }

    /// 2 when anything was unscannable or failed, else 1 when anything
    /// matched, else 0.
    pub fn exit_code(&self) -> ExitCode {
        if self.failed {
            ExitCode::from(2)
        } else if self.matched {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}
