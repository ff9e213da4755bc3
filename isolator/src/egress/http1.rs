//! Just enough HTTP/1.1 for a forward proxy: read a bounded message head,
//! parse it with `httparse`, and rewrite heads hop by hop.
//!
//! An absolute-form (plain-HTTP) request is forwarded with `Connection:
//! close` on both sides, so each browser connection to the proxy carries one
//! request and the response body is framed by the server closing (or by its
//! own Content-Length/chunking, which passes through untouched). That costs
//! one extra loopback TCP handshake per plain-HTTP request and removes a
//! whole class of request-smuggling and desynchronisation bugs. A CONNECT
//! tunnel is bound to one destination, so requests inside it (https once
//! intercepted, ws) are kept alive: each response is read to the end its
//! framing announces ([`response_framing`]) before the next request is
//! read, judged and sent.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Why a head could not be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed before sending anything.
    Closed,
    /// The peer closed or failed mid-head.
    Io(#[allow(dead_code)] io::Error),
    /// The head exceeds the byte or line limit.
    TooLarge,
    /// Not HTTP/1.x.
    Malformed(String),
}

/// Reads until the end of a message head (`\r\n\r\n`). Returns the buffer
/// and the head length; bytes after the head (a body start, or tunnel data)
/// are `buf[head_len..]`.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<(Vec<u8>, usize), HeadError> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        let n = r.read(&mut chunk).await.map_err(HeadError::Io)?;
        if n == 0 {
            return Err(if buf.is_empty() {
                HeadError::Closed
            } else {
                HeadError::Io(io::ErrorKind::UnexpectedEof.into())
            });
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = memfind(&buf[from..], b"\r\n\r\n") {
            let end = from + pos + 4;
            if end > max {
                return Err(HeadError::TooLarge);
            }
            return Ok((buf, end));
        }
        if buf.len() > max {
            return Err(HeadError::TooLarge);
        }
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// A parsed response head.
#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, Vec<u8>)>,
}

fn map_parse_err(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::TooLarge,
        e => HeadError::Malformed(e.to_string()),
    }
}

fn own_headers(h: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    h.iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect()
}

/// Parses a request head (`head` ends with the blank line).
pub(crate) fn parse_request(head: &[u8], max_headers: usize) -> Result<RequestHead, HeadError> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head).map_err(map_parse_err)? {
        httparse::Status::Complete(_) => Ok(RequestHead {
            method: req.method.unwrap_or_default().to_owned(),
            target: req.path.unwrap_or_default().to_owned(),
            headers: own_headers(req.headers),
        }),
        httparse::Status::Partial => Err(HeadError::Malformed("incomplete head".into())),
    }
}

/// Parses a response head.
pub(crate) fn parse_response(head: &[u8], max_headers: usize) -> Result<ResponseHead, HeadError> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head).map_err(map_parse_err)? {
        httparse::Status::Complete(_) => Ok(ResponseHead {
            code: resp.code.unwrap_or_default(),
            reason: resp.reason.unwrap_or_default().to_owned(),
            headers: own_headers(resp.headers),
        }),
        httparse::Status::Partial => Err(HeadError::Malformed("incomplete head".into())),
    }
}

/// Header names that describe one hop and never cross the proxy, plus any
/// header the `Connection` header names.
fn hop_by_hop(headers: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut names: Vec<String> = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "upgrade",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for (name, value) in headers {
        if name == "connection" {
            for token in String::from_utf8_lossy(value).split(',') {
                let token = token.trim().to_ascii_lowercase();
                // Never let `Connection: content-length` strip body framing.
                if !token.is_empty() && token != "content-length" && token != "transfer-encoding" {
                    names.push(token);
                }
            }
        }
    }
    names
}

/// The `Upgrade` value when the request asks for a WebSocket upgrade.
pub(crate) fn websocket_upgrade(headers: &[(String, Vec<u8>)]) -> Option<Vec<u8>> {
    let connection_upgrade = headers.iter().any(|(n, v)| {
        n == "connection"
            && String::from_utf8_lossy(v)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    let upgrade = headers
        .iter()
        .find(|(n, v)| n == "upgrade" && v.eq_ignore_ascii_case(b"websocket"))
        .map(|(_, v)| v.clone());
    upgrade.filter(|_| connection_upgrade)
}

fn push_headers(out: &mut Vec<u8>, headers: &[(String, Vec<u8>)], skip: &[String]) {
    for (name, value) in headers {
        if skip.iter().any(|s| s == name) {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
}

/// The head sent upstream for an absolute-form request: origin-form target,
/// `Host` from the URL authority (RFC 9112 section 3.2.2), hop-by-hop headers
/// removed, `Connection: close` unless `keep_alive` (or the WebSocket
/// upgrade pair).
pub(crate) fn upstream_request(
    req: &RequestHead,
    origin_form: &str,
    host_header: &str,
    upgrade: Option<&[u8]>,
    keep_alive: bool,
) -> Vec<u8> {
    let mut skip = hop_by_hop(&req.headers);
    skip.push("host".into());
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(
        format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            req.method, origin_form, host_header
        )
        .as_bytes(),
    );
    push_headers(&mut out, &req.headers, &skip);
    match upgrade {
        Some(u) => {
            out.extend_from_slice(b"Connection: Upgrade\r\nUpgrade: ");
            out.extend_from_slice(u);
            out.extend_from_slice(b"\r\n\r\n");
        }
        None if keep_alive => out.extend_from_slice(b"\r\n"),
        None => out.extend_from_slice(b"Connection: close\r\n\r\n"),
    }
    out
}

/// Whether a message's `Connection` header asks to close after it.
pub(crate) fn wants_close(headers: &[(String, Vec<u8>)]) -> bool {
    headers.iter().any(|(n, v)| {
        n == "connection"
            && String::from_utf8_lossy(v)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
    })
}

/// How a response to `method` is delimited (RFC 9112 section 6.3): `None`
/// when only the server closing ends it.
pub(crate) fn response_framing(method: &str, resp: &ResponseHead) -> Option<super::body::Framing> {
    use super::body::Framing;
    if method.eq_ignore_ascii_case("HEAD") || resp.code == 204 || resp.code == 304 {
        return Some(Framing::Empty);
    }
    let te = super::body::transfer_codings(&resp.headers);
    if !te.is_empty() {
        // Chunked last: chunked framing (other codings pass inside it);
        // anything else: read to the close.
        return (te.last().map(String::as_str) == Some("chunked")).then_some(Framing::Chunked);
    }
    let mut lengths = resp
        .headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| {
            std::str::from_utf8(v)
                .ok()
                .map(str::trim)
                .and_then(|s| s.parse::<u64>().ok())
        });
    match (lengths.next(), lengths.all(|l| l.is_some())) {
        (Some(Some(0)), true) => Some(Framing::Empty),
        (Some(Some(n)), true) => Some(Framing::Length(n)),
        _ => None,
    }
}

/// The head sent to the browser for an upstream response: hop-by-hop headers
/// removed, `Connection: close`, or the upgrade pair for a 101.
pub(crate) fn downstream_response(resp: &ResponseHead) -> Vec<u8> {
    downstream_response_kept(resp, false)
}

/// [`downstream_response`], leaving the browser's connection open after it
/// when `keep_alive` (the framing then ends the response, not a close).
pub(crate) fn downstream_response_kept(resp: &ResponseHead, keep_alive: bool) -> Vec<u8> {
    let skip = hop_by_hop(&resp.headers);
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", resp.code, resp.reason).as_bytes());
    push_headers(&mut out, &resp.headers, &skip);
    if resp.code == 101 {
        let upgrade = resp
            .headers
            .iter()
            .find(|(n, _)| n == "upgrade")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| b"websocket".to_vec());
        out.extend_from_slice(b"Connection: Upgrade\r\nUpgrade: ");
        out.extend_from_slice(&upgrade);
        out.extend_from_slice(b"\r\n\r\n");
    } else if keep_alive {
        out.extend_from_slice(b"\r\n");
    } else {
        out.extend_from_slice(b"Connection: close\r\n\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn head_is_bounded_and_split() {
        let data = b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\nBODY".to_vec();
        let (buf, end) = read_head(&mut &data[..], 1024).await.unwrap();
        assert_eq!(&buf[end..], b"BODY");
        let big = [b"GET http://a/ HTTP/1.1\r\nX: ".as_slice(), &[b'a'; 5000]].concat();
        assert!(matches!(
            read_head(&mut &big[..], 1024).await,
            Err(HeadError::TooLarge)
        ));
        assert!(matches!(
            read_head(&mut &b""[..], 1024).await,
            Err(HeadError::Closed)
        ));
    }

    #[test]
    fn rewrites_hop_by_hop() {
        let head = b"GET http://a.test:81/x?y HTTP/1.1\r\nHost: evil.test\r\nProxy-Connection: keep-alive\r\n\
Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nProxy-Authorization: Basic x\r\nAccept: */*\r\n\r\n";
        let req = parse_request(head, 32).unwrap();
        let up =
            String::from_utf8(upstream_request(&req, "/x?y", "a.test:81", None, false)).unwrap();
        assert_eq!(
            up,
            "GET /x?y HTTP/1.1\r\nHost: a.test:81\r\naccept: */*\r\nConnection: close\r\n\r\n"
        );
        let resp = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n\r\n",
            32,
        )
        .unwrap();
        let down = String::from_utf8(downstream_response(&resp)).unwrap();
        assert_eq!(
            down,
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn detects_websocket_upgrades() {
        let req = parse_request(
            b"GET http://a/ HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
            32,
        )
        .unwrap();
        assert_eq!(
            websocket_upgrade(&req.headers).as_deref(),
            Some(&b"websocket"[..])
        );
        let req =
            parse_request(b"GET http://a/ HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 32).unwrap();
        assert!(websocket_upgrade(&req.headers).is_none());
    }
}
