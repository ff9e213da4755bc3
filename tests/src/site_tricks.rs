//! Test pages for the ways a page can draw a card number other than plain
//! text (under `/tr/<mode>/`; the tests' policies allow everything under
//! `/tr/open/` and mask card numbers elsewhere): in a cross-site iframe,
//! CSS generated content, closed shadow roots, reordered or split over
//! elements and lines, and a PDF (`tests/data/tricks/card.pdf`, made by
//! groff from `card.roff`).
//!
//! Every page shows the card on rows 60 CSS px apart from `ROW_TOP`, one
//! trick a row, and a marker (`MARKER`) on the last row so a test knows
//! the page is painted; it titles itself `Ready <path>` once drawn.

use axum::extract::Path;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;

/// Digits every page shows once painted (not a card number).
pub const MARKER: &str = "24680";
/// Top of the first row, CSS px.
pub const ROW_TOP: u32 = 20;
/// Height of each row, CSS px.
pub const ROW_HEIGHT: u32 = 60;
/// The PDF (groff's output for `tests/data/tricks/card.roff`).
pub const CARD_PDF: &[u8] = include_bytes!("../data/tricks/card.pdf");

/// The routes, merged into the test site.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/tr/{mode}/frame", get(frame_page))
        .route("/tr/{mode}/inner", get(inner_page))
        .route("/tr/{mode}/css", get(css_page))
        .route("/tr/{mode}/closed", get(closed_page))
        .route("/tr/{mode}/order", get(order_page))
        .route("/tr/{mode}/pdf", get(pdf_page))
        .route("/tr/{mode}/card.pdf", get(card_pdf))
}

/// A page of rows (`rows[i]` at `ROW_TOP + i * ROW_HEIGHT`), then the marker row.
fn rows_page(style: &str, rows: &[String], script: &str) -> Html<String> {
    let mut body = String::new();
    for (i, r) in rows
        .iter()
        .chain([format!("Ref {MARKER}")].iter())
        .enumerate()
    {
        let top = ROW_TOP + i as u32 * ROW_HEIGHT;
        body.push_str(&format!("<div class=row style='top:{top}px'>{r}</div>"));
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Tricks</title>\
         <style>body{{font:28px 'Liberation Sans',sans-serif;margin:0}}\
         .row{{position:absolute;left:20px;height:{ROW_HEIGHT}px;width:900px}}{style}</style>\
         </head><body>{body}<script>{script}\n\
         requestAnimationFrame(() => setTimeout(() => {{ document.title = 'Ready ' + location.pathname; }}, 300));\
         </script></body></html>"
    ))
}

/// A dedicated worker that must run (targets that wait for a debugger are
/// resumed) before the page counts as painted: it answers, and the page
/// posts `painted` to the top page.
const WORKER: &str = "new Worker(URL.createObjectURL(new Blob(['postMessage(1)']))).onmessage = \
                      () => top.postMessage('painted', '*');";

/// Row 0: a cross-site iframe (`localhost` under a page of `127.0.0.1`:
/// another site, so another renderer) showing the card as text. The
/// title waits for the frame's message that it has painted and for a
/// worker of the page and one of the frame (workers wait for a debugger
/// too: they run only once resumed).
async fn frame_page(Path(mode): Path<String>, headers: HeaderMap) -> Html<String> {
    let port = crate::site::request_port(&headers);
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Tricks</title>\
         <style>body{{font:28px 'Liberation Sans',sans-serif;margin:0}}</style></head><body>\
         <iframe src='http://localhost:{port}/tr/{mode}/inner' \
         style='position:absolute;left:0;top:0;width:900px;height:{h}px;border:0'></iframe>\
         <div style='position:absolute;left:20px;top:{top}px'>Ref {MARKER}</div>\
         <script>let seen = 0;\
         addEventListener('message', (e) => {{ if (e.data === 'painted' && ++seen === 3) \
         setTimeout(() => {{ document.title = 'Ready ' + location.pathname; }}, 300); }});\
         {WORKER}</script>\
         </body></html>",
        h = ROW_TOP + ROW_HEIGHT,
        top = ROW_TOP + ROW_HEIGHT,
    ))
}

/// The framed page: the card on row 0, set by the frame's own script (which
/// runs after ours), and a worker.
async fn inner_page() -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>inner</title>\
         <style>body{{font:28px 'Liberation Sans',sans-serif;margin:0}}</style></head><body>\
         <div style='position:absolute;left:20px;top:{ROW_TOP}px'>Card <span id=c></span></div>\
         <script>document.getElementById('c').textContent = '4111 1111 1111 1111';\
         requestAnimationFrame(() => parent.postMessage('painted', '*'));\
         {WORKER}</script>\
         </body></html>"
    ))
}

/// Rows of the generated-content page.
pub const CSS_ROWS: usize = 5;

/// CSS generated content: a string in `::before`, `attr()` in `::after`,
/// counters, generated content completing the element's own text, and a
/// string in `::before` inside a shadow root (its own style sheet).
async fn css_page() -> Html<String> {
    let style = ".g1::before{content:'4111 1111 1111 1111'}\
                 .g2::after{content:attr(data-n)}\
                 .g3{counter-reset:a 4111 b 1111}\
                 .g3::before{content:counter(a) ' ' counter(b) ' ' counter(b) ' ' counter(b)}\
                 .g4::before{content:'4111 1111 1111 '}";
    let rows = [
        "<span class=g1></span>".to_owned(),
        "<span class=g2 data-n='4111 1111 1111 1111'></span>".to_owned(),
        "<span class=g3></span>".to_owned(),
        "<span class=g4>1111</span>".to_owned(),
        "<div id=sh></div>".to_owned(),
    ];
    let script = "document.getElementById('sh').attachShadow({mode: 'open'}).innerHTML = \
                  \"<style>.x::before{content:'4111 1111 1111 1111'}</style><span class=x></span>\";";
    rows_page(style, &rows, script)
}

/// Closed shadow roots: one filled at once, one filled later by script.
async fn closed_page() -> Html<String> {
    let rows = [
        "<div id=h1></div>".to_owned(),
        "<div id=h2></div>".to_owned(),
    ];
    let script = "const r1 = document.getElementById('h1').attachShadow({mode: 'closed'});\
                  r1.innerHTML = '<p style=\"margin:0\">Card 4111 1111 1111 1111</p>';\
                  const r2 = document.getElementById('h2').attachShadow({mode: 'closed'});\
                  setTimeout(() => { r2.innerHTML = '<b>4111 1111 1111 1111</b>'; }, 200);";
    rows_page("", &rows, script)
}

/// Rows of the reordering page.
pub const ORDER_ROWS: usize = 7;

/// Reordering and splitting: flex `order`, `<bdo dir=rtl>`, a right-to-left
/// paragraph, a line break, a narrow box, dots, and four positioned boxes
/// written in reverse order.
async fn order_page() -> Html<String> {
    let boxes: String = [(240, "1111"), (160, "1111"), (80, "1111"), (0, "4111")]
        .iter()
        .map(|(left, g)| format!("<div style='position:absolute;left:{left}px'>{g}</div>"))
        .collect();
    let rows = [
        "<div style='display:flex;gap:14px'><div style='order:2'>1111</div>\
         <div style='order:1'>4111</div><div style='order:3'>1111</div>\
         <div style='order:4'>1111</div></div>"
            .to_owned(),
        "<bdo dir=rtl>1111 1111 1111 1114</bdo>".to_owned(),
        "<div dir=rtl style='width:300px'>1111 1111 1111 4111</div>".to_owned(),
        "<div style='font-size:20px;line-height:26px'>4111 1111<br>1111 1111</div>".to_owned(),
        "<div style='width:130px;font-size:20px;line-height:26px'>4111 1111 1111 1111</div>"
            .to_owned(),
        "4111.1111.1111.1111".to_owned(),
        format!("<div style='position:relative'>{boxes}</div>"),
    ];
    rows_page("", &rows, "")
}

/// The PDF inline in an iframe, on row 0.
async fn pdf_page(Path(mode): Path<String>) -> Html<String> {
    let rows = [format!(
        "<iframe src='/tr/{mode}/card.pdf' style='width:880px;height:{ROW_HEIGHT}px;border:0'></iframe>"
    )];
    rows_page("", &rows, "")
}

async fn card_pdf() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/pdf")], CARD_PDF)
}
