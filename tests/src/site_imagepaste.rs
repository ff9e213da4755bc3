//! Test pages for image paste.
//!
//! Each page posts what the isolated page received to the site (which
//! records it), so a test can prove what did and did not arrive, byte for
//! byte (SHA-256 computed in the page).

use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;

use crate::site::Log;

/// The pages, merged into the test site's router.
pub fn routes() -> Router<Log> {
    Router::new()
        .route("/imagepaste/app", get(app))
        .route("/imagepaste/editor", get(editor))
        .route("/imagepaste/received", post(|| async { "ok" }))
}

fn doc(title: &str, body: &str, script: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>\
         <style>body{{font:20px sans-serif;margin:0;padding:20px}}\
         #t{{position:absolute;left:20px;top:100px;width:700px;height:120px;font-size:20px}}\
         #ed{{position:absolute;left:20px;top:100px;width:700px;height:300px;border:1px solid #888}}</style></head>\
         <body>{body}<script>{script}</script></body></html>"
    ))
}

/// What every page does with a received file: name, type, size and
/// SHA-256 of its bytes, posted as JSON to `/imagepaste/received`.
const REPORT_FILE: &str = "async function report(f, via, target) {\
   const buf = await f.arrayBuffer();\
   const digest = await crypto.subtle.digest('SHA-256', buf);\
   const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');\
   await fetch('/imagepaste/received', {method: 'POST', headers: {'Content-Type': 'application/json'},\
     body: JSON.stringify({via, target, name: f.name, type: f.type, size: f.size, sha256})});\
 }";

/// An app that takes pasted images itself: a focused textarea, a paste
/// handler that reads `clipboardData.items` (and `files`) and reports each
/// image.
async fn app() -> Html<String> {
    doc(
        "Image App",
        "<textarea id=t autofocus></textarea>",
        &format!(
            "{REPORT_FILE}\
             const t = document.getElementById('t'); t.focus();\
             document.addEventListener('paste', (e) => {{\
               const items = [...e.clipboardData.items].filter((i) => i.kind === 'file');\
               if (!items.length) return;\
               e.preventDefault();\
               const files = e.clipboardData.files.length;\
               for (const i of items) report(i.getAsFile(), 'items:' + files, e.target.id || e.target.tagName);\
             }});"
        ),
    )
}

/// A contenteditable editor that does not handle paste itself: what lands
/// in it is reported (image count, and the first image's bytes).
async fn editor() -> Html<String> {
    doc(
        "Image Editor",
        "<div id=ed contenteditable=true></div>",
        &format!(
            "{REPORT_FILE}\
             const ed = document.getElementById('ed'); ed.focus();\
             ed.addEventListener('input', async () => {{\
               const img = ed.querySelector('img');\
               if (!img) return;\
               const blob = await (await fetch(img.src)).blob();\
               const f = new File([blob], 'inserted', {{type: blob.type}});\
               report(f, 'img:' + ed.querySelectorAll('img').length, 'ed');\
             }});"
        ),
    )
}
