//! Name resolution for the egress proxy.
//!
//! The proxy resolves every name itself (Chromium never does: a proxied
//! request carries the name), checks every answer, and connects to the
//! addresses it checked. [`Resolve`] is a trait so the server can plug in a
//! caching or DoH resolver and tests can plug in a hostile one (DNS
//! rebinding); [`SystemResolver`] uses the operating system's resolver.

use std::io;
use std::net::IpAddr;

use futures::future::BoxFuture;
use futures::FutureExt;

/// Resolves a host name to addresses.
pub trait Resolve: Send + Sync + 'static {
    /// Looks up `host` (lowercase ASCII, no trailing dot). The proxy applies
    /// its own timeout around this future.
    fn resolve(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver (`getaddrinfo` on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let host = host.to_owned();
        async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let mut out: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
            Ok(out)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn system_resolver_answers_localhost() {
        let addrs = SystemResolver.resolve("localhost").await.unwrap();
        assert!(addrs.iter().all(|a| a.is_loopback()), "{addrs:?}");
        assert!(!addrs.is_empty());
    }
}
