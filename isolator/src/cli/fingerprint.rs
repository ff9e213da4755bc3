//! `isolator fingerprint add|list|remove`: the store of confidential
//! documents that `isolator scan --fingerprints DIR` looks texts up in.
//!
//! ```text
//! isolator fingerprint add --store DIR [--background] FILE|FOLDER...
//! isolator fingerprint list --store DIR [--json]
//! isolator fingerprint remove --store DIR ID...
//! ```
//!
//! `add` reads each file the way `scan` does (any format the extractor
//! reads, in sandboxed workers; folders are walked) and keeps only salted,
//! winnowed hashes of its text (see `enforcer::fingerprint`). A file that
//! cannot be read completely is refused and named, and the others are still
//! added. `--background` registers common text (templates, licences,
//! standard clauses) whose passages never count as a match.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use enforcer::extract::{Extraction, Limits};
use enforcer::fingerprint::Store;
use sha2::{Digest, Sha256};

use super::scan_files::{extract_files, parse_size, FileOptions, Outcome};

/// Subcommands of `isolator fingerprint`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Register documents (files or folders of them).
    Add {
        /// The store directory (created on first use, private).
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// Register as background text: its passages are boilerplate.
        #[arg(long)]
        background: bool,
        /// Largest file read, e.g. `64M`.
        #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64M")]
        max_size: u64,
        /// Files or folders.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List the registered documents.
    List {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// One JSON object per document.
        #[arg(long)]
        json: bool,
    },
    /// Remove registered documents by id.
    Remove {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// Document ids (from `list`).
        #[arg(required = true, value_name = "ID")]
        ids: Vec<u32>,
    },
}

/// Runs `isolator fingerprint ...`: 0 on success, 2 when a file or id could
/// not be handled (the others still are).
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Add {
            store,
            background,
            max_size,
            paths,
        } => add(&store, background, max_size, &paths),
        Command::List { store, json } => {
            let store = Store::open(&store, false)?;
            for d in store.documents() {
                if json {
                    println!("{}", serde_json::to_string(d)?);
                } else {
                    println!(
                        "{:>6}  {:<40}  {:>8} words  {:>6} fingerprints{}",
                        d.id,
                        d.name,
                        d.words,
                        d.fingerprints,
                        if d.background { "  (background)" } else { "" }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Remove { store, ids } => {
            let mut store = Store::open(&store, false)?;
            let mut code = ExitCode::SUCCESS;
            for id in ids {
                match store.remove(id) {
                    Ok(d) => println!("removed {} {}", d.id, d.name),
                    Err(e) => {
                        eprintln!("isolator: {e}");
                        code = ExitCode::from(2);
                    }
                }
            }
            store.commit()?;
            Ok(code)
        }
    }
}

fn add(dir: &Path, background: bool, max_size: u64, paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(dir, true)?;
    let files = walk(paths).context("listing the files to register")?;
    let opts = FileOptions {
        limits: Limits {
            max_input_bytes: max_size,
            ..Limits::default()
        },
        workers: 2,
    };
    let mut code = ExitCode::SUCCESS;
    extract_files(&files, &opts, |path, extraction| {
        let refuse = |why: String| {
            eprintln!("isolator: {}: not registered: {why}", path.display());
            ExitCode::from(2)
        };
        let text = match extraction {
            Ok(Extraction::Text { parts, .. }) => parts
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            Ok(Extraction::Unscannable { reason }) | Err(Outcome::Unscannable { reason }) => {
                code = refuse(format!("cannot be read completely: {reason}"));
                return Ok(());
            }
            Err(Outcome::Failed(why)) => {
                code = refuse(why);
                return Ok(());
            }
            Err(Outcome::Scanned { .. }) => return Ok(()),
        };
        let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let name = path.display().to_string();
        match store.add(&name, &sha, &text, background) {
            Ok(d) => println!(
                "added {} {} ({} words, {} fingerprints)",
                d.id, d.name, d.words, d.fingerprints
            ),
            Err(e) => code = refuse(e.why),
        }
        Ok(())
    })?;
    store.commit()?;
    Ok(code)
}

/// The files named, with folders walked (sorted, symlinks not followed).
fn walk(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::symlink_metadata(p)?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()?;
            entries.sort();
            out.extend(walk(&entries)?);
        } else if meta.is_file() {
            out.push(p.clone());
        }
    }
    Ok(out)
}
