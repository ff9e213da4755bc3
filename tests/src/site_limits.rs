//! Test pages for the per-session limits: a page whose script never
//! yields, and a page that reloads itself forever.

use axum::response::Html;
use axum::routing::get;
use axum::Router;

use crate::site::Log;

/// The pages, merged into the test site's router.
pub fn routes() -> Router<Log> {
    Router::new()
        .route("/limits/busy", get(busy))
        .route("/limits/loop", get(reload_loop))
}

async fn busy() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><meta charset=utf-8><title>Busy</title></head>\
         <body><h1>About to spin</h1><script>setTimeout(() => { for (;;) {} }, 300);</script></body></html>",
    )
}

async fn reload_loop() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><meta charset=utf-8><title>Loop</title>\
         <meta http-equiv=refresh content=0></head><body>again</body></html>",
    )
}
