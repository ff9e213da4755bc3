//! `isolator policies check|explain`: validate a policy file, and ask it why.
//!
//! Both commands compile the file exactly as the server does, so "check
//! passes" means "the server will accept it". Problems print one per line as
//! `file:line:column: field: message`, the format editors jump to.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use policies::{Action, DataDir, Identity, Mode, Policy, RuleDoc};

/// Subcommands of `isolator policies`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a policy document and print a summary.
    Check {
        /// The policy file.
        file: PathBuf,
        /// The directory exact-data files are read from, as the server's
        /// `policies.data_dir` (default: `data/` beside the file).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Show the decision for one user, URL and action, and the rule behind it.
    Explain {
        /// The policy file.
        file: PathBuf,
        /// The directory exact-data files are read from (as for `check`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The user name.
        #[arg(long)]
        user: String,
        /// A group of the user (repeat for several).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The URL of the page.
        #[arg(long)]
        url: String,
        /// copy, paste, upload, download, keyboard, print, submit or page.
        #[arg(long)]
        action: Action,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `isolator policies ...`. Exit code 1 for an invalid document.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { file, data_dir } => {
            let Some(policy) = load(&file, data_dir)? else {
                return Ok(ExitCode::from(1));
            };
            print!("{}", summary(&file, &policy));
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain {
            file,
            data_dir,
            user,
            groups,
            url,
            action,
            json,
        } => {
            let Some(policy) = load(&file, data_dir)? else {
                return Ok(ExitCode::from(1));
            };
            let who = Identity { user, groups };
            let decision = policy
                .decide_str(&who, &url, action)
                .with_context(|| format!("`{url}` is not a valid URL"))?;
            if json {
                let mut v = serde_json::to_value(&decision)?;
                v["explanation"] = serde_json::to_value(policy.explain_lines(&decision))?;
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", explain(&policy, &decision));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Compiles `file` (exact-data files from `data_dir`, default `data/`
/// beside it); prints its problems and returns `None` if it is invalid.
fn load(file: &Path, data_dir: Option<PathBuf>) -> anyhow::Result<Option<Policy>> {
    let data_dir = data_dir.map_or_else(|| DataDir::beside(file), DataDir::new);
    match policies::load_file_in(file, &data_dir) {
        Ok(p) => Ok(Some(p)),
        Err(policies::Error::Invalid(problems)) => {
            for p in &problems.0 {
                match &p.location {
                    Some(_) => eprintln!("{p}"),
                    None => eprintln!("{}: {p}", file.display()),
                }
            }
            let n = problems.0.len();
            eprintln!(
                "{}: invalid, {n} problem{}; nothing was applied",
                file.display(),
                if n == 1 { "" } else { "s" }
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn settings(rule: &RuleDoc) -> String {
    let mut parts = Vec::new();
    if rule.read_only {
        parts.push("read-only".to_owned());
    }
    for action in Action::ALL {
        if rule.read_only && action.is_input() {
            continue;
        }
        if let Some(s) = rule.setting(action) {
            let mut text = format!("{action}={}", s.mode);
            if s.mode == Mode::Scan {
                let profiles = if s.profiles.is_empty() {
                    &rule.profiles
                } else {
                    &s.profiles
                };
                let on = s.on_match.or(rule.on_match).unwrap_or_default();
                let _ = write!(text, "[{}]->{on}", profiles.join(","));
            }
            parts.push(text);
        }
    }
    let size = |b: Option<policies::ByteSize>| b.map(|b| b.0);
    if let Some(b) = size(rule.max_clipboard_bytes) {
        parts.push(format!("clipboard<={b}B"));
    }
    if let Some(b) = size(rule.max_upload_bytes) {
        parts.push(format!("upload<={b}B"));
    }
    if let Some(b) = size(rule.max_download_bytes) {
        parts.push(format!("download<={b}B"));
    }
    if !rule.upload_types.is_empty() {
        parts.push(format!("upload types {}", rule.upload_types.join(",")));
    }
    if !rule.download_types.is_empty() {
        parts.push(format!("download types {}", rule.download_types.join(",")));
    }
    if !rule.mask.is_empty() {
        parts.push(format!("mask {}", rule.mask.join(",")));
    }
    if rule.keep_typed_text == Some(true) {
        parts.push("keeps typed text".to_owned());
    }
    if parts.is_empty() {
        "(sets nothing)".to_owned()
    } else {
        parts.join("  ")
    }
}

fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// The `check` summary.
fn summary(file: &Path, policy: &Policy) -> String {
    let doc = policy.document();
    let mut out = String::new();
    let _ = writeln!(out, "{}: OK", file.display());
    let _ = writeln!(
        out,
        "{} (+ the catch-all `other`):",
        plural(doc.apps.len(), "app")
    );
    for app in &doc.apps {
        let _ = writeln!(out, "  {:<20} {}", app.name, app.hosts.join(", "));
    }
    let _ = writeln!(out, "{}:", plural(doc.detectors.len(), "custom detector"));
    for d in &doc.detectors {
        let kind = d.kind.map_or("", |k| k.as_str());
        let _ = writeln!(out, "  {:<20} {kind}", d.id);
    }
    let _ = writeln!(
        out,
        "{} (+ predefined {}, {}):",
        plural(doc.profiles.len(), "custom profile"),
        enforcer::detect::PREDEFINED_PROFILES.join(", "),
        enforcer::fingerprint::PROFILE
    );
    for p in &doc.profiles {
        let _ = writeln!(out, "  {:<20} {}", p.id, p.detectors.join(", "));
    }
    let _ = writeln!(
        out,
        "{}, first match per action wins:",
        plural(doc.rules.len(), "rule")
    );
    for (i, r) in doc.rules.iter().enumerate() {
        let sel = |what: &str, v: &[String]| {
            if v.is_empty() {
                String::new()
            } else {
                format!(" {what}={}", v.join(","))
            }
        };
        let who = if r.users.is_empty() && r.groups.is_empty() {
            " everyone".to_owned()
        } else {
            format!("{}{}", sel("users", &r.users), sel("groups", &r.groups))
        };
        let apps = if r.apps.is_empty() {
            " all apps".to_owned()
        } else {
            sel("apps", &r.apps)
        };
        let _ = writeln!(out, "  {:>3}. {}:{apps}{who}", i + 1, r.name);
        let _ = writeln!(out, "       {}", settings(r));
    }
    let mut d = doc.defaults.clone();
    for action in Action::ALL {
        d.setting_mut(action)
            .get_or_insert(policies::ActionSetting::mode(Mode::Allow));
    }
    let _ = writeln!(out, "defaults: {}", settings(&d));
    out
}

/// The `explain` report.
fn explain(policy: &Policy, d: &policies::Decision) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "decision: {} {}", d.action, policies::describe(d));
    match d.rule.index {
        Some(i) => {
            let _ = writeln!(out, "rule:     #{} `{}`", i + 1, d.rule.name);
        }
        None => {
            let _ = writeln!(out, "rule:     defaults");
        }
    }
    let _ = writeln!(out, "app:      {}", d.app);
    if let Some(b) = d.limits.max_bytes(d.action) {
        let _ = writeln!(out, "limit:    at most {b} bytes");
    }
    let types = match d.action {
        Action::Upload => &d.limits.upload_types,
        Action::Download => &d.limits.download_types,
        _ => &Vec::new(),
    };
    if !types.is_empty() {
        let _ = writeln!(out, "types:    {}", types.join(", "));
    }
    if !d.mask.is_empty() {
        let _ = writeln!(out, "mask:     {}", d.mask.join(", "));
    }
    if d.action == Action::Keyboard {
        let _ = writeln!(
            out,
            "record:   {}",
            if d.keep_typed_text {
                "typed text kept"
            } else {
                "lengths only"
            }
        );
    }
    let _ = writeln!(out, "why:");
    for line in policy.explain_lines(d) {
        let _ = writeln!(out, "  {line}");
    }
    out
}
