//! Image paste (local to remote): what the HTTP side and the session actor
//! say to each other about a pasted image, and how an allowed image reaches
//! the page.
//!
//! The client POSTs the clipboard image to
//! `/api/sessions/{id}/paste-image` (see [`crate::http::sessions::paste_image`]). The
//! session first decides whether an image paste may start at all
//! ([`ImagePasteCmd::Begin`]: `paste = block` refuses before a byte is
//! read) and for which tab, then receives the bytes
//! ([`ImagePasteCmd::Received`]), has them checked off the actor task
//! (OCR in an extraction worker), and applies the verdict
//! ([`ImagePasteCmd::Checked`]).
//!
//! The image is never held whole in the server's memory: the body is
//! streamed into a file in the session's private directory (0600, which
//! the browser's user cannot read), scanned from there, delivered to the
//! page in chunks of [`CHUNK`] bytes, and deleted once delivered or refused.
//! Together with the bound on transfers in progress
//! ([`crate::enforce::transfers`]) this keeps the server's memory flat
//! however many images users paste.
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

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chromiumoxide::cdp::js_protocol::runtime::{
    CallArgument, CallFunctionOnParams, EvaluateParams, ReleaseObjectParams,
};
use chromiumoxide::Page;
use serde::Serialize;
use tokio::io::AsyncReadExt;
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
    /// Where the image is received (in the session's private directory).
    pub path: PathBuf,
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
    /// The image arrived whole, in `ticket.path`.
    Received {
        /// From `Begin`.
        ticket: PasteTicket,
        /// The file name the page will see.
        name: String,
        /// Its size in bytes.
        size: u64,
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
        /// Its size in bytes.
        size: u64,
        /// The paste gate's verdict.
        verdict: Verdict,
        /// The answer for the client.
        reply: oneshot::Sender<PasteAnswer>,
    },
}

/// How many bytes of the image one CDP message carries to the page.
pub const CHUNK: usize = 768 << 10;

/// Appends one base64 chunk, decoded, to the array it is called on (an
/// array only the server holds a handle to).
const APPEND_SCRIPT: &str = r#"function (b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  this[this.length] = bytes;
  return this.length;
}"#;

/// Dispatches the paste in the page's main world; called on the array of
/// the image's chunks with its name and type. Resolves to what happened there.
const DELIVER_SCRIPT: &str = r#"async function (name, type) {
  const parts = this;
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
  const file = new win.File(Array.from(parts), name, { type, lastModified: Date.now() });
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
}"#;

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

/// Dispatches the image in file `path` as a paste on the focused element of
/// `page`, each CDP command within `timeout`: the file is read and sent in
/// chunks of [`CHUNK`] bytes, never whole. Errors name the browser's side of
/// the failure.
pub async fn deliver(
    page: &Page,
    name: &str,
    mime: &str,
    path: &Path,
    timeout: Duration,
) -> Result<Delivered, String> {
    let holder = EvaluateParams::builder()
        .expression("[]")
        .return_by_value(false)
        .build()
        .map_err(|e| format!("the paste script could not be built ({e})"))?;
    let holder = with_timeout(timeout, page.execute(holder))
        .await
        .map_err(|e| format!("the page did not take the image ({e})"))?;
    let Some(array) = holder.result.result.object_id.clone() else {
        return Err("the page did not take the image (no array)".into());
    };
    let result = send_chunks_and_paste(page, name, mime, path, &array, timeout).await;
    let _ = with_timeout(timeout, page.execute(ReleaseObjectParams::new(array))).await;
    result
}

async fn send_chunks_and_paste(
    page: &Page,
    name: &str,
    mime: &str,
    path: &Path,
    array: &chromiumoxide::cdp::js_protocol::runtime::RemoteObjectId,
    timeout: Duration,
) -> Result<Delivered, String> {
    let unreadable = |e: std::io::Error| format!("the image could not be read back ({e})");
    let (file, _) = crate::enforce::file_input::open_regular(path).map_err(unreadable)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let mut filled = 0;
        while filled < CHUNK {
            let n = file.read(&mut buf[filled..]).await.map_err(unreadable)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(&buf[..filled]);
        let params = call(array, APPEND_SCRIPT, vec![serde_json::Value::String(b64)])?;
        let r = with_timeout(timeout, page.execute(params))
            .await
            .map_err(|e| format!("the page did not take the image ({e})"))?;
        if r.result.exception_details.is_some() {
            return Err("the page failed to take the image".into());
        }
        if filled < CHUNK {
            break;
        }
    }
    let args = vec![name.into(), mime.into()];
    let mut params = call(array, DELIVER_SCRIPT, args)?;
    params.await_promise = Some(true);
    params.return_by_value = Some(true);
    params.user_gesture = Some(true);
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

/// `function_declaration` called on `array` with JSON `args`.
fn call(
    array: &chromiumoxide::cdp::js_protocol::runtime::RemoteObjectId,
    function_declaration: &str,
    args: Vec<serde_json::Value>,
) -> Result<CallFunctionOnParams, String> {
    let mut builder = CallFunctionOnParams::builder()
        .function_declaration(function_declaration)
        .object_id(array.clone());
    for a in args {
        builder = builder.argument(CallArgument {
            value: Some(a),
            unserializable_value: None,
            object_id: None,
        });
    }
    builder
        .build()
        .map_err(|e| format!("the paste script could not be built ({e})"))
}
