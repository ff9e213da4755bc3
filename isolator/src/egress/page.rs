//! The small responses the proxy writes itself: the "blocked" page for
//! plain-HTTP requests, and bare status lines for tunnels.

use super::policy::Reason;

/// Escapes text for an HTML text node or attribute.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the user is told. Resolved addresses are left out: they describe
/// the internal network, and the event carries them for the audit log.
fn user_text(reason: &Reason) -> String {
    match reason {
        Reason::Range { range, .. } => format!("resolves to {range}"),
        Reason::Protected { .. } => "is the isolator service itself".into(),
        Reason::DenyRule { .. } => "is on the deny list".into(),
        Reason::Port { port } => format!("uses port {port}, which is not permitted"),
        Reason::Unresolved { .. } => "does not resolve".into(),
        Reason::Unreachable { .. } => "did not accept a connection".into(),
        Reason::BadRequest { .. } => "was not a valid request".into(),
        Reason::Certificate { error } => format!("cannot be trusted: {error}"),
        other => other.to_string(),
    }
}

/// A complete HTTP/1.1 response with a small HTML page, `Connection: close`.
pub(crate) fn html_response(status: u16, host: &str, reason: &Reason) -> Vec<u8> {
    let (status_text, title, footer) = match status {
        403 => (
            "Forbidden",
            "Blocked by isolator",
            "The egress policy of this isolated browser does not allow this destination.",
        ),
        400 => (
            "Bad Request",
            "Bad request",
            "The browser sent an invalid proxy request.",
        ),
        431 => (
            "Request Header Fields Too Large",
            "Request too large",
            "The request headers exceed the isolator's limit.",
        ),
        _ if matches!(reason, Reason::Certificate { .. }) => (
            "Bad Gateway",
            "Certificate not trusted",
            "The isolator checks the identity of every site for this isolated browser. \
             If this is an internal site, an administrator can add its certificate \
             authority to egress.tls.extra_roots.",
        ),
        _ => (
            "Bad Gateway",
            "Site unreachable",
            "The isolator could not reach this destination.",
        ),
    };
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>body{{font:16px system-ui,sans-serif;\
         margin:15vh auto;max-width:36em;padding:0 1em;color:#222}}h1{{font-size:1.4em}}\
         code{{background:#f3f3f3;padding:.1em .3em}}</style></head><body>\
         <h1>{title}</h1><p>{title}: <code>{host}</code> {why}.</p><p>{footer}</p>\
         </body></html>\n",
        host = escape(host),
        why = escape(&user_text(reason)),
    );
    let mut out = format!(
        "HTTP/1.1 {status} {status_text}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\
         X-Isolator-Egress: {}\r\n\r\n",
        body.len(),
        if status == 403 { "blocked" } else { "failed" },
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// The page shown instead of a request the inspector blocked (`why` says
/// which policy and what was found, never the data). It is shown at the
/// blocked URL, so it sends no `Referer`: leaving it must not carry that
/// URL (and the data in its query string) anywhere.
pub(crate) fn blocked_by_policy(why: &str) -> Vec<u8> {
    page_response(
        "403 Forbidden",
        "Blocked by policy",
        &format!(
            "<h1>This request was not sent</h1><p>{}</p><p>Go back to return to the page.</p>",
            escape(why)
        ),
        "blocked",
    )
}

/// The response to a request whose body framing the proxy refuses.
pub(crate) fn bad_request(why: &str) -> Vec<u8> {
    page_response(
        "400 Bad Request",
        "Bad request",
        &format!(
            "<h1>Bad request</h1><p>The browser sent {}.</p>",
            escape(why)
        ),
        "failed",
    )
}

fn page_response(status: &str, title: &str, html: &str, egress: &str) -> Vec<u8> {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>body{{font:16px system-ui,sans-serif;\
         margin:15vh auto;max-width:36em;padding:0 1em;color:#222}}h1{{font-size:1.4em;color:#b00020}}</style>\
         </head><body>{html}</body></html>\n"
    );
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\
         Referrer-Policy: no-referrer\r\nX-Isolator-Egress: {egress}\r\n\r\n",
        body.len(),
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// A bodiless response for a refused CONNECT; Chromium never renders a
/// proxy's CONNECT response body, it shows a tunnel error instead.
pub(crate) fn status_only(status: u16) -> &'static [u8] {
    match status {
        403 => b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\nX-Isolator-Egress: blocked\r\n\r\n",
        400 => b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        431 => b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        _ => b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\nX-Isolator-Egress: failed\r\n\r\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::ranges::Range;

    #[test]
    fn page_escapes_and_hides_addresses() {
        let reason = Reason::Range {
            addr: "10.1.2.3".parse().unwrap(),
            range: Range::Private,
        };
        let resp = String::from_utf8(html_response(403, "<x>.corp", &reason)).unwrap();
        assert!(resp.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(resp.contains(
            "Blocked by isolator: <code>&lt;x&gt;.corp</code> resolves to a private address."
        ));
        assert!(!resp.contains("10.1.2.3"));
        let (head, body) = resp.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
