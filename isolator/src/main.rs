//! The `isolator` command line: `serve`, `scan`, `policies`, `extract-worker`.
//!
//! Each subcommand lives in its own module under `cli/` and returns the
//! process exit code; errors are printed with their full cause chain.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use isolator::cli;

/// Remote browser isolation with a real-time DLP enforcer.
#[derive(Debug, Parser)]
#[command(name = "isolator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web client and isolated browsing sessions.
    Serve(cli::serve::Args),
    /// Scan files or standard input for sensitive data.
    Scan(cli::scan::Args),
    /// Register confidential documents for `scan --fingerprints`.
    #[command(subcommand)]
    Fingerprint(cli::fingerprint::Command),
    /// Validate and explain policy documents.
    #[command(subcommand)]
    Policies(cli::policies::Command),
    /// Hash a password (read from standard input) for `[[auth.users]]`.
    HashPassword(cli::hash_password::Args),
    /// Make an admin API bearer token and its hash for `[admin] api_tokens`.
    HashToken(cli::hash_token::Args),
    /// Verify and export tamper-evident session recordings.
    #[command(subcommand)]
    Audit(cli::audit::Command),
    /// Internal: a sandboxed worker that extracts text from untrusted files.
    #[command(hide = true)]
    ExtractWorker(cli::extract_worker::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => cli::serve::run(args),
        Command::Scan(args) => cli::scan::run(args),
        Command::Policies(cmd) => cli::policies::run(cmd),
        Command::Fingerprint(cmd) => cli::fingerprint::run(cmd),
        Command::ExtractWorker(args) => cli::extract_worker::run(args),
        Command::HashPassword(args) => cli::hash_password::run(args),
        Command::HashToken(args) => cli::hash_token::run(args),
        Command::Audit(cmd) => cli::audit::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("isolator: {err:#}");
            ExitCode::from(2)
        }
    }
}
