//! The submit gate at the egress proxy: every request line, header, body
//! and WebSocket frame a session's browser sends (whatever API the page
//! used) is judged here before the proxy forwards it
//! ([`crate::egress::inspect`]).
//!
//! - The `submit` decision for the request's URL ([`super::decision`]) says
//!   allow, block or scan. `allow` passes everything; `block` passes heads
//!   (browsing is not submitting) and blocks any body or frame; `scan`
//!   judges every part.
//! - What is scanned: the URL and the headers a page can set (a query
//!   string, a cookie, a custom header), then the body in pieces of
//!   [`crate::egress::PIECE`] bytes after its `Content-Encoding` is undone
//!   as a stream, then each WebSocket frame. Each piece is expanded by
//!   [`enforcer::decode`] (percent and form encoding, escapes, base64, hex,
//!   UTF-16/32, embedded compressed streams, digit groups with other
//!   separators) together with the last [`OVERLAP`] bytes of the previous
//!   one, so a value cut by a piece border or split over two WebSocket
//!   messages is seen whole.
//! - Each piece is scanned within the submit budget
//!   (`enforce.submit_budget_ms`); a piece that cannot be decoded, expands
//!   beyond the decoder's limit or is not scanned in time blocks the request
//!   (fail closed). There is no size above which scanning stops.
//! - One report per request or WebSocket: when it is blocked or audited
//!   (a clean request is not reported: page loads would flood the record).
//!   The reported URL has no query string; evidence is redacted.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use enforcer::decode::compress::StreamDecoder;
use enforcer::decode::{expand, Limits};
use futures::future::BoxFuture;
use policies::{Action, Decision, Mode};
use tracing::warn;

use super::link::{ContextRegistry, SessionLink};
use crate::egress::{Inspect, Inspection, Outcome, Outgoing, Part};
use crate::enforce::{notice, redact_url, Enforcer, Outcome as VerdictOutcome, Verdict};
use crate::gates::{size_text, GateReport, Place};
use crate::metrics::{ScanFailure, ScanKind};

/// Bytes of decoded text carried from one piece into the next.
pub const OVERLAP: usize = 4096;

/// Headers the browser sets itself and a page cannot: not scanned.
const BROWSER_HEADERS: [&str; 9] = [
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "accept-encoding",
    "user-agent",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
];

/// The submit gate's inspector for one session's egress proxy.
#[derive(Debug)]
pub struct StreamGate {
    enforcer: Arc<Enforcer>,
    contexts: Arc<ContextRegistry>,
    context: OnceLock<String>,
}

impl StreamGate {
    /// An inspector for a session whose context is not created yet; call
    /// [`StreamGate::bind`] once it is. Until then every request is blocked.
    pub fn new(enforcer: Arc<Enforcer>, contexts: Arc<ContextRegistry>) -> Self {
        StreamGate {
            enforcer,
            contexts,
            context: OnceLock::new(),
        }
    }

    /// Binds the inspector to the session's BrowserContext.
    pub fn bind(&self, context: &str) {
        let _ = self.context.set(context.to_owned());
    }
}

impl Inspect for StreamGate {
    fn start(&self, out: &Outgoing) -> Box<dyn Inspection> {
        let link = self.context.get().and_then(|c| self.contexts.get(c));
        Box::new(Judge {
            enforcer: self.enforcer.clone(),
            link,
            url: out.url.clone(),
            method: out.method.clone(),
            websocket: out.websocket,
            head_text: head_text(out),
            encoding: out
                .header("content-encoding")
                .map(|e| e.trim().to_ascii_lowercase())
                .filter(|e| !e.is_empty() && e != "identity"),
            decision: None,
            decoder: None,
            tail: Vec::new(),
            size: 0,
            frames: 0,
            reported: false,
            fired: None,
        })
    }
}

/// The URL and the page-settable headers, one per line.
fn head_text(out: &Outgoing) -> String {
    let mut text = out.url.clone();
    for (name, value) in &out.headers {
        if BROWSER_HEADERS.contains(&name.as_str())
            || name.starts_with("sec-ch-")
            || name.starts_with("sec-fetch-")
        {
            continue;
        }
        text.push('\n');
        text.push_str(name);
        text.push_str(": ");
        text.push_str(&String::from_utf8_lossy(value));
    }
    text
}

/// The inspection of one request (and its WebSocket, if upgraded).
struct Judge {
    enforcer: Arc<Enforcer>,
    link: Option<Arc<SessionLink>>,
    url: String,
    method: String,
    websocket: bool,
    head_text: String,
    encoding: Option<String>,
    decision: Option<Decision>,
    decoder: Option<StreamDecoder>,
    /// The end of the previous piece's bytes (decoded), scanned again with the next.
    tail: Vec<u8>,
    size: u64,
    frames: u64,
    reported: bool,
    /// An audit verdict kept for the report at the end.
    fired: Option<Verdict>,
}

impl Inspection for Judge {
    fn check<'a>(&'a mut self, part: Part<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(self.judge(part))
    }
}

impl Judge {
    async fn judge(&mut self, part: Part<'_>) -> Outcome {
        let Some(link) = self.link.clone() else {
            warn!(
                url = %redact_url(&self.url),
                "a request from a browser context of no known session was blocked"
            );
            return Outcome::Block("This request was blocked: its session is not known.".into());
        };
        let decision = match &self.decision {
            Some(d) => d.clone(),
            None => {
                let d = super::decision(&self.enforcer, &link.user, &self.url);
                self.decision = Some(d.clone());
                d
            }
        };
        let (bytes, last, is_head) = match part {
            Part::Head => (self.head_text.clone().into_bytes(), true, true),
            Part::Body { bytes, last } => {
                self.size += bytes.len() as u64;
                (bytes.to_vec(), last, false)
            }
            Part::Frame { bytes, last, .. } => {
                self.size += bytes.len() as u64;
                if last {
                    self.frames += 1;
                }
                (bytes.to_vec(), last, false)
            }
        };
        let verdict = match decision.mode {
            Mode::Allow => return Outcome::Pass,
            Mode::Block if is_head => return Outcome::Pass,
            Mode::Block => Verdict::before_scan(&decision).expect("block needs no scan"),
            Mode::Scan => self.scan(&decision, bytes, is_head, last).await,
        };
        self.conclude(&link, verdict, is_head, last)
    }

    async fn scan(
        &mut self,
        decision: &Decision,
        bytes: Vec<u8>,
        is_head: bool,
        last: bool,
    ) -> Verdict {
        let budget = Duration::from_millis(self.enforcer.config().submit_budget_ms);
        // Decoding runs off the async threads, within the same budget as the scan.
        let body_encoding = if is_head || self.websocket {
            None
        } else {
            self.encoding.clone()
        };
        let mut decoder = self.decoder.take();
        let tail = if is_head {
            Vec::new()
        } else {
            std::mem::take(&mut self.tail)
        };
        let (d, index) = (decision.clone(), self.enforcer.fingerprints_for(decision));
        // Decoding, expansion and the scan run in one blocking task (one
        // thread hand-off a piece), under one budget.
        let started = std::time::Instant::now();
        let work = tokio::task::spawn_blocking(move || {
            let plain = match body_encoding {
                None => Ok(bytes),
                Some(enc) => {
                    let d = match decoder.as_mut() {
                        Some(d) => Ok(d),
                        None => StreamDecoder::new(&enc).map(|d| decoder.insert(d)),
                    };
                    d.and_then(|d| {
                        let mut out = d.feed(&bytes)?;
                        if last {
                            out.extend(d.finish()?);
                        }
                        Ok(out)
                    })
                }
            };
            let plain = plain.map_err(|e| e.to_string())?;
            // The window may start inside an encoded run: runs are decoded
            // at every alignment.
            let mut window = tail;
            window.extend_from_slice(&plain);
            let expanded = expand(&window, Limits::for_input(window.len()));
            let keep = window.len().saturating_sub(OVERLAP);
            window.drain(..keep);
            let verdict = expanded
                .complete
                .then(|| Enforcer::check_text_now(&d, &expanded.text, index.as_deref()));
            Ok::<_, String>((verdict, window, decoder))
        });
        let outcome = tokio::time::timeout(budget, work).await;
        let metrics = self.enforcer.metrics();
        metrics.scan(ScanKind::Text, started.elapsed());
        match &outcome {
            Ok(Ok(Ok(_))) => {}
            Err(_) => metrics.scan_failed(ScanFailure::Timeout),
            _ => metrics.scan_failed(ScanFailure::Error),
        }
        let (verdict, tail, decoder) = match outcome {
            Ok(Ok(Ok(r))) => r,
            Ok(Ok(Err(e))) => {
                return Verdict::blocked(
                    decision,
                    format!("the request body could not be decoded ({e})"),
                )
            }
            Ok(Err(e)) => {
                return Verdict::blocked(decision, format!("the request could not be read ({e})"))
            }
            Err(_) => {
                return Verdict::blocked(
                    decision,
                    format!(
                        "the request could not be decoded and scanned within {} ms",
                        budget.as_millis()
                    ),
                )
            }
        };
        self.decoder = decoder;
        if !is_head {
            self.tail = tail;
        }
        verdict.unwrap_or_else(|| {
            Verdict::blocked(
                decision,
                "the request expands too much to be scanned".into(),
            )
        })
    }

    fn conclude(
        &mut self,
        link: &SessionLink,
        verdict: Verdict,
        is_head: bool,
        last: bool,
    ) -> Outcome {
        let blocked = !verdict.passes();
        if verdict.outcome == VerdictOutcome::Audit && self.fired.is_none() {
            self.fired = Some(verdict.clone());
        }
        // A request is reported once: when blocked, or at its end if audited.
        let end = blocked || (last && !is_head && !self.websocket) || (is_head && !self.has_more());
        if end && !self.reported {
            let reportable = if blocked {
                Some(verdict.clone())
            } else {
                self.fired.take()
            };
            if let Some(v) = reportable {
                self.reported = true;
                self.report(link, v);
            }
        }
        if blocked {
            let text = notice::text(Action::Submit, &verdict)
                .unwrap_or_else(|| "This request was blocked by policy.".into());
            return Outcome::Block(text);
        }
        Outcome::Pass
    }

    /// Whether parts may follow the head (a body or frames).
    fn has_more(&self) -> bool {
        self.websocket || !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }

    fn report(&self, link: &SessionLink, verdict: Verdict) {
        let what = if self.websocket {
            format!(
                "WebSocket message ({} frames, {} sent)",
                self.frames,
                size_text(self.size)
            )
        } else if self.size > 0 {
            format!("{} request of {}", self.method, size_text(self.size))
        } else {
            format!("{} request (URL and headers)", self.method)
        };
        let report = GateReport {
            place: Place::Session,
            url: redact_url(&self.url),
            gate: Action::Submit,
            what,
            verdict,
            quiet: false,
        };
        if link.reports.try_send(report).is_err() {
            tracing::debug!(
                "session is not reading gate reports; one submit decision was not reported"
            );
        }
    }
}
