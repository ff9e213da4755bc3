//! Logging set-up and process signals.

/// Structured logs to stderr; `RUST_LOG` filters (default `info`),
/// `ISOLATOR_LOG_JSON=1` switches to JSON lines.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,chromiumoxide=warn,tungstenite=warn"));
    let json = std::env::var("ISOLATOR_LOG_JSON").is_ok_and(|v| v == "1");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
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
