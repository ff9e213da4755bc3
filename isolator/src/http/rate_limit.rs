//! Request rate limits for the HTTP API, per client address.
//!
//! A token bucket per client IP: `burst` requests at once, refilled at
//! `per_second`. Over the limit the answer is `429 Too Many Requests` with a
//! `Retry-After` header and a JSON error; the request never reaches its
//! handler. Static files and the session WebSocket's frames are not counted
//! (one WebSocket upgrade is one request). Login attempts also have
//! their own growing waits per (user, client address) in
//! [`crate::auth::throttle`].
//!
//! Behind a reverse proxy every user shares the proxy's address: raise the
//! limits there, or rate-limit at the proxy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;

use crate::config_error::ConfigError;

/// The `[rate_limit]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained API requests per second per client address.
    pub per_second: u32,
    /// Requests a client may make at once before the sustained rate applies.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: 50,
            burst: 200,
        }
    }
}

impl RateLimitConfig {
    /// Checks the values, naming the field.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |field: &'static str| ConfigError::Invalid {
            path: origin.to_owned(),
            field,
            message: "must be at least 1".into(),
        };
        if self.per_second == 0 {
            return Err(bad("rate_limit.per_second"));
        }
        if self.burst == 0 {
            return Err(bad("rate_limit.burst"));
        }
        Ok(())
    }
}

/// Most client addresses tracked; idle buckets are dropped first.
const MAX_CLIENTS: usize = 100_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client.
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip`; `Err(seconds)` to wait when there is none.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let rate = f64::from(self.config.per_second);
        let burst = f64::from(self.config.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&ip) {
            // Forget clients whose bucket has refilled: they lose nothing.
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// Middleware: limits `/api/` and `/login` requests.
pub async fn limit(
    State(limiter): State<Arc<RateLimiter>>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let path = req.uri().path();
    // A request another node forwarded was counted there.
    let forwarded = req
        .extensions()
        .get::<super::cluster::Forwarded>()
        .is_some();
    let counted = (path.starts_with("/api/") || path == "/login") && !forwarded;
    if counted {
        if let Some(client) = super::client_addr::client_ip(req.extensions()) {
            if let Err(wait) = limiter.take(client, Instant::now()) {
                tracing::warn!(%client, "API rate limit reached");
                let mut res = crate::http::api_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests from this address; try again shortly",
                );
                if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                    res.headers_mut().insert("retry-after", v);
                }
                return res;
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bursts_then_the_sustained_rate() {
        let l = RateLimiter::new(RateLimitConfig {
            per_second: 10,
            burst: 5,
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t = Instant::now();
        for _ in 0..5 {
            l.take(ip, t).unwrap();
        }
        assert_eq!(l.take(ip, t), Err(1));
        // Another client has its own bucket.
        l.take(other, t).unwrap();
        // 100 ms later one token is back.
        l.take(ip, t + Duration::from_millis(100)).unwrap();
        assert!(l.take(ip, t + Duration::from_millis(100)).is_err());
    }
}
