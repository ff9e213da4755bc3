//! Test-site pages for resting screencasts: a full-viewport page that is
//! blue and turns red at `at` (Unix time in ms, on the machine's clock that
//! the test shares), by one means each, none of which is user input: a
//! script changing the DOM, a script drawing on a canvas (no DOM change at
//! all), and a CSS animation whose delay is set at load (no script runs
//! when it starts). And a page of coloured bands that only scrolling
//! changes. And an empty text field, to see its caret, alone and in a
//! cross-site frame.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use axum::Router;

/// The blue the pages start with.
pub const BLUE: [u8; 3] = [0x20, 0x60, 0xc0];
/// The red they turn to.
pub const RED: [u8; 3] = [0xc0, 0x30, 0x20];

/// The pages (merged into the test site).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/rest/{how}/{at}", get(page))
}

fn css([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

async fn page(Path((how, at)): Path<(String, u64)>, headers: HeaderMap) -> Html<String> {
    let (blue, red) = (css(BLUE), css(RED));
    let ms = format!("Math.max(0, {at} - Date.now())");
    let body = match how.as_str() {
        "dom" => format!(
            "<style>html,body{{margin:0;height:100%;background:{blue}}}</style>\
             <script>setTimeout(() => {{ document.body.style.background = '{red}'; }}, {ms});</script>"
        ),
        "canvas" => format!(
            "<style>html,body{{margin:0;height:100%;overflow:hidden}}canvas{{display:block}}</style>\
             <canvas id=c></canvas>\
             <script>\
             const c = document.getElementById('c');\
             c.width = innerWidth; c.height = innerHeight;\
             const g = c.getContext('2d');\
             g.fillStyle = '{blue}'; g.fillRect(0, 0, c.width, c.height);\
             setTimeout(() => {{ g.fillStyle = '{red}'; g.fillRect(0, 0, c.width, c.height); }}, {ms});\
             </script>"
        ),
        // Still until scrolled: bands of 360 px, blue and red in turn.
        "stripes" => format!(
            "<style>body{{margin:0}}div{{height:360px}}div:nth-child(odd){{background:{blue}}}\
             div:nth-child(even){{background:{red}}}</style>{}",
            "<div></div>".repeat(40)
        ),
        // An empty text field on white, its caret 1 CSS px wide at x = 200.
        "field" => "<style>html,body{margin:0;height:100%;background:#fff}\
             input{position:absolute;left:200px;top:300px;width:800px;height:120px;\
             font:100px monospace;border:0;outline:0;padding:0;margin:0;background:#fff;\
             color:#000;caret-color:#000}</style><input id=f>"
            .to_owned(),
        // The same field in a cross-site frame (`localhost` under a page of
        // `127.0.0.1`: another renderer, another CDP target), filling the
        // viewport.
        "framed" => {
            let port = crate::site::request_port(&headers);
            format!(
                "<style>html,body{{margin:0;height:100%}}iframe{{position:absolute;left:0;top:0;\
                 width:100%;height:100%;border:0}}</style>\
                 <iframe src='http://localhost:{port}/rest/field/0' \
                 onload=\"setTimeout(() => {{ document.title = 'Framed field ready'; }}, 300)\"></iframe>"
            )
        }
        _ => format!(
            "<style>html,body{{margin:0;height:100%}}\
             body{{background:{blue};animation:turn 0.3s linear 3600s forwards}}\
             @keyframes turn{{to{{background:{red}}}}}</style>\
             <script>document.body.style.animationDelay = {ms} + 'ms';</script>"
        ),
    };
    Html(format!(
        "<!doctype html><title>Still page ({how})</title><body>{body}</body>"
    ))
}
