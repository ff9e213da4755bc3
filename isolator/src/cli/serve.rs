//! `isolator serve`: runs the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;

/// Arguments of `isolator serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (TOML). Without it, the defaults apply.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Listen address, overriding the config (`127.0.0.1:0` picks a free port).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Directory of the web client's files, overriding the config.
    #[arg(long)]
    pub web_root: Option<PathBuf>,
    /// Validate the configuration and exit.
    #[arg(long)]
    pub check: bool,
    /// Log line format on stderr: `text`, or `json` (one object per line,
    /// for Elasticsearch or Loki; `ISOLATOR_LOG_JSON=1` does the same).
    #[arg(long, value_enum, default_value_t = crate::logging::LogFormat::Text)]
    pub log_format: crate::logging::LogFormat,
}

/// Loads the config named by the arguments, applying overrides.
pub fn load_config(args: &Args) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(root) = &args.web_root {
        config.web_root = root.clone();
    }
    let origin = args
        .config
        .as_ref()
        .map_or("defaults".to_owned(), |p| p.display().to_string());
    config.validate(&origin)?;
    Ok(config)
}

/// Runs `isolator serve`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = load_config(&args)?;
    if args.check {
        println!(
            "configuration is valid: listen {}, auth {}, up to {} sessions",
            config.listen,
            config.auth.mode.as_str(),
            config.sessions.max
        );
        return Ok(ExitCode::SUCCESS);
    }
    crate::logging::init_with(args.log_format);
    // Everything the server creates is private to its user unless given a
    // mode (recordings, the SQLite index and its journals, uploads).
    crate::os::private_fs::set_private_umask();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            crate::logging::shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = tx.send(true);
        });
        crate::http::serve(listener, config, rx).await
    })?;
    Ok(ExitCode::SUCCESS)
}
