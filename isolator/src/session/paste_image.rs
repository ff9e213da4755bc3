//! Image paste (local to remote): what the HTTP side and the session actor
//! say to each other about a pasted image, and how an allowed image reaches
//! the page.
//!
//! The client POSTs the clipboard image to
//! `/api/sessions/{id}/paste-image` (see [`crate::server_paste`]). The
//! session first decides whether an image paste may start at all
//! ([`ImagePasteCmd::Begin`]: `paste = block` refuses before a byte is
//! read) and for which tab, then receives the bytes
//! ([`ImagePasteCmd::Received`]), has them checked off the actor task
//! (OCR in an extraction worker), and applies the verdict
//! ([`ImagePasteCmd::Checked`]).
//!
//! The image lives in memory only: it is never written to a file the
//! browser could read, and it is dropped once delivered or refused.
//!
//! Delivery never touches Chromium's clipboard (shared by every session of
//! the browser). A `ClipboardEvent('paste')` whose `clipboardData` is a
//! `DataTransfer` holding the image as a `File` (same name and bytes; the
//! type is the one the content was recognised as, `image/png` for what
//! browsers put on the clipboard)
//! is dispatched in the page's main world on the focused element, looking
//! through open shadow roots and same-origin frames (falling back to
//! `document.body`). Apps that read `event.clipboardData.files` or `.items`
//! receive the image; when nobody handles the event and the target is
//! contenteditable, the image is inserted as an `<img>` with a data URL,
//! which is what a browser's own paste of an image does there.

use std::time::{Duration, Instant};

use base64::Engine as _;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::Page;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::enforce::Verdict;
use crate::session::tab::with_timeout;

/// Where a pasted image goes and how large it may be, decided when the
/// paste starts.
#[derive(Debug, Clone)]
pub struct PasteTicket {
    /// The tab that was active when the user pasted.
    pub tab: u16,
    /// Its URL then (the decision's URL).
    pub url: String,
    /// The most bytes the image may have.
    pub limit: u64,
    /// When the paste started (for the decision latency in the log).
    pub started: Instant,
}

/// The paste gate's answer to the client, `200 {"allowed", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasteAnswer {
    /// The page received the image.
    pub allowed: bool,
    /// Why not (or a note), for the user.
    pub message: String,
}

impl PasteAnswer {
    /// A refusal saying `message`.
    pub fn refused(message: impl Into<String>) -> PasteAnswer {
        PasteAnswer {
            allowed: false,
            message: message.into(),
        }
    }
}

/// What the HTTP side (and the actor's own check task) tell a session
/// about a pasted image.
#[derive(Debug)]
pub enum ImagePasteCmd {
    /// An image paste is about to be received: for which tab and how large
    /// it may be, or the refusal (`paste = block`, no tab).
    Begin {
        /// The answer.
        reply: oneshot::Sender<Result<PasteTicket, PasteAnswer>>,
    },
    /// The image arrived whole.
    Received {
        /// From `Begin`.
        ticket: PasteTicket,
        /// The file name the page will see.
        name: String,
        /// The bytes.
        bytes: Vec<u8>,
        /// The gate's answer.
        reply: oneshot::Sender<PasteAnswer>,
    },
    /// The image did not arrive whole (too large, dropped, stalled):
    /// reported as a blocked paste.
    Refused {
        /// From `Begin`.
        ticket: PasteTicket,
        /// The file name.
        name: String,
        /// Bytes received (or declared).
        size: u64,
        /// Why.
        reason: String,
    },
    /// The check of a received image finished (sent by the actor's check
    /// task to its own actor).
    Checked {
        /// From `Begin`.
        ticket: PasteTicket,
        /// The file name.
        name: String,
        /// The bytes.
        bytes: std::sync::Arc<Vec<u8>>,
        /// The paste gate's verdict.
        verdict: Verdict,
        /// The answer for the client.
        reply: oneshot::Sender<PasteAnswer>,
    },
}

/// Dispatches the paste in the page's main world; `$ARGS` are base64
/// bytes, name and type. Resolves to what happened there.
const DELIVER_SCRIPT: &str = r#"(async (b64, name, type) => {
  let doc = document, el = doc.activeElement;
  for (let depth = 0; depth < 16 && el; depth++) {
    if (el.shadowRoot && el.shadowRoot.activeElement) { el = el.shadowRoot.activeElement; continue; }
    if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
      let inner = null;
      try { inner = el.contentDocument; } catch (e) { inner = null; }
      if (inner && inner.activeElement) { doc = inner; el = inner.activeElement; continue; }
    }
    break;
  }
  if (!el || el === doc.documentElement) el = doc.body || doc.documentElement;
  const win = doc.defaultView || window;
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const file = new win.File([bytes], name, { type, lastModified: Date.now() });
  const dt = new win.DataTransfer();
  dt.items.add(file);
  const ev = new win.ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true, composed: true });
  const proceed = el.dispatchEvent(ev);
  let inserted = false;
  if (proceed && el.isContentEditable) {
    const url = await new Promise((ok, fail) => {
      const r = new win.FileReader();
      r.onload = () => ok(r.result);
      r.onerror = () => fail(r.error);
      r.readAsDataURL(file);
    });
    inserted = doc.execCommand('insertImage', false, url);
  }
  return { target: el.tagName.toLowerCase(), handled: !proceed, inserted };
})"#;

/// What the page did with a delivered image.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Delivered {
    /// The element the event was dispatched on (`textarea`, `div`, `body`).
    pub target: String,
    /// A handler called `preventDefault()` (it took the image itself).
    pub handled: bool,
    /// The image was inserted into a contenteditable as an `<img>`.
    pub inserted: bool,
}

/// Dispatches the image paste on the focused element of `page`, within
/// `timeout`. Errors name the browser's side of the failure.
pub async fn deliver(
    page: &Page,
    name: &str,
    mime: &str,
    bytes: &[u8],
    timeout: Duration,
) -> Result<Delivered, String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let json = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let expression = format!(
        "{DELIVER_SCRIPT}({}, {}, {})",
        json(&b64),
        json(name),
        json(mime)
    );
    let params = EvaluateParams::builder()
        .expression(expression)
        .await_promise(true)
        .return_by_value(true)
        .user_gesture(true)
        .build()
        .map_err(|e| format!("the paste script could not be built ({e})"))?;
    let r = with_timeout(timeout, page.execute(params))
        .await
        .map_err(|e| format!("the page did not take the image ({e})"))?;
    if let Some(ex) = &r.result.exception_details {
        let what = ex
            .exception
            .as_ref()
            .and_then(|e| e.description.clone())
            .unwrap_or_else(|| ex.text.clone());
        return Err(format!("the page failed to take the image ({what})"));
    }
    let value = r.result.result.value.clone().unwrap_or_default();
    serde_json::from_value(value).map_err(|e| format!("the page answered oddly ({e})"))
}
