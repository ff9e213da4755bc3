//! Logging set-up and process signals.

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for Elasticsearch, Loki and the like:
    /// `timestamp` (RFC 3339, UTC), `level`, `target`, `message` and the
    /// event's fields at the top level, plus `span` (the innermost span, e.g.
    /// the session) when there is one.
    Json,
}

/// Structured logs to stderr; `RUST_LOG` filters (default `info`),
/// `ISOLATOR_LOG_JSON=1` switches to JSON lines.
pub fn init() {
    let json = std::env::var("ISOLATOR_LOG_JSON").is_ok_and(|v| v == "1");
    init_with(if json {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
}

/// [`init`] with the format chosen (`isolator serve --log-format`);
/// `ISOLATOR_LOG_JSON=1` still turns JSON on.
pub fn init_with(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,chromiumoxide=warn,tungstenite=warn"));
    let json =
        format == LogFormat::Json || std::env::var("ISOLATOR_LOG_JSON").is_ok_and(|v| v == "1");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler cannot fail on Unix");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
