//! The submit gate: every request body a page sends (form posts, XHR,
//! `fetch`, beacons; from every frame, worker and popup) is decided before it
//! leaves the isolated browser.
//!
//! `Fetch.enable` is sent once per running Chromium on the *browser* session
//! (page-level interception would miss popups), for the resource types that
//! can carry a body. Every paused request is answered exactly once:
//! - no body: continued at once, nothing else is done (no lookup, no log);
//! - a body: the request's frame is mapped to its BrowserContext and so to
//!   the session and user ([`ContextRegistry`]); the `submit` decision for the
//!   request's URL says allow, block or scan; a scan runs within the submit
//!   budget. A blocked document navigation is answered with a block page,
//!   a blocked XHR/fetch fails with `BlockedByClient`;
//! - anything going wrong (unknown frame, body not available, scan error or
//!   timeout, CDP failure) fails the request closed.
//!
//! The decision goes to the session actor as a [`GateReport`], which logs,
//! records and shows it like the actor's own gates.
//!
//! Behind it, [`stream`] judges what the session's egress proxy forwards:
//! every request line, header, body (any size, any `Content-Encoding`) and
//! WebSocket frame, whatever API sent it, decoded before it is scanned.
//!
//! Requests carrying files. Chromium 156 inlines a paused request's body in
//! `request.postDataEntries`, except the content of a file read from disk
//! (a `File` from a file input; measured from 1 KB up), whose entry has no
//! `bytes`. Such a request is continued like any other, without `postData`
//! (re-sending the body we saw would drop the file), and reaches the site
//! intact. The gate once treated "an entry without bytes" as "body not
//! available" and failed the whole request closed, which broke every upload
//! while submits were scanned. Now the body is read as inline bytes with
//! holes ([`body`]): text fields are scanned, a file part is
//! left to the upload gate that passed it, and a hole that is no passed
//! file fails closed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams,
    FulfillRequestParams, HeaderEntry, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{ErrorReason, ResourceType};
use chromiumoxide::cdp::browser_protocol::page::FrameId;
use chromiumoxide::cdp::browser_protocol::target::{GetTargetInfoParams, TargetId};
use futures::StreamExt;
use policies::{Action, Decision, Mode};
use tracing::{debug, info, warn};

use crate::auth::User;
use crate::browser::{BrowserError, Running};
use crate::enforce::{notice, Enforcer, Verdict};
use crate::gates::{GateReport, Place};
use body::{body_text, RawBody};
use link::{ContextRegistry, SessionLink};

pub mod body;
pub mod link;
pub mod stream;

/// Resource types whose requests may carry a body; the others (images,
/// scripts, styles, fonts, media) are never paused.
const BODY_TYPES: [ResourceType; 5] = [
    ResourceType::Document,
    ResourceType::Xhr,
    ResourceType::Fetch,
    ResourceType::Ping,
    ResourceType::Other,
];

/// Frames remembered before the frame-to-context cache starts over.
const MAX_CACHED_FRAMES: usize = 4096;

/// The submit gate: one per server, shared by every session.
#[derive(Debug)]
pub struct SubmitGate {
    enforcer: Arc<Enforcer>,
    contexts: Arc<ContextRegistry>,
    frames: Mutex<HashMap<String, String>>,
    intercepted: tokio::sync::Mutex<u64>,
    /// The egress proxy reads inside TLS tunnels too (`egress.tls.intercept`).
    proxy_reads_tls: bool,
}

/// The `submit` decision for `user` sending a body to `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Submit)
}

/// How a paused request is answered.
enum Answer {
    Continue,
    Fail,
    BlockPage(String),
}

impl SubmitGate {
    /// The gate, deciding with `enforcer`.
    pub fn new(enforcer: Arc<Enforcer>) -> Self {
        SubmitGate {
            enforcer,
            contexts: Arc::default(),
            frames: Mutex::default(),
            intercepted: tokio::sync::Mutex::default(),
            proxy_reads_tls: false,
        }
    }

    /// The gate, knowing that the egress proxy also inspects `https://`
    /// (so large bodies of both schemes are left to its streaming scan).
    pub fn with_tls_inspected(enforcer: Arc<Enforcer>, inspected: bool) -> Self {
        SubmitGate {
            proxy_reads_tls: inspected,
            ..Self::new(enforcer)
        }
    }

    /// The sessions by BrowserContext id.
    pub fn contexts(&self) -> &Arc<ContextRegistry> {
        &self.contexts
    }

    /// Starts the submit gate on `running` unless it already runs there:
    /// enables browser-level Fetch interception and answers every paused
    /// request until the browser dies. Call before the first session of the
    /// browser navigates.
    pub async fn intercept(self: &Arc<Self>, running: &Arc<Running>) -> Result<(), BrowserError> {
        let mut done = self.intercepted.lock().await;
        if *done == running.generation {
            return Ok(());
        }
        let mut paused = running
            .browser
            .event_listener::<EventRequestPaused>()
            .await?;
        let patterns = BODY_TYPES
            .iter()
            .map(|t| RequestPattern {
                url_pattern: Some("*".into()),
                resource_type: Some(t.clone()),
                request_stage: Some(RequestStage::Request),
            })
            .collect();
        let enable = EnableParams {
            patterns: Some(patterns),
            handle_auth_requests: None,
        };
        let timeout = Duration::from_secs(5);
        match tokio::time::timeout(timeout, running.browser.execute(enable)).await {
            Ok(r) => {
                r?;
            }
            Err(_) => return Err(BrowserError::Timeout(timeout)),
        }
        *done = running.generation;
        let gate = self.clone();
        let generation = running.generation;
        let running = running.clone();
        tokio::spawn(async move {
            // Ends (and lets go of the browser) when the browser dies.
            loop {
                tokio::select! {
                    ev = paused.next() => match ev {
                        Some(ev) => gate.on_paused(&running, ev),
                        None => break,
                    },
                    _ = running.died() => break,
                }
            }
            debug!(generation, "submit interception ended");
        });
        info!(generation, "submit gate intercepts request bodies");
        Ok(())
    }

    fn on_paused(self: &Arc<Self>, running: &Arc<Running>, ev: Arc<EventRequestPaused>) {
        let running = running.clone();
        if ev.request.has_post_data != Some(true) {
            // The hot path: no body, nothing to decide.
            tokio::spawn(async move {
                answer(&running, &ev, Answer::Continue).await;
            });
            return;
        }
        let gate = self.clone();
        tokio::spawn(async move {
            let budget = Duration::from_millis(gate.enforcer.config().submit_budget_ms);
            // The scan has its own budget; this bounds the lookups around it too.
            let limit = budget + Duration::from_secs(5);
            let how = match tokio::time::timeout(limit, gate.judge(&running, &ev, budget)).await {
                Ok(how) => how,
                Err(_) => {
                    warn!(
                        url = %crate::enforce::redact_url(&ev.request.url),
                        "a request body could not be decided in time; the request was failed"
                    );
                    Answer::Fail
                }
            };
            answer(&running, &ev, how).await;
        });
    }

    async fn judge(&self, running: &Running, ev: &EventRequestPaused, budget: Duration) -> Answer {
        let frame: &str = ev.frame_id.as_ref();
        let Some(session) = self.session_of(running, frame).await else {
            warn!(
                url = %crate::enforce::redact_url(&ev.request.url),
                "a request body from a frame of no known session was failed"
            );
            return Answer::Fail;
        };
        let url = ev.request.url.clone();
        let decision = decision(&self.enforcer, &session.user, &url);
        let body = request_body(ev);
        let size = body.as_ref().map_or(0, |b| b.bytes.len());
        let files = body.as_ref().map_or(0, |b| b.holes.len());
        let mut what = format!(
            "{} {} of {} bytes",
            ev.request.method,
            kind(&ev.resource_type),
            size
        );
        if files > 0 {
            what.push_str(&format!(" and {files} file(s) from disk"));
        }
        let proxy_reads =
            url.starts_with("http://") || (self.proxy_reads_tls && url.starts_with("https://"));
        if decision.mode == Mode::Scan && size > crate::egress::PIECE && proxy_reads {
            // A large body the egress proxy reads is scanned there as a
            // stream, piece by piece within the budget ([`stream`]); scanning
            // it here in one go would block any body too large for one budget.
            debug!(size, "a large body is left to the egress scan");
            return Answer::Continue;
        }
        let verdict = match (decision.mode, body) {
            (Mode::Scan, None) => Verdict::blocked(
                &decision,
                "the request body was not available to scan".into(),
            ),
            (Mode::Scan, Some(bytes)) => {
                // Off the async threads: a body with a file part is hashed.
                let (ct, link) = (content_type(ev), session.clone());
                let body = match tokio::task::spawn_blocking(move || {
                    body_text(&ct, &bytes, &link.uploads)
                })
                .await
                {
                    Ok(body) => body,
                    Err(e) => {
                        warn!("a request body could not be read: {e}");
                        return Answer::Fail;
                    }
                };
                if body.files_passed + body.files_scanned > 0 {
                    debug!(
                        passed = body.files_passed,
                        scanned = body.files_scanned,
                        "file parts of a request body"
                    );
                }
                match body.unreadable {
                    Some(why) => Verdict::blocked(&decision, why),
                    None => self.enforcer.check_text(&decision, body.text, budget).await,
                }
            }
            _ => Verdict::before_scan(&decision).expect("allow or block needs no scan"),
        };
        let how = if verdict.passes() {
            Answer::Continue
        } else if ev.resource_type == ResourceType::Document {
            Answer::BlockPage(block_page(&verdict))
        } else {
            Answer::Fail
        };
        report(
            &session,
            GateReport {
                place: Place::Frame(frame.to_owned()),
                quiet: false,
                url,
                gate: Action::Submit,
                what,
                verdict,
            },
        );
        how
    }

    /// The session a frame belongs to: main frames and out-of-process frames
    /// are targets (their context is in the target info); in-process frames
    /// are found among the pages' frames.
    async fn session_of(&self, running: &Running, frame: &str) -> Option<Arc<SessionLink>> {
        let contexts = &self.contexts;
        let cached = self
            .frames
            .lock()
            .expect("frame cache lock")
            .get(frame)
            .cloned();
        if let Some(ctx) = cached {
            if let Some(s) = contexts.get(&ctx) {
                return Some(s);
            }
        }
        let timeout = Duration::from_secs(3);
        let context_of = |target: TargetId| async move {
            let params = GetTargetInfoParams {
                target_id: Some(target),
            };
            match tokio::time::timeout(timeout, running.browser.execute(params)).await {
                Ok(Ok(r)) => r
                    .result
                    .target_info
                    .browser_context_id
                    .map(|c| c.inner().clone()),
                _ => None,
            }
        };
        let mut ctx = context_of(TargetId::new(frame)).await;
        if ctx.is_none() {
            let pages = tokio::time::timeout(timeout, running.browser.pages())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            let wanted = FrameId::new(frame);
            for page in pages {
                let frames = tokio::time::timeout(timeout, page.frames())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                if frames.contains(&wanted) {
                    ctx = context_of(page.target_id().clone()).await;
                    break;
                }
            }
        }
        let ctx = ctx?;
        let mut cache = self.frames.lock().expect("frame cache lock");
        if cache.len() >= MAX_CACHED_FRAMES {
            cache.clear();
        }
        cache.insert(frame.to_owned(), ctx.clone());
        drop(cache);
        contexts.get(&ctx)
    }
}

fn report(session: &SessionLink, report: GateReport) {
    if session.reports.try_send(report).is_err() {
        debug!("session is not reading gate reports; one submit decision was not reported");
    }
}

/// Sends the answer to a paused request (errors mean the request is gone).
async fn answer(running: &Running, ev: &EventRequestPaused, how: Answer) {
    let id = ev.request_id.clone();
    let timeout = Duration::from_secs(5);
    let result = match how {
        Answer::Continue => tokio::time::timeout(
            timeout,
            running.browser.execute(ContinueRequestParams::new(id)),
        )
        .await
        .map(|r| r.map(drop)),
        Answer::Fail => {
            let fail = FailRequestParams::new(id, ErrorReason::BlockedByClient);
            tokio::time::timeout(timeout, running.browser.execute(fail))
                .await
                .map(|r| r.map(drop))
        }
        Answer::BlockPage(html) => {
            let mut fulfill = FulfillRequestParams::new(id, 403);
            fulfill.response_headers = Some(vec![
                HeaderEntry::new("Content-Type", "text/html; charset=utf-8"),
                HeaderEntry::new("Cache-Control", "no-store"),
            ]);
            fulfill.body = Some(
                base64::engine::general_purpose::STANDARD
                    .encode(html)
                    .into(),
            );
            tokio::time::timeout(timeout, running.browser.execute(fulfill))
                .await
                .map(|r| r.map(drop))
        }
    };
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => debug!("paused request could not be answered: {e}"),
        Err(_) => debug!("paused request was not answered within {timeout:?}"),
    }
}

/// The request body as the interception shows it (a file read from disk
/// is a hole), or `None` when Chromium gave no post-data entries at all.
fn request_body(ev: &EventRequestPaused) -> Option<RawBody> {
    let entries = ev.request.post_data_entries.as_ref()?;
    let mut body = RawBody::default();
    for entry in entries {
        match &entry.bytes {
            Some(b64) => {
                let b64: &str = b64.as_ref();
                body.push_bytes(&base64::engine::general_purpose::STANDARD.decode(b64).ok()?);
            }
            None => body.push_hole(),
        }
    }
    Some(body)
}

/// The request's `Content-Type`, or "".
fn content_type(ev: &EventRequestPaused) -> String {
    ev.request
        .headers
        .inner()
        .as_object()
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        })
        .unwrap_or_default()
}

fn kind(t: &ResourceType) -> &'static str {
    match t {
        ResourceType::Document => "form post",
        ResourceType::Xhr => "XHR",
        ResourceType::Fetch => "fetch",
        ResourceType::Ping => "beacon",
        _ => "request",
    }
}

/// The page shown in place of a blocked form post.
fn block_page(verdict: &Verdict) -> String {
    let message = notice::text(Action::Submit, verdict)
        .unwrap_or_else(|| "This form was not sent: it was blocked by policy.".into());
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Blocked by policy</title>\
         <style>body{{font:16px system-ui,sans-serif;margin:15vh auto;max-width:36em;color:#222}}\
         h1{{font-size:1.4em;color:#b00020}}</style></head><body>\
         <h1>This form was not sent</h1><p>{}</p><p>Go back to return to the page.</p></body></html>",
        escape_html(&message)
    )
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn block_page_text_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
