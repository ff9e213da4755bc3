//! `isolator audit verify|export`: check recordings and hand them over.
//!
//! Exit codes of `verify`: 0 every recording is intact (ended and sealed);
//! 3 none is tampered but some are unfinished or end in a crash-truncated
//! tail (verified up to their last complete record); 1 some recording, or
//! the retention log, is tampered; 2 the command itself failed.
//!
//! A session whose directory is not on this machine is read from the bucket
//! of `[audit.object_store]` in `--config` (downloaded into a private
//! temporary directory, removed afterwards), and verified the same way.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::audit::{
    AuditConfig, Bucket, IncidentQuery, Index, SegmentSource, SessionRow, Status, VerifyReport,
};
use anyhow::Context;

/// Subcommands of `isolator audit`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify a recording: a session id, a session directory, a recordings
    /// root (every indexed session and the retention log) or an export bundle.
    Verify {
        /// Session id, directory or bundle file.
        target: String,
        /// The recordings root (default: `[audit] dir` of --config, else the built-in default).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A server config file whose `[audit]` table names the root.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print reports as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Export a session's recording, index rows and manifest as one bundle.
    Export {
        /// Session id.
        session: String,
        /// The bundle file to write.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// The recordings root.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A server config file whose `[audit]` table names the root.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Runs `isolator audit ...`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Verify {
            target,
            dir,
            config,
            json,
        } => verify(&target, dir, config, json),
        Command::Export {
            session,
            output,
            dir,
            config,
        } => export(&session, &output, dir, config),
    }
}

/// The `[audit]` settings from the flags: `--config`'s table (else the
/// defaults), its root replaced by `--dir` when given.
fn settings(dir: Option<PathBuf>, config: Option<PathBuf>) -> anyhow::Result<AuditConfig> {
    let mut audit = match config {
        Some(path) => config_file(&path)?,
        None => AuditConfig::default(),
    };
    if let Some(dir) = dir {
        audit.dir = dir;
    }
    Ok(audit)
}

/// The bucket of `[audit.object_store]`, if configured.
fn bucket(audit: &AuditConfig) -> anyhow::Result<Option<Arc<Bucket>>> {
    match &audit.object_store {
        Some(os) => {
            os.validate("[audit.object_store]")?;
            Ok(Some(Bucket::open(os)?))
        }
        None => Ok(None),
    }
}

/// Verifies an indexed session wherever it is: its directory, or the bucket.
fn verify_row(
    row: &SessionRow,
    bucket: Option<&Arc<Bucket>>,
    audit: &AuditConfig,
) -> anyhow::Result<VerifyReport> {
    let source = SegmentSource::of_row(row, bucket)?;
    let copy = source.local_copy(None, crate::audit::store::object_limit(audit))?;
    let anchor = row.head.as_deref().map(|h| (row.records, h));
    Ok(crate::audit::verify_dir(copy.dir(), anchor)?)
}

fn config_file(path: &Path) -> anyhow::Result<AuditConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))?;
    let mut audit: AuditConfig = match doc.get("audit") {
        Some(v) => v
            .clone()
            .try_into()
            .with_context(|| format!("{}: [audit]", path.display()))?,
        None => AuditConfig::default(),
    };
    audit.resolve_paths(path.parent().unwrap_or(Path::new(".")));
    Ok(audit)
}

fn open_index(root: &Path) -> anyhow::Result<Index> {
    let path = root.join(crate::audit::store::INDEX_FILE);
    anyhow::ensure!(
        path.is_file(),
        "no audit index at {} (pass --dir or --config)",
        path.display()
    );
    Ok(Index::open(&path)?)
}

fn print(label: &str, report: &VerifyReport, json: bool) {
    if json {
        let mut v = serde_json::to_value(report).unwrap_or_default();
        v["target"] = label.into();
        println!("{v}");
        return;
    }
    let what = match report.status {
        Status::Intact => "intact",
        Status::Unfinished => "unfinished (not ended; every record verifies)",
        Status::TruncatedTail => "truncated tail (crash; verified up to the last complete record)",
        Status::Tampered => "TAMPERED",
    };
    println!(
        "{label}: {what}: {} records in {} segments, {} bytes, head {}",
        report.records, report.segments, report.bytes, report.head
    );
    if let Some(p) = &report.problem {
        println!("  first broken record: {p}");
    }
}

fn verify(
    target: &str,
    dir: Option<PathBuf>,
    config: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let path = Path::new(target);
    let mut reports: Vec<(String, VerifyReport)> = Vec::new();
    let mut log_ok = true;
    if path.is_file() {
        reports.push((target.to_owned(), crate::audit::verify_bundle(path)?));
    } else if path.is_dir() && path.join(crate::audit::store::INDEX_FILE).is_file() {
        // A whole root: every indexed session, then the retention log.
        let audit = settings(Some(path.to_owned()), config)?;
        let bucket = bucket(&audit)?;
        let index = open_index(path)?;
        for row in index.sessions_oldest_first()? {
            let report = verify_row(&row, bucket.as_ref(), &audit)
                .with_context(|| format!("session {}", row.id))?;
            reports.push((row.id.clone(), report));
        }
        let log = path.join(crate::audit::retention::FILE_NAME);
        match crate::audit::verify_retention_log(&log) {
            Ok(entries) => {
                if !json {
                    println!("retention log: intact, {} deletions", entries.len());
                }
            }
            Err(err) => {
                log_ok = false;
                println!("retention log: TAMPERED: {err}");
            }
        }
    } else if path.is_dir() {
        // A session directory; anchor it with the index two levels up if there is one.
        let anchor_row = path
            .parent()
            .and_then(Path::parent)
            .filter(|r| r.join(crate::audit::store::INDEX_FILE).is_file())
            .and_then(|r| open_index(r).ok())
            .zip(path.file_name().and_then(|n| n.to_str()))
            .and_then(|(index, id)| index.session(id).ok().flatten());
        let anchor = anchor_row
            .as_ref()
            .and_then(|r| r.head.as_deref().map(|h| (r.records, h)));
        reports.push((target.to_owned(), crate::audit::verify_dir(path, anchor)?));
    } else {
        let audit = settings(dir, config)?;
        let bucket = bucket(&audit)?;
        let index = open_index(&audit.dir)?;
        let row = index.session(target)?.with_context(|| {
            format!(
                "no session {target:?} in the index under {}",
                audit.dir.display()
            )
        })?;
        reports.push((
            target.to_owned(),
            verify_row(&row, bucket.as_ref(), &audit)?,
        ));
    }
    for (label, report) in &reports {
        print(label, report, json);
    }
    let tampered = !log_ok || reports.iter().any(|(_, r)| r.status == Status::Tampered);
    let partial = reports.iter().any(|(_, r)| r.status != Status::Intact);
    Ok(if tampered {
        ExitCode::from(1)
    } else if partial {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn export(
    session: &str,
    output: &Path,
    dir: Option<PathBuf>,
    config: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let audit = settings(dir, config)?;
    let bucket = bucket(&audit)?;
    let index = open_index(&audit.dir)?;
    let row = index.session(session)?.with_context(|| {
        format!(
            "no session {session:?} in the index under {}",
            audit.dir.display()
        )
    })?;
    let incidents = index.incidents(&IncidentQuery {
        session: Some(session.to_owned()),
        limit: Some(10_000),
        ..IncidentQuery::default()
    })?;
    let copy = SegmentSource::of_row(&row, bucket.as_ref())?
        .local_copy(None, crate::audit::store::object_limit(&audit))?;
    let manifest = crate::audit::export(copy.dir(), Some(row), incidents, output)
        .with_context(|| format!("exporting session {session}"))?;
    println!(
        "exported session {} to {}: {} records in {} segments, {} incidents, {}, head {}",
        manifest.session,
        output.display(),
        manifest.records,
        manifest.segments.len(),
        manifest.incidents.len(),
        manifest.status,
        manifest.head
    );
    Ok(ExitCode::SUCCESS)
}
