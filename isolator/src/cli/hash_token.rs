//! `isolator hash-token`: makes a new admin API bearer token and the
//! `sha256:<hex>` line for `[admin] api_tokens`.
//!
//! Tokens are random 256-bit values, so a plain SHA-256 (not a slow password
//! hash) is enough to keep the config file free of secrets; the server
//! compares hashes in constant time.

use std::process::ExitCode;

/// Arguments of `isolator hash-token`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Prints a new token (give it to the API client) and its hash (put it in
/// the config).
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let token = crate::auth::random_token();
    eprintln!("token for the API client (Authorization: Bearer <token>), shown once:");
    println!("{token}");
    eprintln!("add this to [admin] api_tokens in the server config:");
    println!("{}", crate::auth::hash_api_token(&token));
    Ok(ExitCode::SUCCESS)
}
