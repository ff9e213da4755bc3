//! The client's address behind a proxy (`[forwarded]`).
//!
//! Behind nginx, a load balancer or a Kubernetes ingress every connection
//! comes from the proxy, so the rate limit, the login throttle and the
//! recordings would all see one address. A connection from an address in
//! `forwarded.trusted_proxies` has its client read from `forwarded.header`
//! (`X-Forwarded-For` by default): the entries are walked from the right
//! (the one the nearest proxy added), skipping trusted proxies, and the
//! first untrusted address is the client. What a client wrote itself sits
//! to the left of what the proxies appended and is never reached unless
//! every proxy on the way is trusted; an entry that is not an address stops
//! the walk at the last proxy. From anyone else the header is ignored.
//!
//! The result is the [`ClientAddr`] extension, used where requests are
//! counted or recorded. The connection's own address (`ConnectInfo`) stays
//! what it is: the identity headers of `auth.mode = "header"` are trusted
//! by the address of the proxy that sends them (`auth.trusted_proxies`).
//! A request another node of the cluster forwarded carries its client in
//! a signed header (`http::cluster`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Extensions, HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;

use crate::config_error::ConfigError;

/// `[forwarded]`: which proxies say who the client is, and in which header.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForwardedConfig {
    /// Proxies whose header is believed: addresses or CIDR blocks
    /// (`"10.0.0.0/8"`, `"127.0.0.1"`, `"fd00::/8"`). Empty: the header is
    /// ignored and the connection's address is the client.
    pub trusted_proxies: Vec<String>,
    /// The header carrying the client chain, comma-separated, nearest last.
    pub header: String,
}

impl Default for ForwardedConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            header: "X-Forwarded-For".into(),
        }
    }
}

/// An address block: an address and how many leading bits must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    bits: u8,
}

impl Net {
    fn parse(text: &str) -> Result<Net, String> {
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => match b.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("{text:?}: the prefix length must be 0 to {max}")),
            },
        };
        Ok(Net { addr, bits })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl ForwardedConfig {
    /// Checks the values, naming the field.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        Forwarding::new(self)
            .map(|_| ())
            .map_err(|(field, message)| ConfigError::Invalid {
                path: origin.to_owned(),
                field,
                message,
            })
    }
}

/// The client's address as this server judged it (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The compiled `[forwarded]` settings.
#[derive(Debug)]
pub struct Forwarding {
    proxies: Vec<Net>,
    header: HeaderName,
}

impl Forwarding {
    /// Compiles the settings; the error names the field.
    pub fn new(config: &ForwardedConfig) -> Result<Forwarding, (&'static str, String)> {
        let proxies = config
            .trusted_proxies
            .iter()
            .map(|p| Net::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ("forwarded.trusted_proxies", e))?;
        let header = HeaderName::try_from(config.header.as_str()).map_err(|_| {
            (
                "forwarded.header",
                format!("{:?} is not a header name", config.header),
            )
        })?;
        Ok(Forwarding { proxies, header })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|n| n.contains(ip))
    }

    /// The client of a connection from `peer` carrying `headers`.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        let chain: Vec<&str> = headers
            .get_all(&self.header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for entry in chain.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                break;
            };
            client = ip;
            if !self.trusted(ip) {
                break;
            }
        }
        client
    }
}

/// One entry of the chain: an address, also `a.b.c.d:port` or `[v6]:port`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// The client's address of a request: [`ClientAddr`] once [`resolve`] ran,
/// else the connection's.
pub fn client_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions.get::<ClientAddr>().map(|c| c.0).or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    })
}

/// Extractor: the client's address ([`client_ip`]; `0.0.0.0` when the
/// server was started without connection info, as in some unit tests).
#[derive(Clone, Copy, Debug)]
pub struct Client(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(
            client_ip(&parts.extensions).unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ))
    }
}

/// Layer (just inside the cluster's `accept_forwarded`): sets [`ClientAddr`].
pub async fn resolve(
    State(forwarding): State<Arc<Forwarding>>,
    mut req: Request,
    next: Next,
) -> Response {
    if req.extensions().get::<ClientAddr>().is_none() {
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            let client = forwarding.client_of(peer.ip(), req.headers());
            req.extensions_mut().insert(ClientAddr(client));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarding(proxies: &[&str]) -> Forwarding {
        Forwarding::new(&ForwardedConfig {
            trusted_proxies: proxies.iter().map(|p| p.to_string()).collect(),
            ..ForwardedConfig::default()
        })
        .unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_nearest_untrusted_address_is_the_client() {
        let f = forwarding(&["10.0.0.0/8", "127.0.0.1"]);
        // nginx on loopback appended the client.
        let h = headers(&["203.0.113.7"]);
        assert_eq!(f.client_of(ip("127.0.0.1"), &h), ip("203.0.113.7"));
        // Two trusted hops: the load balancer and nginx.
        let h = headers(&["203.0.113.7, 10.1.2.3"]);
        assert_eq!(f.client_of(ip("127.0.0.1"), &h), ip("203.0.113.7"));
        // The same over two header lines.
        let h = headers(&["203.0.113.7", "10.1.2.3"]);
        assert_eq!(f.client_of(ip("127.0.0.1"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn what_a_client_writes_itself_is_never_believed() {
        let f = forwarding(&["127.0.0.1"]);
        // The client sent "X-Forwarded-For: 198.51.100.1"; nginx appended
        // the real address after it.
        let h = headers(&["198.51.100.1, 203.0.113.7"]);
        assert_eq!(f.client_of(ip("127.0.0.1"), &h), ip("203.0.113.7"));
        // Claiming to be a trusted proxy does not help either.
        let h = headers(&["127.0.0.1, 203.0.113.7"]);
        assert_eq!(f.client_of(ip("127.0.0.1"), &h), ip("203.0.113.7"));
        // Straight to the server, not through a trusted proxy: ignored.
        let h = headers(&["198.51.100.1"]);
        assert_eq!(f.client_of(ip("203.0.113.7"), &h), ip("203.0.113.7"));
        // Garbage stops the walk at the last proxy.
        let h = headers(&["198.51.100.1, not-an-address"]);
        assert_eq!(f.client_of(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        // No header: the proxy itself.
        assert_eq!(
            f.client_of(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let f = forwarding(&[]);
        let h = headers(&["198.51.100.1"]);
        assert_eq!(f.client_of(ip("127.0.0.1"), &h), ip("127.0.0.1"));
    }

    #[test]
    fn blocks_ports_and_mapped_addresses() {
        let f = forwarding(&["10.0.0.0/8", "fd00::/8"]);
        assert!(f.trusted(ip("10.255.0.1")));
        assert!(!f.trusted(ip("11.0.0.1")));
        assert!(f.trusted(ip("::ffff:10.0.0.9")));
        assert!(f.trusted(ip("fd12::1")));
        assert!(!f.trusted(ip("fe80::1")));
        let h = headers(&["[2001:db8::5]:4711, 203.0.113.9:5000"]);
        assert_eq!(f.client_of(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        assert!(forwarding(&["0.0.0.0/0"]).trusted(ip("8.8.8.8")));
    }

    #[test]
    fn bad_settings_name_their_field() {
        for (proxies, header, field) in [
            (
                vec!["10.0.0.0/33"],
                "X-Forwarded-For",
                "forwarded.trusted_proxies",
            ),
            (
                vec!["nginx"],
                "X-Forwarded-For",
                "forwarded.trusted_proxies",
            ),
            (vec![], "bad header", "forwarded.header"),
        ] {
            let c = ForwardedConfig {
                trusted_proxies: proxies.iter().map(|p| p.to_string()).collect(),
                header: header.into(),
            };
            let err = c.validate("isolator.toml").unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }
}
