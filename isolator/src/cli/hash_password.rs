//! `isolator hash-password`: makes an argon2id hash for `[[auth.users]]`.

use std::io::BufRead;
use std::process::ExitCode;

/// Arguments of `isolator hash-password`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Reads one password line from standard input and prints its PHC string.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        anyhow::bail!("the password is empty");
    }
    if password.chars().count() < 8 {
        anyhow::bail!("the password is shorter than 8 characters");
    }
    println!("{}", crate::auth::hash_password(password));
    Ok(ExitCode::SUCCESS)
}
