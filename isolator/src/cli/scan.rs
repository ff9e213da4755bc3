//! `isolator scan`: scan files or standard input for sensitive data.
//!
//! ```text
//! isolator scan [--profile NAME]... [--detector ID]... [--json]
//!               [--max-size SIZE] [--timeout SECS] [--workers N] [PATH|-]...
//! isolator scan --lines [--json] [PATH|-]...
//! isolator scan --list-detectors
//! isolator scan --fingerprints DIR [...] [PATH|-]...
//! ```
//!
//! `--fingerprints DIR` also looks each input's whole text up in a store of
//! registered confidential documents (`isolator fingerprint add`): a match
//! is a `document_match` finding naming the document and how much is shared,
//! under the profile `fingerprints`.
//!
//! Files go through content extraction in worker processes (this binary's
//! `extract-worker`, with memory, CPU and wall-time limits; see
//! [`scan_files`](super::scan_files)): the type is found from the content, a
//! name/content mismatch is reported, archives and Office files are read
//! member by member, images and scanned PDF pages are OCR'd. Each extracted
//! part is scanned on its own; findings name the part's `path`
//! (`report.zip!/q3/sheet.xlsx!/Sheet1`) and, for OCR'd text, the `page` and
//! pixel `box`. A file that cannot be read completely within the limits is
//! `unscannable` (fail closed). Standard input (`-`, or no path) and
//! `--lines` stay plain text: bytes decoded as UTF-8 (invalid bytes
//! replaced), and with `--lines` each line is its own document with spans in
//! bytes of that line.
//!
//! Without `--profile`/`--detector` every profile is applied except
//! `source_code` (which flags every program: ask for it by name, as for
//! `--fingerprints`). `--detector ID`
//! adds an ad-hoc profile holding those detectors (minimum confidence
//! `medium`, one match).
//!
//! Output: per input a line `input: verdict` plus one indented line per
//! finding, or with `--json` one JSON object per input (per line with
//! `--lines`) with `input`, `line` (with `--lines`), `verdict`
//! (`clean`|`match`|`unscannable`), `kind`, `mismatch`, `reason` (when
//! unscannable), `fired` and `findings` (`detector`, `start`, `end`,
//! `confidence`, `evidence`, `path`, and `page`/`box` for OCR'd text).
//! Exit status: 0 when everything is clean, 1 when anything matched, 2 when
//! an input was unscannable or could not be read (the message on standard
//! error names the input; the other inputs are still scanned).

use std::io::{Read, Write};
use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use enforcer::extract::Limits;
use enforcer::{Confidence, Engine, EngineBuilder, ProfileSpec, Selection};

use super::scan_files::{
    document_matches, parse_size, scan_files, FileOptions, Outcome, PartFinding, FINGERPRINTS,
};
use super::scan_output::{print_outcome, Verdicts};

/// Largest standard input or `--lines` file read as text, in bytes (larger
/// inputs are reported unscannable).
const MAX_TEXT_BYTES: u64 = 512 << 20;

/// Arguments of `isolator scan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Apply this profile (repeatable; default: all profiles).
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Report this detector (repeatable), as an ad-hoc profile.
    #[arg(long = "detector", value_name = "ID")]
    pub detectors: Vec<String>,
    /// Treat each line as its own document (files are read as plain text).
    #[arg(long)]
    pub lines: bool,
    /// Print one JSON object per document.
    #[arg(long)]
    pub json: bool,
    /// List detectors (ids, descriptions, profiles) and exit.
    #[arg(long)]
    pub list_detectors: bool,
    /// Largest file extracted, e.g. `64M` (bytes, or K/M/G); larger files
    /// are unscannable.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64M")]
    pub max_size: u64,
    /// Wall time allowed per file, in seconds; a file that takes longer is
    /// unscannable and its worker is killed.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Extraction worker processes (files are extracted in parallel).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Also report text shared with documents registered in this
    /// fingerprint store (`isolator fingerprint add --store DIR`).
    #[arg(long, value_name = "DIR")]
    pub fingerprints: Option<PathBuf>,
    /// Files to scan; `-` or nothing for standard input.
    #[arg(value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.001..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a timeout in seconds (0.001 to 86400)"
        )),
    }
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
    // One JSON document can be megabytes on one line: a large buffer, not
    // the line-buffered 1 KB of stdout (flushed after every input).
    let mut out = std::io::BufWriter::with_capacity(64 << 10, stdout.lock());
    if args.list_detectors {
        list_detectors(&engine, &mut out, args.json)?;
        out.flush()?;
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
    let index = match &args.fingerprints {
        Some(dir) => {
            let store = enforcer::fingerprint::Store::open(dir, false).context("--fingerprints")?;
            let thresholds = enforcer::fingerprint::Thresholds::default();
            Some(
                enforcer::fingerprint::Index::build(&store, thresholds)
                    .context("--fingerprints")?,
            )
        }
        None => None,
    };
    let mut verdicts = Verdicts::default();
    // Standard input and --lines are text, in order; files go to the pool.
    let (text_inputs, files): (Vec<PathBuf>, Vec<PathBuf>) = inputs
        .into_iter()
        .partition(|p| args.lines || p.as_os_str() == "-");
    for path in &text_inputs {
        scan_text_input(
            path,
            &args,
            &engine,
            &sel,
            index.as_ref(),
            &mut out,
            &mut verdicts,
        )?;
    }
    let opts = FileOptions {
        limits: Limits {
            max_input_bytes: args.max_size,
            max_wall_time_ms: (args.timeout * 1000.0).round() as u64,
            ..Limits::default()
        },
        workers: usize::from(args.workers),
    };
    scan_files(
        &files,
        &opts,
        &engine,
        &sel,
        index.as_ref(),
        |path, outcome| {
            let name = path.display().to_string();
            print_outcome(&mut out, args.json, &name, None, &outcome)?;
            out.flush()?;
            verdicts.record(&name, &outcome);
            Ok(())
        },
    )?;
    out.flush()?;
    Ok(verdicts.exit_code())
}

/// Scans standard input or a file as UTF-8 text, whole or line by line.
fn scan_text_input(
    path: &Path,
    args: &Args,
    engine: &Engine,
    sel: &Selection,
    index: Option<&enforcer::fingerprint::Index>,
    out: &mut impl Write,
    verdicts: &mut Verdicts,
) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let text = match read_text(path) {
        Ok(Some(text)) => text,
        Ok(None) => {
            let outcome = Outcome::Unscannable {
                reason: format!("larger than {} MB", MAX_TEXT_BYTES >> 20),
            };
            print_outcome(out, args.json, &name, None, &outcome)?;
            verdicts.record(&name, &outcome);
            return Ok(());
        }
        Err(err) => {
            let outcome = Outcome::Failed(format!("{err:#}"));
            verdicts.record(&name, &outcome);
            return Ok(());
        }
    };
    let scan = |doc: &str| {
        let report = engine.scan_selection(doc, sel);
        let part = enforcer::extract::Part {
            path: name.clone(),
            text: String::new(),
            boxes: Vec::new(),
        };
        let mut fired = report.fired;
        let mut findings: Vec<PartFinding> = report
            .findings
            .into_iter()
            .map(|f| PartFinding::new(f, &part))
            .collect();
        if let Some(index) = index {
            let matched = document_matches(index, doc, &name);
            if !matched.is_empty() {
                fired.push(FINGERPRINTS.into());
            }
            findings.extend(matched);
        }
        Outcome::Scanned {
            kind: None,
            mismatch: None,
            fired,
            findings,
        }
    };
    if !args.lines {
        let outcome = scan(&text);
        print_outcome(out, args.json, &name, None, &outcome)?;
        verdicts.record(&name, &outcome);
        return Ok(());
    }
    let body = text.strip_suffix('\n').unwrap_or(&text);
    if body.is_empty() {
        return Ok(());
    }
    for (i, line) in body.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let outcome = scan(line);
        print_outcome(out, args.json, &name, Some(i + 1), &outcome)?;
        verdicts.record(&name, &outcome);
    }
    Ok(())
}

/// Reads standard input (`-`) or a file as text; `None` when too large.
fn read_text(path: &Path) -> anyhow::Result<Option<String>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        // Standard input redirected from a file: read it in one allocation.
        let size = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| std::fs::File::from(fd).metadata().ok())
            .filter(|m| m.is_file())
            .map_or(0, |m| m.len().min(MAX_TEXT_BYTES + 1));
        bytes.reserve_exact(size as usize + 1);
        std::io::stdin()
            .lock()
            .take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        let file = std::fs::File::open(path).context("cannot open")?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            anyhow::bail!("is a directory");
        }
        file.take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read")?;
    }
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Ok(None);
    }
    // Valid UTF-8 (nearly always) becomes the text without a copy.
    Ok(Some(String::from_utf8(bytes).unwrap_or_else(|e| {
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    })))
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
    // One line per detector: id, country, family, what context it needs
    // (`required`: nothing is reported without a context word; `raises`:
    // a context word raises the confidence; `-`: none), the validation,
    // then the description and profiles.
    let width = detectors.iter().map(|d| d.id.len()).max().unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:7}  {:12}  {:8}  VALIDATION | DESCRIPTION [PROFILES]",
        "ID", "COUNTRY", "CATEGORY", "CONTEXT"
    )?;
    for d in &detectors {
        let profiles: Vec<&str> = d
            .profiles
            .iter()
            .map(String::as_str)
            .filter(|p| *p != "cli-detectors")
            .collect();
        let context = if d.requires_context {
            "required"
        } else if d.context.is_empty() {
            "-"
        } else {
            "raises"
        };
        let country = if d.country.is_empty() {
            "-"
        } else {
            &d.country
        };
        writeln!(
            out,
            "{:width$}  {:7}  {:12}  {:8}  {} | {} [{}]",
            d.id,
            country,
            d.category.as_str(),
            context,
            d.validation,
            d.description,
            profiles.join(", ")
        )?;
    }
    Ok(())
}

/// Profiles the default scan leaves out: they read what a text is about
/// rather than find sensitive values. Every source file is code; the
/// `health` profile's drug and condition dictionaries cost more than the
/// rest of a scan (BENCHMARKS.md), and its identifier detectors (NPI,
/// DEA, MBI, ICD-10 codes, Medicare) are in `all`, which the default keeps.
const ONLY_BY_NAME: [&str; 2] = ["source_code", "health"];

/// A selection of every profile of `engine` but [`ONLY_BY_NAME`] (the
/// default when no profile or detector is named).
pub fn all_profiles(engine: &Engine) -> enforcer::Result<Selection> {
    let ids: Vec<String> = engine
        .profiles()
        .into_iter()
        .map(|p| p.id)
        .filter(|id| !ONLY_BY_NAME.contains(&id.as_str()))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    engine.selection(&refs)
}
