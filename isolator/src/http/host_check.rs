//! The `Host` allow-list: the defence against DNS rebinding.
//!
//! A web page the operator visits can point its own name at 127.0.0.1 (DNS
//! rebinding) and then talk to this server as if it were same-origin: read
//! the admin API, open sessions, replay recordings. The request then carries
//! the attacker's name in `Host` (the browser cannot send another), so every
//! request, on every route, must name this server: the address it listens on
//! (`ip:port`, plus `localhost:port` when that is loopback) or one of the
//! names configured in `public_hosts`. Others get `421 Misdirected Request`.
//!
//! Rules:
//! - The authority is the `Host` header and, for an absolute-form request
//!   target (`GET http://name/ HTTP/1.1`) or HTTP/2's `:authority`, the URI's
//!   authority too: each one present must be allowed, and at least one must be.
//!   No `Host` at all, or two of them, is `400`.
//! - Names compare without case and without one trailing dot; IP literals
//!   compare as addresses (`[::1]` and `[0:0::1]` are the same).
//! - A missing port means 80 (the server speaks plain HTTP; TLS ends at a
//!   proxy, whose public name is configured with its port or without one).
//! - A `public_hosts` entry without a port matches that name on any port
//!   (the port a browser shows depends on the proxy in front); with a port,
//!   only that port.
//! - Listening on an unspecified address (`0.0.0.0`, `::`), any IP literal
//!   with the listening port is accepted: the server cannot know which of the
//!   machine's addresses a client used, and an IP literal is never a
//!   rebinding (the page's origin is then that address itself).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// A parsed authority: host (lowercase, no trailing dot, IP literal parsed)
/// and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    host: Host,
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Name(String),
    Ip(IpAddr),
}

/// Why an authority does not parse.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    /// Empty.
    #[error("is empty")]
    Empty,
    /// Not `host`, `host:port`, `ip:port` or `[ipv6]:port`.
    #[error("is not a host name or address with an optional :port")]
    Malformed,
}

impl Authority {
    /// Parses `host`, `host:port`, `1.2.3.4:port` or `[v6]:port`.
    pub fn parse(text: &str) -> Result<Authority, AuthorityError> {
        if text.is_empty() {
            return Err(AuthorityError::Empty);
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (ip, after) = rest.split_once(']').ok_or(AuthorityError::Malformed)?;
            let ip: std::net::Ipv6Addr = ip.parse().map_err(|_| AuthorityError::Malformed)?;
            let port = match after {
                "" => None,
                p => Some(parse_port(
                    p.strip_prefix(':').ok_or(AuthorityError::Malformed)?,
                )?),
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        } else {
            let (name, port) = match text.rsplit_once(':') {
                Some((name, port)) => (name, Some(parse_port(port)?)),
                None => (text, None),
            };
            let name = name.strip_suffix('.').unwrap_or(name);
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            if name.len() > 253 || !name.split('.').all(label_ok) {
                return Err(AuthorityError::Malformed);
            }
            let host = match name.parse::<std::net::Ipv4Addr>() {
                Ok(ip) => Host::Ip(IpAddr::V4(ip)),
                Err(_) => Host::Name(name.to_ascii_lowercase()),
            };
            (host, port)
        };
        Ok(Authority { host, port })
    }
}

fn parse_port(p: &str) -> Result<u16, AuthorityError> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthorityError::Malformed);
    }
    p.parse().map_err(|_| AuthorityError::Malformed)
}

/// The authorities this server answers to.
#[derive(Clone, Debug)]
pub struct AllowedHosts {
    /// Exact host and port (the listen addresses, `localhost:port`).
    exact: Vec<(Host, u16)>,
    /// Any IP literal on these ports (listening on an unspecified address).
    any_ip_on: Vec<u16>,
    /// Configured public names: a port, or any port.
    public: Vec<Authority>,
}

impl AllowedHosts {
    /// The listen addresses and the configured public names (already
    /// validated: an entry that does not parse is skipped).
    pub fn new(listen: &[SocketAddr], public_hosts: &[String]) -> AllowedHosts {
        let mut exact = Vec::new();
        let mut any_ip_on = Vec::new();
        for addr in listen {
            let ip = addr.ip();
            if ip.is_unspecified() {
                any_ip_on.push(addr.port());
            } else {
                exact.push((Host::Ip(ip), addr.port()));
            }
            if ip.is_loopback() || ip.is_unspecified() {
                exact.push((Host::Name("localhost".into()), addr.port()));
            }
        }
        let public = public_hosts
            .iter()
            .filter_map(|h| Authority::parse(h).ok())
            .collect();
        AllowedHosts {
            exact,
            any_ip_on,
            public,
        }
    }

    /// Whether `text` (a `Host` value or URI authority) names this server.
    pub fn allows(&self, text: &str) -> bool {
        let Ok(a) = Authority::parse(text) else {
            return false;
        };
        let port = a.port.unwrap_or(80);
        self.exact.iter().any(|(h, p)| *h == a.host && *p == port)
            || (matches!(a.host, Host::Ip(_)) && self.any_ip_on.contains(&port))
            || self
                .public
                .iter()
                .any(|p| p.host == a.host && p.port.is_none_or(|pp| pp == port))
    }

    /// Checks a request's authorities; the refusal says what was wrong.
    pub fn check<B>(&self, req: &Request<B>) -> Result<(), Refused> {
        let mut hosts = req.headers().get_all(header::HOST).iter();
        let host = hosts.next();
        if hosts.next().is_some() {
            return Err(Refused::Malformed("more than one Host header"));
        }
        let host = match host.map(|h| h.to_str()) {
            Some(Ok(h)) => Some(h),
            Some(Err(_)) => return Err(Refused::Malformed("a Host header that is not ASCII")),
            None => None,
        };
        let uri = req.uri().authority().map(|a| a.as_str());
        if host.is_none() && uri.is_none() {
            return Err(Refused::Malformed("no Host header"));
        }
        for a in [host, uri].into_iter().flatten() {
            if !self.allows(a) {
                return Err(Refused::Foreign);
            }
        }
        Ok(())
    }
}

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No usable Host.
    Malformed(&'static str),
    /// A Host that is not this server's.
    Foreign,
}

/// Middleware: refuses requests whose `Host` (or absolute URI) does not name
/// this server, before anything else looks at them.
pub async fn guard(
    State(allowed): State<Arc<AllowedHosts>>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let forwarded = req
        .extensions()
        .get::<super::cluster::Forwarded>()
        .is_some();
    match allowed.check(&req) {
        Ok(()) => next.run(req).await,
        // Checked by the node that forwarded it, whose names may differ.
        Err(_) if forwarded => next.run(req).await,
        Err(refused) => {
            // The value is the client's: cut and escaped, so it cannot forge
            // a log line, yet an operator sees which name to add to
            // `public_hosts` when a proxy's requests are refused.
            let host: String = req.headers().get(header::HOST).map_or_else(
                || "(none)".to_owned(),
                |h| {
                    String::from_utf8_lossy(h.as_bytes())
                        .chars()
                        .take(100)
                        .flat_map(char::escape_debug)
                        .collect()
                },
            );
            tracing::warn!(%host, "request for another host name refused (DNS rebinding?)");
            match refused {
                Refused::Malformed(what) => crate::http::api_error(
                    StatusCode::BAD_REQUEST,
                    "bad_host",
                    &format!("request refused: {what}"),
                ),
                Refused::Foreign => crate::http::api_error(
                    StatusCode::MISDIRECTED_REQUEST,
                    "wrong_host",
                    "this server does not answer to that host name; use the address the \
                     administrator published (a name must be listed in `public_hosts`)",
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(a: &str) -> AllowedHosts {
        AllowedHosts::new(
            &[a.parse().unwrap()],
            &["rbi.example.com".into(), "proxy.example:8443".into()],
        )
    }

    #[test]
    fn listen_address_and_localhost_on_loopback() {
        let h = listen("127.0.0.1:8080");
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "localhost.:8080",
            "rbi.example.com",
            "RBI.Example.COM.",
            "rbi.example.com:443",
            "proxy.example:8443",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1",
            "127.0.0.1:8081",
            "localhost:8081",
            "[::1]:8080",
            "proxy.example",
            "proxy.example:443",
            "rbi.example.com.evil.example",
            "user@127.0.0.1:8080",
            "127.0.0.1:8080:8080",
            "127.0.0.1:",
            ":8080",
            "",
            "127.0.0.1:99999",
            "localhost..:8080",
            "a b:8080",
            "2130706433:8080",
            "0x7f.0.0.1:8080",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
    }

    #[test]
    fn ipv6_literals_compare_as_addresses() {
        let h = listen("[::1]:9000");
        assert!(h.allows("[::1]:9000"));
        assert!(h.allows("[0:0:0:0:0:0:0:1]:9000"));
        assert!(h.allows("localhost:9000"));
        assert!(!h.allows("127.0.0.1:9000"));
        assert!(!h.allows("[::1]"));
        assert!(!h.allows("[::1]9000"));
        assert!(!h.allows("[::2]:9000"));
    }

    #[test]
    fn unspecified_listen_takes_any_ip_literal_but_no_foreign_name() {
        let h = listen("0.0.0.0:8080");
        assert!(h.allows("10.1.2.3:8080"));
        assert!(h.allows("[fe80::1]:8080"));
        assert!(h.allows("localhost:8080"));
        assert!(!h.allows("10.1.2.3:8081"));
        assert!(!h.allows("evil.example:8080"));
    }

    #[test]
    fn port_80_may_be_left_out() {
        let h = listen("127.0.0.1:80");
        assert!(h.allows("127.0.0.1"));
        assert!(h.allows("localhost"));
        assert!(h.allows("127.0.0.1:80"));
    }

    fn request(host: Option<&str>, uri: &str) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        if let Some(host) = host {
            b = b.header(header::HOST, host);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn every_authority_of_a_request_must_be_allowed() {
        let h = listen("127.0.0.1:8080");
        assert_eq!(h.check(&request(Some("127.0.0.1:8080"), "/api/me")), Ok(()));
        assert_eq!(
            h.check(&request(Some("evil.example"), "/")),
            Err(Refused::Foreign)
        );
        assert_eq!(
            h.check(&request(None, "/")),
            Err(Refused::Malformed("no Host header"))
        );
        // Absolute form: the URI's authority counts, whatever Host says.
        assert_eq!(
            h.check(&request(
                Some("127.0.0.1:8080"),
                "http://evil.example/api/me"
            )),
            Err(Refused::Foreign)
        );
        assert_eq!(
            h.check(&request(None, "http://127.0.0.1:8080/api/me")),
            Ok(())
        );
        let two = Request::builder()
            .uri("/")
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::HOST, "evil.example")
            .body(())
            .unwrap();
        assert!(matches!(h.check(&two), Err(Refused::Malformed(_))));
    }
}
