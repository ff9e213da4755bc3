//! Test pages for the submit and page-content gates (under `/gn/`): pages
//! that send a card number (or clean text) by form post, `fetch`, a popup,
//! an iframe and a worker, sinks that record what arrives, and pages that
//! show sensitive values for masking. Paths under `/gn/open/` are where the
//! tests' policies allow everything.

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::Router;

/// A card number that passes the Luhn check (a well-known test number).
pub const CARD: &str = "4111 1111 1111 1111";
/// A second one, shown after load.
pub const LATE_CARD: &str = "5555 5555 5555 4444";
/// A Social Security number in the valid ranges.
pub const SSN: &str = "536-22-8745";

/// The routes, merged into the test site.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/gn/form/{which}", get(form))
        .route("/gn/fetch/{which}", get(fetch_page))
        .route("/gn/popup", get(popup))
        .route("/gn/frame", get(frame))
        .route("/gn/worker", get(worker_page))
        .route("/gn/worker.js", get(worker_js))
        .route("/gn/sink", post(sink))
        .route("/gn/open/sink", post(sink))
        .route("/gn/masked", get(masked))
        .route("/gn/open/masked", get(masked))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>\
         <style>body{{font:24px sans-serif;margin:0;padding:20px}}\
         button{{position:absolute;left:0;top:0;width:100%;height:300px;font-size:40px}}</style>\
         </head><body>{body}</body></html>"
    ))
}

/// The value and sink of a `which`: `card`, `clean`, or `open` (a card to the open sink).
fn case(which: &str) -> (&'static str, &'static str) {
    match which {
        "card" => (CARD, "/gn/sink"),
        "open" => (CARD, "/gn/open/sink"),
        _ => ("hello world", "/gn/sink"),
    }
}

async fn form(Path(which): Path<String>) -> Html<String> {
    // A card form of four boxes: `boxes` holds Visa's test number split
    // over them, `boxes-clean` the same digits but the last (Luhn fails).
    if let Some(last) = match which.as_str() {
        "boxes" => Some("1111"),
        "boxes-clean" => Some("1112"),
        _ => None,
    } {
        return page(
            "Form",
            &format!(
                "<form id=f method=post action=/gn/sink><input name=c1 value=4111><input name=c2 value=1111>\
                 <input name=c3 value=1111><input name=c4 value={last}></form>\
                 <script>addEventListener('load',()=>document.getElementById('f').submit());</script>"
            ),
        );
    }
    let (value, sink) = case(&which);
    page(
        "Form",
        &format!(
            "<form id=f method=post action={sink}><input name=card value=\"{value}\"></form>\
             <script>addEventListener('load',()=>document.getElementById('f').submit());</script>"
        ),
    )
}

async fn fetch_page(Path(which): Path<String>) -> Html<String> {
    let (value, sink) = case(&which);
    page(
        "Fetch",
        &format!(
            "<script>addEventListener('load',()=>{{\
             fetch('{sink}',{{method:'POST',headers:{{'Content-Type':'application/json'}},\
             body:JSON.stringify({{card:'{value}'}})}})\
             .then(r=>r.ok?'fetch ok':'fetch status '+r.status,e=>'fetch failed')\
             .then(t=>{{document.title=t;if(parent!==window)parent.postMessage(t,'*');}});}});</script>"
        ),
    )
}

async fn popup() -> Html<String> {
    page(
        "Popup form",
        &format!(
            "<form method=post action=/gn/sink target=_blank>\
             <input type=hidden name=card value=\"{CARD}\"><button>Send in a new window</button></form>"
        ),
    )
}

async fn frame() -> Html<String> {
    page(
        "Frame",
        "<iframe src=/gn/fetch/card></iframe>\
         <script>addEventListener('message',e=>{document.title='frame: '+e.data;});</script>",
    )
}

async fn worker_page() -> Html<String> {
    page(
        "Worker",
        "<script>const w=new Worker('/gn/worker.js');\
         w.onmessage=e=>{document.title='worker: '+e.data;};</script>",
    )
}

async fn worker_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript")],
        format!(
            "fetch('/gn/sink',{{method:'POST',headers:{{'Content-Type':'application/json'}},\
             body:JSON.stringify({{card:'{CARD}'}})}})\
             .then(r=>r.ok?'fetch ok':'fetch status '+r.status,e=>'fetch failed')\
             .then(t=>postMessage(t));"
        ),
    )
}

async fn sink(body: String) -> Html<String> {
    page(&format!("Sink got {} bytes", body.len()), "<p>received</p>")
}

/// Sensitive values in the page, one more added after load; the page's own
/// script notes whether its first painted frame held a raw value.
async fn masked() -> Html<String> {
    page(
        "Masked",
        &format!(
            "<p id=card>Card {CARD}</p><p id=ssn>SSN {SSN}</p><p id=plain>Order 12345 shipped</p>\
             <script>\
             const raw=()=>/\\d{{4}} \\d{{4}} \\d{{4}} \\d{{4}}|\\d{{3}}-\\d{{2}}-\\d{{4}}/.test(document.body.innerText);\
             requestAnimationFrame(()=>{{window.firstPaintRaw=raw();}});\
             setTimeout(()=>{{const p=document.createElement('p');p.id='late';\
             p.textContent='Late {LATE_CARD}';document.body.appendChild(p);\
             requestAnimationFrame(()=>{{window.latePaintRaw=/5555 5555/.test(p.textContent);\
             document.title='Masked ready';}});}},800);\
             </script>"
        ),
    )
}
