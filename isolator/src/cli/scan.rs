//! `isolator scan`: scan files or standard input for sensitive data.
//!
//! ```text
//! isolator scan [--profile NAME]... [--detector ID]... [--lines] [--json] [PATH|-]...
//! isolator scan --list-detectors
//! ```
//!
//! Files are read whole and decoded as UTF-8 (invalid bytes replaced), then
//! scanned as text; routing through content extraction comes with the
//! extraction engine. Without `--profile`/`--detector` every profile is
//! applied. `--detector ID` adds an ad-hoc profile holding those detectors
//! (minimum confidence `medium`, one match). With `--lines`, each line is its
//! own document and spans are bytes within that line.
//!
//! Output: one line per document (`input: verdict` plus findings), or with
//! `--json` one JSON object per document with `input`, `line` (with
//! `--lines`), `verdict` (`clean`|`match`|`unscannable`) and `findings`.
//! Exit status: 0 when everything is clean, 1 when anything matched, 2 on
//! errors (the message names the input; other inputs are still scanned).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use enforcer::{Confidence, Engine, EngineBuilder, Finding, ProfileSpec, ScanReport, Selection};
use serde::Serialize;

/// Largest input read, in bytes (larger files are reported unscannable).
const MAX_INPUT_BYTES: u64 = 512 << 20;

/// Arguments of `isolator scan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Apply this profile (repeatable; default: all profiles).
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Report this detector (repeatable), as an ad-hoc profile.
    #[arg(long = "detector", value_name = "ID")]
    pub detectors: Vec<String>,
    /// Treat each line as its own document.
    #[arg(long)]
    pub lines: bool,
    /// Print one JSON object per document.
    #[arg(long)]
    pub json: bool,
    /// List detectors (ids, descriptions, profiles) and exit.
    #[arg(long)]
    pub list_detectors: bool,
    /// Files to scan; `-` or nothing for standard input.
    #[arg(value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Document<'a> {
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    verdict: &'static str,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Runs `isolator scan`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut builder = EngineBuilder::new();
    if !args.detectors.is_empty() {
        builder
            .profile(ProfileSpec {
                id: "cli-detectors".into(),
                description: "detectors named on the command line".into(),
                detectors: args.detectors.clone(),
                min_confidence: Confidence::Medium,
                min_matches: 1,
                allow: Vec::new(),
            })
            .context("--detector")?;
    }
    let engine = builder.build().context("building the detection engine")?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.list_detectors {
        list_detectors(&engine, &mut out, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut names: Vec<&str> = args.profiles.iter().map(String::as_str).collect();
    if !args.detectors.is_empty() {
        names.push("cli-detectors");
    }
    let sel = if names.is_empty() {
        all_profiles(&engine)?
    } else {
        engine.selection(&names).context("--profile")?
    };
    let inputs: Vec<PathBuf> = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    let mut matched = false;
    let mut failed = false;
    for path in &inputs {
        let name = path.display().to_string();
        match read_input(path) {
            Ok(Input::Text(text)) => {
                if args.lines {
                    for (i, line) in text.split('\n').enumerate() {
                        let line = line.strip_suffix('\r').unwrap_or(line);
                        if line.is_empty()
                            && i > 0
                            && text.ends_with('\n')
                            && i == text.split('\n').count() - 1
                        {
                            continue;
                        }
                        let report = engine.scan_selection(line, &sel);
                        matched |= report.is_match();
                        print_report(&mut out, args.json, &name, Some(i + 1), &report)?;
                    }
                } else {
                    let report = engine.scan_selection(&text, &sel);
                    matched |= report.is_match();
                    print_report(&mut out, args.json, &name, None, &report)?;
                }
            }
            Ok(Input::Unscannable(reason)) => {
                failed = true;
                print_unscannable(&mut out, args.json, &name, &reason)?;
                eprintln!("isolator scan: {name}: unscannable: {reason}");
            }
            Err(err) => {
                failed = true;
                eprintln!("isolator scan: {name}: {err:#}");
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(2)
    } else if matched {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

enum Input {
    Text(String),
    Unscannable(String),
}

fn read_input(path: &PathBuf) -> anyhow::Result<Input> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        let file = std::fs::File::open(path).context("cannot open")?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            anyhow::bail!("is a directory");
        }
        file.take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read")?;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Ok(Input::Unscannable(format!(
            "larger than {} MB",
            MAX_INPUT_BYTES >> 20
        )));
    }
    Ok(Input::Text(String::from_utf8_lossy(&bytes).into_owned()))
}

fn print_report(
    out: &mut impl Write,
    json: bool,
    input: &str,
    line: Option<usize>,
    report: &ScanReport,
) -> anyhow::Result<()> {
    let verdict = if report.is_match() { "match" } else { "clean" };
    if json {
        let doc = Document {
            input,
            line,
            verdict,
            findings: &report.findings,
            reason: None,
        };
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    let at = line.map(|l| format!(":{l}")).unwrap_or_default();
    if report.is_match() {
        writeln!(out, "{input}{at}: match ({})", report.fired.join(", "))?;
        for f in &report.findings {
            writeln!(
                out,
                "  {} {}..{} {} {}",
                f.detector, f.start, f.end, f.confidence, f.evidence
            )?;
        }
    } else if line.is_none() {
        writeln!(out, "{input}: clean")?;
    }
    Ok(())
}

fn print_unscannable(
    out: &mut impl Write,
    json: bool,
    input: &str,
    reason: &str,
) -> anyhow::Result<()> {
    if json {
        let doc = Document {
            input,
            line: None,
            verdict: "unscannable",
            findings: &[],
            reason: Some(reason.to_string()),
        };
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{input}: unscannable ({reason})")?;
    }
    Ok(())
}

fn list_detectors(engine: &Engine, out: &mut impl Write, json: bool) -> anyhow::Result<()> {
    let detectors = engine.detectors();
    if json {
        for d in &detectors {
            serde_json::to_writer(&mut *out, d)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    let width = detectors.iter().map(|d| d.id.len()).max().unwrap_or(0);
    for d in &detectors {
        let profiles: Vec<&str> = d
            .profiles
            .iter()
            .map(String::as_str)
            .filter(|p| *p != "cli-detectors")
            .collect();
        writeln!(
            out,
            "{:width$}  {}  [{}]",
            d.id,
            d.description,
            profiles.join(", ")
        )?;
    }
    Ok(())
}

/// A selection of every profile of `engine` (used by callers that want "all").
pub fn all_profiles(engine: &Engine) -> enforcer::Result<Selection> {
    let ids: Vec<String> = engine.profiles().into_iter().map(|p| p.id).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    engine.selection(&refs)
}
