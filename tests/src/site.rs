//! A test web site that records what it receives.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

/// One request the site received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Body as text.
    pub body: String,
    /// The Cookie header.
    pub cookie: String,
}

/// The running site.
pub struct TestSite {
    /// Where it listens.
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    _task: tokio::task::JoinHandle<()>,
}

/// The request log the site's handlers share.
pub type Log = Arc<Mutex<Vec<Recorded>>>;

impl TestSite {
    /// Starts the site on 127.0.0.1, port 0.
    pub async fn start() -> TestSite {
        let log: Log = Arc::default();
        let app = Router::new()
            .route("/", get(home))
            .route("/page2", get(page2))
            .route("/submit", post(submit))
            .route("/cookie/set/{value}", get(cookie_set))
            .route("/cookie/show", get(cookie_show))
            .route("/popup", get(popup))
            .route("/dialog", get(dialog))
            .route("/color/{hex}", get(color))
            .route("/burst/{hex}", get(burst))
            .route("/scroll", get(scroll))
            .route("/bench/input", get(bench_input))
            .route("/viewport", get(viewport))
            .route("/gates/report", post(|| async { "ok" }))
            .merge(crate::site_clipboard::routes())
            .merge(crate::site_editors::routes())
            .merge(crate::site_limits::routes())
            .merge(crate::site_faults::routes())
            .merge(crate::site_gatesnet::routes())
            .merge(crate::site_pagecontent::routes())
            .merge(crate::site_tricks::routes())
            .merge(crate::site_screennet::routes())
            .merge(crate::site_gatesfile::routes())
            .merge(crate::site_imagepaste::routes())
            .merge(crate::site_memory::routes())
            .merge(crate::site_office::routes())
            .merge(crate::site_rest::routes())
            .merge(crate::site_egress::routes())
            .with_state(log.clone())
            .layer(axum::middleware::from_fn_with_state(log.clone(), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestSite {
            addr,
            log,
            _task: task,
        }
    }

    /// The URL of a path on this site.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// Bodies of POSTs to `path`.
    pub fn posts_to(&self, path: &str) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.uri == path)
            .map(|r| r.body)
            .collect()
    }
}

async fn record(
    State(log): State<Log>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The large-body sinks stream and record the body themselves.
    if req.uri().path().ends_with("/eg/big") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    log.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        cookie: parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
    });
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    next.run(req).await
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>\
         <style>body{{font:20px sans-serif;margin:0;padding:20px}} a{{display:inline-block;padding:20px;font-size:28px}}\
         input{{font-size:24px;width:600px}} button{{font-size:24px}}\
         #next,#home,#open,#ask{{position:absolute;left:20px;top:150px;width:300px;height:40px}}\
         #q{{position:absolute;left:20px;top:300px;width:600px;height:40px}} #send{{position:absolute;left:660px;top:300px}}</style></head><body>{body}</body></html>"
    ))
}

async fn home() -> Html<String> {
    page(
        "Test Home",
        "<h1>Home</h1><a id=next href=/page2>Next page</a>\
         <form method=post action=/submit><input id=q name=q autofocus autocomplete=off><button id=send>Send</button></form>",
    )
}

async fn page2() -> Html<String> {
    page("Page Two", "<h1>Page two</h1><a id=home href=/>Home</a>")
}

#[derive(serde::Deserialize)]
struct Submitted {
    q: String,
}

async fn submit(Form(f): Form<Submitted>) -> Html<String> {
    let shown: String =
        f.q.chars()
            .map(|c| {
                if c.is_alphanumeric() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
    page(
        "Submitted",
        &format!("<h1>Thanks</h1><p id=got>{shown}</p>"),
    )
}

async fn cookie_set(Path(value): Path<String>) -> Response {
    (
        [(header::SET_COOKIE, format!("c={value}; Path=/"))],
        page("Cookie set", "<p>set</p>"),
    )
        .into_response()
}

async fn cookie_show(headers: HeaderMap) -> Html<String> {
    let c = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    page(&format!("cookie={c}"), "<p>cookie</p>")
}

async fn popup() -> Html<String> {
    page(
        "Popup opener",
        "<a id=open href=/page2 target=_blank>Open in new tab</a>",
    )
}

async fn dialog(Query(q): Query<std::collections::HashMap<String, String>>) -> Html<String> {
    let kind = q.get("kind").map(String::as_str).unwrap_or("confirm");
    let kind = if ["alert", "confirm", "prompt"].contains(&kind) {
        kind
    } else {
        "confirm"
    };
    page(
        "Dialog",
        &format!(
            "<a id=ask href=#>Ask</a><p id=answer>none</p><script>\
             document.getElementById('ask').onclick=(e)=>{{e.preventDefault();\
             const r={kind}('Proceed?');document.title='answer='+r;}};</script>"
        ),
    )
}

/// The first six hex digits of `s` (a CSS colour, safe in markup).
fn css_hex(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(6)
        .collect()
}

async fn color(Path(hex): Path<String>, _uri: Uri) -> Html<String> {
    let hex = css_hex(&hex);
    Html(format!(
        "<!doctype html><title>color</title><style>html,body{{margin:0;height:100%;background:#{hex}}}</style>"
    ))
}

/// A page that repaints on every animation frame for a moment, each time in
/// another grey, and then stays solid `hex` for good: the last paint comes
/// while earlier frames still wait for their ack.
async fn burst(Path(hex): Path<String>) -> Html<String> {
    let hex = css_hex(&hex);
    Html(format!(
        "<!doctype html><title>burst</title><style>html,body{{margin:0;height:100%}}</style>\
         <script>let n=0;const step=()=>{{n++;if(n<40){{const g=(n*6)%256;\
         document.body.style.background=`rgb(${{g}},${{g}},${{g}})`;requestAnimationFrame(step);}}\
         else{{document.body.style.background='#{hex}';document.title='burst done';}}}};\
         addEventListener('load',()=>requestAnimationFrame(step));</script><body></body>"
    ))
}

async fn scroll() -> Html<String> {
    let mut body = String::new();
    for i in 0..400 {
        body.push_str(&format!("<p>Line {i} of a long page that scrolls.</p>"));
    }
    page("Long page", &body)
}

async fn bench_input() -> Html<String> {
    // No animation: a frame after a key is the key's frame (the caret shows,
    // steady: the page-content gate's hooks stop Chromium blinking it).
    Html(
        "<!doctype html><title>bench</title><style>input{font-size:24px;width:800px;\
          position:absolute;left:20px;top:20px;height:40px}</style><input id=i autocomplete=off>"
            .to_owned(),
    )
}

async fn viewport() -> Html<String> {
    page(
        "viewport",
        "<p>size</p><script>const show = () => { document.title = 'vw=' + innerWidth + ' dpr=' + devicePixelRatio; };\
         show(); addEventListener('resize', show);</script>",
    )
}

/// The port a request came to, from its `Host` header (80 without one), so
/// that a page can frame this site under its other name (`localhost` under
/// `127.0.0.1`: another site, so an out-of-process frame).
pub(crate) fn request_port(headers: &axum::http::HeaderMap) -> u16 {
    headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(80)
}
