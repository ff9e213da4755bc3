//! Test pages for the fault tests: a page that allocates memory without
//! bound (touching every page, so the memory is really used).

use axum::response::Html;
use axum::routing::get;
use axum::Router;

use crate::site::Log;

/// The pages, merged into the test site's router.
pub fn routes() -> Router<Log> {
    Router::new().route("/faults/memory", get(memory_hog))
}

async fn memory_hog() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><meta charset=utf-8><title>Hog</title></head>\
         <body><h1>Allocating</h1><p id=n>0 MB</p><script>\
         const keep = []; let mb = 0;\
         setInterval(() => { try { const a = new Uint8Array(32 << 20); a.fill(mb & 255 | 1); keep.push(a); mb += 32;\
         document.getElementById('n').textContent = mb + ' MB'; } catch (e) {} }, 10);\
         </script></body></html>",
    )
}
