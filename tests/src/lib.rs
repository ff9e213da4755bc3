//! Fixture helpers for the end-to-end tests.
//!
//! - [`TestSite`]: a small web site on 127.0.0.1 (port 0) that records every
//!   request it receives, so a test can prove what did and did not arrive;
//! - [`Isolator`]: the isolator server in-process on port 0, serving the real
//!   `web-client/`;
//! - [`Client`]: a second, real headless Chromium that opens the web client
//!   the way a user's browser would, and is driven with real input events;
//! - [`Scripted`]: a session driven over the WebSocket protocol without a
//!   browser, for tests that run many sessions at once.

pub mod client;
pub mod docx;
pub mod isolator_server;
pub mod load_session;
pub mod procfs;
pub mod scripted;
pub mod site;
pub mod site_clipboard;
pub mod site_editors;
pub mod site_egress;
pub mod site_faults;
pub mod site_gatesfile;
pub mod site_gatesnet;
pub mod site_imagepaste;
pub mod site_limits;
pub mod site_memory;
pub mod site_office;
pub mod site_pagecontent;
pub mod site_rest;
pub mod site_screennet;
pub mod site_tls;
pub mod site_tricks;

pub use client::Client;
pub use isolator_server::Isolator;
pub use scripted::Scripted;
pub use site::TestSite;

use std::time::Duration;

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Installs a test log subscriber once (`RUST_LOG` to see server logs).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
