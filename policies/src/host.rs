//! Host patterns and the URL-to-app lookup.
//!
//! Patterns are normalised once at load exactly like the `url` crate
//! normalises the URLs they are matched against: lowercase, internationalised
//! names converted to punycode (IDNA), trailing dot removed. So `Bücher.Example.`
//! in a policy and `https://xn--bcher-kva.example/` in the browser meet.
//!
//! Lookup is hash-based, not a scan over every pattern: the URL's host is looked
//! up among exact hosts, then each of its proper suffixes among wildcard
//! (`*.example.com`) patterns. `*.example.com` therefore matches
//! `a.example.com` and `a.b.example.com`, never `example.com` itself nor
//! `evil-example.com`. When several patterns match, the most specific wins:
//! exact host over wildcard, longer wildcard suffix, a pattern with a port, then
//! the longest path prefix (matched on `/` segment boundaries).

use std::collections::HashMap;

use url::{Host, Url};

/// A parsed, normalised host pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    /// `true` for `*.suffix`.
    pub wildcard: bool,
    /// The host (or suffix for wildcards), normalised.
    pub host: String,
    /// The port, if the pattern names one.
    pub port: Option<u16>,
    /// Path prefix without trailing slash (`/finance`), if any.
    pub path: Option<String>,
}

impl HostPattern {
    /// Parses and normalises a pattern such as `*.Example.com:8443/finance/`.
    pub fn parse(raw: &str) -> Result<HostPattern, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("empty host pattern".into());
        }
        if s.contains("://") {
            return Err(format!(
                "host pattern `{raw}` has a scheme; write the host only, e.g. `mail.example.com`"
            ));
        }
        let (hostport, path) = match s.find('/') {
            Some(i) => (&s[..i], Some(&s[i..])),
            None => (s, None),
        };
        let (wildcard, hostport) = match hostport.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, hostport),
        };
        if hostport.contains('*') {
            return Err(format!(
                "host pattern `{raw}`: `*` is only allowed as a whole first label, as in `*.example.com`"
            ));
        }
        let (host, port) =
            split_port(hostport).map_err(|e| format!("host pattern `{raw}`: {e}"))?;
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() {
            return Err(format!("host pattern `{raw}` has no host"));
        }
        let parsed = Host::parse(host).map_err(|e| {
            format!("host pattern `{raw}`: `{host}` is not a valid host name ({e})")
        })?;
        let host = match parsed {
            Host::Domain(d) => {
                if d.split('.').any(str::is_empty) {
                    return Err(format!("host pattern `{raw}` has an empty label"));
                }
                d
            }
            Host::Ipv4(ip) if !wildcard => ip.to_string(),
            Host::Ipv6(ip) if !wildcard => format!("[{ip}]"),
            _ => {
                return Err(format!(
                    "host pattern `{raw}`: wildcards do not apply to IP addresses"
                ))
            }
        };
        let path = match path {
            None => None,
            Some(p) => normalise_path(p).map_err(|e| format!("host pattern `{raw}`: {e}"))?,
        };
        Ok(HostPattern {
            wildcard,
            host,
            port,
            path,
        })
    }

    /// Whether this pattern matches a URL's parts (`host` normalised).
    pub fn matches(&self, host: &str, port: Option<u16>, path: &str) -> bool {
        let host_ok = if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(self.host.as_str())
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        };
        host_ok
            && self.port.is_none_or(|p| Some(p) == port)
            && path_matches(self.path.as_deref(), path)
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if let Some(p) = &self.path {
            f.write_str(p)?;
        }
        Ok(())
    }
}

fn split_port(s: &str) -> Result<(&str, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        // IPv6 literal: `[::1]` or `[::1]:8080`.
        let end = rest.find(']').ok_or("unclosed `[` in IPv6 address")?;
        let host = &s[..end + 2];
        let after = &rest[end + 1..];
        return match after.strip_prefix(':') {
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!("unexpected `{after}` after IPv6 address")),
            Some(p) => Ok((host, Some(parse_port(p)?))),
        };
    }
    match s.rsplit_once(':') {
        None => Ok((s, None)),
        Some((h, p)) => Ok((h, Some(parse_port(p)?))),
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    p.parse::<u16>()
        .ok()
        .filter(|&n| n != 0)
        .ok_or_else(|| format!("`{p}` is not a port number (1-65535)"))
}

fn normalise_path(p: &str) -> Result<Option<String>, String> {
    // Let the url crate percent-encode the path exactly as it does for URLs.
    let url = Url::parse(&format!("http://h{p}")).map_err(|e| format!("bad path `{p}`: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("path prefix `{p}` must not contain `?` or `#`"));
    }
    let path = url.path().trim_end_matches('/');
    Ok(if path.is_empty() {
        None
    } else {
        Some(path.to_owned())
    })
}

/// Whether `path` is `prefix` or lies below it on a segment boundary.
fn path_matches(prefix: Option<&str>, path: &str) -> bool {
    match prefix {
        None => true,
        Some(pre) => {
            path.starts_with(pre) && (path.len() == pre.len() || path.as_bytes()[pre.len()] == b'/')
        }
    }
}

/// The parts of a URL that app lookup uses, normalised.
#[derive(Clone, Copy, Debug)]
pub struct UrlParts<'a> {
    /// Lowercase, punycode host without trailing dot; bracketed for IPv6.
    pub host: &'a str,
    /// Port, or the scheme's default.
    pub port: Option<u16>,
    /// The path (`/` at least for http URLs).
    pub path: &'a str,
}

/// Splits `url` into the parts app lookup uses; `None` for URLs without a host
/// (`about:blank`, `data:`), which belong to the catch-all app.
pub fn url_parts<'a>(url: &'a Url, ipv6_buf: &'a mut String) -> Option<UrlParts<'a>> {
    let host = match url.host()? {
        Host::Domain(d) => d.strip_suffix('.').unwrap_or(d),
        Host::Ipv4(_) | Host::Ipv6(_) => {
            // `host_str` already brackets IPv6 addresses.
            *ipv6_buf = url.host_str()?.to_owned();
            ipv6_buf.as_str()
        }
    };
    Some(UrlParts {
        host,
        port: url.port_or_known_default(),
        path: url.path(),
    })
}

#[derive(Clone, Debug)]
struct Entry {
    app: usize,
    port: Option<u16>,
    path: Option<String>,
}

/// Maps URLs to app indices.
#[derive(Clone, Debug, Default)]
pub struct AppIndex {
    exact: HashMap<String, Vec<Entry>>,
    wildcard: HashMap<String, Vec<Entry>>,
}

/// Specificity of a match; larger is more specific.
type Score = (bool, usize, bool, usize);

impl AppIndex {
    /// Adds `pattern` for app number `app`.
    pub fn insert(&mut self, pattern: &HostPattern, app: usize) {
        let map = if pattern.wildcard {
            &mut self.wildcard
        } else {
            &mut self.exact
        };
        map.entry(pattern.host.clone()).or_default().push(Entry {
            app,
            port: pattern.port,
            path: pattern.path.clone(),
        });
    }

    /// The index of the most specific app matching `parts`, if any.
    pub fn lookup(&self, parts: UrlParts<'_>) -> Option<usize> {
        let mut best: Option<(Score, usize)> = None;
        let mut consider = |entries: &[Entry], exact: bool, suffix_len: usize| {
            for e in entries {
                if e.port.is_some_and(|p| Some(p) != parts.port)
                    || !path_matches(e.path.as_deref(), parts.path)
                {
                    continue;
                }
                let score = (
                    exact,
                    suffix_len,
                    e.port.is_some(),
                    e.path.as_ref().map_or(0, String::len),
                );
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, e.app));
                }
            }
        };
        if let Some(entries) = self.exact.get(parts.host) {
            consider(entries, true, parts.host.len());
        }
        if !self.wildcard.is_empty() {
            let host = parts.host;
            let mut i = 0;
            while let Some(dot) = host[i..].find('.') {
                let suffix = &host[i + dot + 1..];
                if let Some(entries) = self.wildcard.get(suffix) {
                    consider(entries, false, suffix.len());
                }
                i += dot + 1;
            }
        }
        best.map(|(_, app)| app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HostPattern {
        HostPattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn lookup(idx: &AppIndex, url: &str) -> Option<usize> {
        let url = Url::parse(url).unwrap();
        let mut buf = String::new();
        url_parts(&url, &mut buf).and_then(|parts| idx.lookup(parts))
    }

    #[test]
    fn normalises_patterns() {
        assert_eq!(p("Mail.Example.COM.").host, "mail.example.com");
        assert_eq!(p("bücher.example").host, "xn--bcher-kva.example");
        assert_eq!(p("*.Bücher.example").host, "xn--bcher-kva.example");
        assert_eq!(p("intranet:8443").port, Some(8443));
        assert_eq!(p("example.com/Finance/").path.as_deref(), Some("/Finance"));
        assert_eq!(p("example.com/").path, None);
        assert_eq!(p("[::1]:8080").host, "[::1]");
        assert_eq!(
            p("a.example.com/my docs").path.as_deref(),
            Some("/my%20docs")
        );
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in [
            "",
            "https://example.com",
            "ex*ample.com",
            "*.*.example.com",
            "example.com:0",
            "example.com:99999",
            "exa mple.com",
            "a..example.com",
            "*.10.0.0.1",
            "[::1",
            "example.com/x?y",
        ] {
            assert!(
                HostPattern::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn matching_table() {
        let mut idx = AppIndex::default();
        idx.insert(&p("*.example.com"), 0);
        idx.insert(&p("mail.example.com"), 1);
        idx.insert(&p("example.com/finance"), 2);
        idx.insert(&p("intranet:8443"), 3);
        idx.insert(&p("bücher.example"), 4);
        idx.insert(&p("*.deep.example.com"), 5);
        idx.insert(&p("127.0.0.1"), 6);
        idx.insert(&p("[::1]:9000"), 7);
        let cases: &[(&str, Option<usize>)] = &[
            ("https://a.example.com/", Some(0)),
            ("https://A.B.EXAMPLE.com/x", Some(0)),
            ("https://example.com/", None),
            ("https://evil-example.com/", None),
            ("https://example.com.evil.net/", None),
            ("https://mail.example.com/inbox", Some(1)),
            ("https://MAIL.example.com./inbox", Some(1)),
            ("https://mail.example.com:8443/", Some(1)),
            ("https://example.com/finance", Some(2)),
            ("https://example.com/finance/q3", Some(2)),
            ("https://example.com/finances", None),
            ("https://example.com/Finance", None),
            ("http://intranet:8443/", Some(3)),
            ("http://intranet/", None),
            ("http://intranet:80/", None),
            ("https://Bücher.example/", Some(4)),
            ("https://xn--bcher-kva.example/", Some(4)),
            ("https://x.deep.example.com/", Some(5)),
            ("https://deep.example.com/", Some(0)),
            ("http://127.0.0.1:3000/", Some(6)),
            ("http://[::1]:9000/", Some(7)),
            ("http://[::1]:9001/", None),
            ("about:blank", None),
            ("data:text/plain,hi", None),
        ];
        for (url, want) in cases {
            assert_eq!(lookup(&idx, url), *want, "{url}");
        }
    }

    #[test]
    fn port_in_pattern_beats_portless() {
        let mut idx = AppIndex::default();
        idx.insert(&p("intranet"), 0);
        idx.insert(&p("intranet:8443"), 1);
        assert_eq!(lookup(&idx, "https://intranet/"), Some(0));
        assert_eq!(lookup(&idx, "https://intranet:8443/"), Some(1));
        assert_eq!(lookup(&idx, "https://intranet:443/"), Some(0));
    }
}
