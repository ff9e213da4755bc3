//! The page-content gate: installs `page_content.js` in each
//! tab (it masks likely values before paint and reports the page's text),
//! scans what it reports with the `page` decision, tells it the exact
//! values to mask, and reports findings as incidents.
//!
//! Where the page's rule says `ocr_images`, the page script also sends its
//! images, one at a time, and waits for each answer; a per-tab task OCRs
//! them ([`image::check_page_image`]) so that text answers never wait
//! behind OCR, and answers `clean`, `mask` or `off` (the rule does not OCR:
//! the page cannot get OCR without the policy).
//!
//! Cross-site (out-of-process) iframes get the same script and binding
//! before any of their own script runs (`frames`); their reports are
//! answered like the page's. Closed shadow roots, out of the page script's
//! reach, are found with CDP and handed to it (`shadow`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, FrameTree, GetFrameTreeParams, GetResourceContentParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    AddBindingParams, EventBindingCalled, ExecutionContextId,
};
use chromiumoxide::Page;
use frames::{Call, FrameScripts, Route};
use futures::{Stream, StreamExt};
use policies::{Action, Decision};
use serde::Deserialize;
use tokio::sync::mpsc;
use tracing::debug;

use crate::auth::User;
use crate::browser::cdp::{with_timeout, WORLD};
use crate::enforce::{redact_url, Enforcer, Outcome};
use crate::gates::{GateReport, Place};
use image::{ImageCheck, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS};

mod frames;
pub mod image;
pub mod scan;
mod shadow;

pub use scan::{check_page, PageCheck};

/// The `page` decision for `user` on `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Page)
}

/// Binding the page-content script reports through.
const PAGE_BINDING: &str = "__isolatorPage";
/// The page side.
const PAGE_CONTENT_JS: &str = include_str!("page_content.js");
/// Pure text helpers the page side uses (tested with `node --test`).
const PAGE_TEXT_JS: &str = include_str!("page_text.js");
/// Generated content and values spread over blocks, for the page side.
const PAGE_DRAWN_JS: &str = include_str!("page_drawn.js");
/// Main-world hooks telling the page side about script-set field values and
/// new shadow roots.
const PAGE_HOOKS_JS: &str = include_str!("page_content_hooks.js");

/// JavaScript patterns for likely values of a detector (the enforcer's
/// page hints, kept and tested beside its detectors): the page script hides
/// matches at once, before the server's authoritative scan. Detectors
/// without one are masked once the server has found their values.
pub(crate) fn js_pattern(detector: &str) -> Option<&'static str> {
    enforcer::detect::page_hint(detector).map(|h| h.pattern)
}

/// The check the page script applies to a pattern's match before hiding it
/// (`page_text.js`'s `plausible`), so that not every long number is hidden.
pub(crate) fn js_check(detector: &str) -> Option<&'static str> {
    enforcer::detect::page_hint(detector).and_then(|h| h.check)
}

/// Images smaller than this on screen (CSS pixels, either side) are not
/// OCR'd: icons, bullets, spacers.
const MIN_IMAGE_SIDE: u32 = 24;
/// Images smaller than this on screen (CSS pixels, area) are not OCR'd.
const MIN_IMAGE_AREA: u32 = 4_000;
/// Most images OCR'd per document; beyond it they are unscannable.
const MAX_IMAGES_PER_PAGE: u32 = 60;
/// Images waiting for OCR per tab; beyond it the page is told to retry.
const IMAGE_QUEUE: usize = 4;
/// Requests to adopt closed shadow roots waiting per tab.
const SHADOW_QUEUE: usize = 16;

/// The script installed in every document: the configuration, then the page side.
/// `ocr`: some rule OCRs images, so new images are hidden until checked.
pub(crate) fn script_source(masked: &[String], ocr: bool) -> String {
    let patterns: serde_json::Map<String, serde_json::Value> = masked
        .iter()
        .filter_map(|d| js_pattern(d).map(|p| (d.clone(), p.into())))
        .collect();
    let checks: serde_json::Map<String, serde_json::Value> = masked
        .iter()
        .filter_map(|d| js_check(d).map(|c| (d.clone(), c.into())))
        .collect();
    let config = serde_json::json!({
        "patterns": patterns,
        "checks": checks,
        "ocr": ocr,
        "minSide": MIN_IMAGE_SIDE,
        "minArea": MIN_IMAGE_AREA,
        "maxPixels": MAX_IMAGE_PIXELS,
        "maxImages": MAX_IMAGES_PER_PAGE,
        "maxBytes": MAX_IMAGE_BYTES,
    });
    format!("const __ISOLATOR_PAGE = {config};\n{PAGE_TEXT_JS}\n{PAGE_DRAWN_JS}\n{PAGE_CONTENT_JS}")
}

/// What the page script reports.
#[derive(Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum PageReport {
    /// The page's text.
    PageText { url: String, text: String },
    /// One image, canvas or SVG image.
    PageImage(ImageReport),
    /// Hosts of closed shadow roots wait to be adopted ([`shadow`]).
    ClosedShadow {},
}

/// One image the page script asks about.
#[derive(Deserialize)]
struct ImageReport {
    /// The document's URL.
    url: String,
    /// The script's id for the element.
    id: u64,
    /// The script's signature of the content (answered back unchanged).
    sig: String,
    /// The element, described (`<canvas#chart> 600x200`); never pixels.
    what: String,
    /// The image's URL, when it has one.
    #[serde(default)]
    src: String,
    /// The pixels as a base64 PNG, when the page could read them.
    #[serde(default)]
    png: Option<String>,
    /// Why the page could not hand the pixels over.
    #[serde(default)]
    error: Option<String>,
}

/// An image report with the frame and context to answer in.
struct ImageJob {
    report: ImageReport,
    route: Route,
    context: ExecutionContextId,
}

/// Installs the page-content gate in a tab's page and starts answering its
/// page script; decisions go to `reports` as the session's own.
pub async fn install(
    page: Page,
    enforcer: Arc<Enforcer>,
    user: User,
    reports_tx: mpsc::Sender<GateReport>,
    timeout: Duration,
) {
    let reports = match page.event_listener::<EventBindingCalled>().await {
        Ok(s) => s,
        Err(e) => {
            debug!("page-content gate not installed: {e}");
            return;
        }
    };
    let binding = AddBindingParams {
        name: PAGE_BINDING.into(),
        execution_context_name: Some(WORLD.into()),
    };
    let source: Arc<str> = script_source(
        &scan::masked_anywhere(&enforcer),
        image::ocr_images_anywhere(&enforcer),
    )
    .into();
    let script = AddScriptToEvaluateOnNewDocumentParams {
        source: source.to_string(),
        world_name: Some(WORLD.into()),
        include_command_line_api: None,
        run_immediately: Some(true),
    };
    if let Err(e) = with_timeout(timeout, page.execute(binding)).await {
        debug!("page-content binding not added: {e}");
        return;
    }
    if let Err(e) = with_timeout(timeout, page.execute(script)).await {
        debug!("page-content script not installed: {e}");
        return;
    }
    let hooks = AddScriptToEvaluateOnNewDocumentParams {
        source: PAGE_HOOKS_JS.into(),
        world_name: None,
        include_command_line_api: None,
        run_immediately: Some(true),
    };
    if let Err(e) = with_timeout(timeout, page.execute(hooks)).await {
        debug!("page-content hooks not installed: {e}");
    }
    let scripts = FrameScripts {
        binding: PAGE_BINDING,
        isolated: source,
        main: PAGE_HOOKS_JS,
    };
    let route: Route = Arc::new([]);
    let own = reports
        .filter(|ev| std::future::ready(ev.name == PAGE_BINDING))
        .map(move |ev| Call {
            route: route.clone(),
            context: ev.execution_context_id,
            payload: ev.payload.clone(),
        });
    let calls =
        match frames::attach(&page, scripts, timeout).await {
            Ok(rx) => {
                let framed = futures::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|c| (c, rx))
                });
                futures::stream::select(own.boxed(), framed.boxed()).boxed()
            }
            Err(e) => {
                debug!("out-of-process frames not attached: {e}");
                own.boxed()
            }
        };
    let (image_tx, image_rx) = mpsc::channel(IMAGE_QUEUE);
    tokio::spawn(serve_images(
        page.clone(),
        image_rx,
        enforcer.clone(),
        user.clone(),
        reports_tx.clone(),
        timeout,
    ));
    let (shadow_tx, shadow_rx) = mpsc::channel(SHADOW_QUEUE);
    tokio::spawn(serve_shadows(page.clone(), shadow_rx, timeout));
    tokio::spawn(serve_page(
        page,
        calls,
        image_tx,
        shadow_tx,
        enforcer.clone(),
        user.clone(),
        reports_tx.clone(),
        timeout,
    ));
}

/// Answers one tab's page script until the tab or the session is gone.
#[allow(clippy::too_many_arguments)]
async fn serve_page(
    page: Page,
    calls: impl Stream<Item = Call> + Unpin,
    images: mpsc::Sender<ImageJob>,
    shadows: mpsc::Sender<(Route, ExecutionContextId)>,
    enforcer: std::sync::Arc<Enforcer>,
    user: User,
    reports_tx: mpsc::Sender<GateReport>,
    timeout: Duration,
) {
    let frame = page.target_id().as_ref().to_owned();
    // What each frame last reported: the same findings are one incident, not one per change.
    let mut last: std::collections::HashMap<Route, (String, String)> = Default::default();
    let mut calls = calls;
    while let Some(ev) = calls.next().await {
        let (url, text) = match serde_json::from_str::<PageReport>(&ev.payload) {
            Ok(PageReport::PageText { url, text }) => (url, text),
            Ok(PageReport::PageImage(report)) => {
                let job = ImageJob {
                    report,
                    route: ev.route.clone(),
                    context: ev.context,
                };
                if let Err(mpsc::error::TrySendError::Full(job)) = images.try_send(job) {
                    // The page sends one image at a time per document; many
                    // frames at once wait their turn.
                    answer_image(&page, &job, "busy", timeout).await;
                }
                continue;
            }
            Ok(PageReport::ClosedShadow {}) => {
                // A request already queued for the same frame takes every
                // waiting host: one more may be dropped.
                let _ = shadows.try_send((ev.route.clone(), ev.context));
                continue;
            }
            Err(e) => {
                debug!("page-content report not understood: {e}");
                continue;
            }
        };
        let chars = text.chars().count();
        let check = check_page(&enforcer, &user, &url, text).await;
        let answer = serde_json::json!({
            "detectors": check.mask_detectors,
            "values": check.mask_values,
            "ocr": check.ocr_images,
            "hideImages": check.hide_images,
        });
        let expr =
            format!("globalThis.__isolatorPageMask && globalThis.__isolatorPageMask({answer})");
        if let Err(e) = frames::evaluate(&page, &ev.route, ev.context, expr, timeout).await {
            debug!("page-content answer not delivered: {e}");
        }
        let Some(verdict) = check.verdict else {
            continue;
        };
        let signature = format!(
            "{}|{}|{}",
            verdict.outcome.as_str(),
            verdict.detectors.join(","),
            verdict.evidence.join(",")
        );
        let key = (redact_url(&url), signature);
        if last.get(&ev.route) == Some(&key) {
            continue;
        }
        if last.len() > 1_000 {
            last.clear();
        }
        last.insert(ev.route.clone(), key);
        let report = GateReport {
            place: Place::Frame(frame.clone()),
            quiet: false,
            url,
            gate: Action::Page,
            what: format!("page text of {chars} characters"),
            verdict,
        };
        if reports_tx.send(report).await.is_err() {
            return;
        }
    }
}

/// Adopts closed shadow roots for one tab's page scripts, one request at a time.
async fn serve_shadows(
    page: Page,
    mut requests: mpsc::Receiver<(Route, ExecutionContextId)>,
    timeout: Duration,
) {
    while let Some((route, context)) = requests.recv().await {
        if let Err(e) = shadow::adopt_closed_roots(&page, &route, context, timeout).await {
            debug!("closed shadow roots not adopted: {e}");
        }
    }
}

/// OCRs one tab's images, one at a time, until the tab or the session is gone.
async fn serve_images(
    page: Page,
    mut jobs: mpsc::Receiver<ImageJob>,
    enforcer: std::sync::Arc<Enforcer>,
    user: User,
    reports_tx: mpsc::Sender<GateReport>,
    timeout: Duration,
) {
    let frame = page.target_id().as_ref().to_owned();
    // Incidents already reported: the same image with the same findings is one incident.
    let mut reported: HashSet<String> = HashSet::new();
    while let Some(job) = jobs.recv().await {
        let r = &job.report;
        let decision = decision(&enforcer, &user, &r.url);
        let check = match image_bytes(&page, r, timeout).await {
            Ok(bytes) => image::check_page_image(&enforcer, &decision, bytes).await,
            Err(reason) => image::unscannable_page_image(&decision, &reason),
        };
        let Some(ImageCheck { verdict, mask }) = check else {
            answer_image(&page, &job, "off", timeout).await;
            continue;
        };
        answer_image(&page, &job, if mask { "mask" } else { "clean" }, timeout).await;
        if verdict.outcome == Outcome::Allow {
            continue;
        }
        let what = describe(r);
        let key = format!(
            "{}|{what}|{}|{}",
            redact_url(&r.url),
            verdict.detectors.join(","),
            verdict.evidence.join(",")
        );
        if reported.len() > 10_000 {
            reported.clear();
        }
        if !reported.insert(key) {
            continue;
        }
        let report = GateReport {
            place: Place::Frame(frame.clone()),
            quiet: false,
            url: r.url.clone(),
            gate: Action::Page,
            what,
            verdict,
        };
        if reports_tx.send(report).await.is_err() {
            return;
        }
    }
}

/// The image, for incidents: its URL (redacted) or the element; never pixels.
fn describe(r: &ImageReport) -> String {
    let what: String = r.what.chars().take(200).collect();
    if r.src.starts_with("http:") || r.src.starts_with("https:") {
        format!("page image {} ({what})", redact_url(&r.src))
    } else {
        format!("page image {what}")
    }
}

/// The image's bytes: the PNG the page sent, or the resource Chromium holds
/// for its URL. `Err` says why there are none.
async fn image_bytes(page: &Page, r: &ImageReport, timeout: Duration) -> Result<Vec<u8>, String> {
    if let Some(png) = &r.png {
        let b64 = png.strip_prefix("data:image/png;base64,").unwrap_or(png);
        return base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("the page sent an unreadable image ({e})"));
    }
    if let Some(error) = &r.error {
        return Err(error.chars().take(300).collect());
    }
    if !(r.src.starts_with("http:") || r.src.starts_with("https:")) {
        return Err("the page could not read the image back".into());
    }
    cached_resource(page, &r.src, timeout).await
}

/// The bytes Chromium already holds for `url` in one of the page's frames
/// (`Page.getResourceContent`): the site is not asked again.
async fn cached_resource(page: &Page, url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let tree = with_timeout(timeout, page.execute(GetFrameTreeParams::default()))
        .await
        .map_err(|e| format!("the browser did not list the page's frames ({e})"))?;
    let mut frames = Vec::new();
    let mut stack: Vec<&FrameTree> = vec![&tree.result.frame_tree];
    while let Some(t) = stack.pop() {
        frames.push(t.frame.id.clone());
        stack.extend(t.child_frames.iter().flatten());
    }
    let mut last = String::from("no frame holds it");
    for frame_id in frames.into_iter().take(32) {
        let params = GetResourceContentParams::new(frame_id, url);
        match with_timeout(timeout, page.execute(params)).await {
            Ok(res) => {
                let res = res.result;
                let bytes = if res.base64_encoded {
                    base64::engine::general_purpose::STANDARD
                        .decode(res.content.as_bytes())
                        .map_err(|e| format!("the browser sent unreadable bytes ({e})"))?
                } else {
                    res.content.into_bytes()
                };
                if bytes.len() > MAX_IMAGE_BYTES {
                    return Err(format!(
                        "{} bytes is more than {MAX_IMAGE_BYTES}",
                        bytes.len()
                    ));
                }
                return Ok(bytes);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("the cross-origin image is not readable ({last})"))
}

/// Tells the page script what became of one image.
async fn answer_image(page: &Page, job: &ImageJob, state: &str, timeout: Duration) {
    let answer = serde_json::json!({ "id": job.report.id, "sig": job.report.sig, "state": state });
    let expr =
        format!("globalThis.__isolatorImageAnswer && globalThis.__isolatorImageAnswer({answer})");
    if let Err(e) = frames::evaluate(page, &job.route, job.context, expr, timeout).await {
        debug!("page-image answer not delivered: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_parse_by_kind() {
        let t: PageReport =
            serde_json::from_str(r#"{"k":"page_text","url":"https://a/","seq":3,"text":"hi"}"#)
                .unwrap();
        assert!(matches!(t, PageReport::PageText { ref text, .. } if text == "hi"));
        let i: PageReport = serde_json::from_str(
            r#"{"k":"page_image","url":"https://a/","id":7,"sig":"s","what":"<img> 600x200","src":"https://a/x.png?t=1","png":"AAAA"}"#,
        )
        .unwrap();
        let PageReport::PageImage(r) = i else {
            panic!("an image report")
        };
        assert_eq!(r.id, 7);
        assert_eq!(describe(&r), "page image https://a/x.png (<img> 600x200)");
    }

    #[test]
    fn data_urls_never_reach_incidents() {
        let r = ImageReport {
            url: "https://a/".into(),
            id: 1,
            sig: "s".into(),
            what: "<canvas#c> 300x100".into(),
            src: "data:image/png;base64,AAAA".into(),
            png: None,
            error: None,
        };
        assert_eq!(describe(&r), "page image <canvas#c> 300x100");
    }

    #[test]
    fn script_carries_the_ocr_settings() {
        let s = script_source(&["credit_card".into()], true);
        assert!(s.starts_with("const __ISOLATOR_PAGE = {"));
        let config = s.lines().next().unwrap();
        assert!(config.contains("\"ocr\":true"), "{config}");
        assert!(config.contains("credit_card"), "{config}");
    }
}
