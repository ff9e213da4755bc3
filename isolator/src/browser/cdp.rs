//! Small helpers for talking CDP that every part of the server uses: the
//! timeout every command runs under, and the isolated world the server's
//! page scripts live in.

use std::time::Duration;

/// Name of the isolated world our page scripts run in (invisible to the page).
pub const WORLD: &str = "__isolator";

/// Runs a CDP command with a timeout, mapping the timeout to a CDP error.
pub async fn with_timeout<F, T>(
    timeout: Duration,
    fut: F,
) -> Result<T, chromiumoxide::error::CdpError>
where
    F: std::future::Future<Output = Result<T, chromiumoxide::error::CdpError>>,
{
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(chromiumoxide::error::CdpError::Timeout),
    }
}
