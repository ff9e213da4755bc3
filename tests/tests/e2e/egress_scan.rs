//! Every byte that leaves the isolated browser is scanned (issue 17): the
//! egress proxy judges request lines, headers, bodies and WebSocket frames
//! with the submit rule of the app they go to, after decoding them. Each
//! channel and encoding is tried by a script in the isolated page (what a
//! malicious page can do) in both outcomes: a card number never reaches the
//! site, while clean data, and a card sent where the rule allows, arrive.
//! Judged by what the test site received, not by what the isolator says.
//!
//! One isolator, client and session serve every case of a test.

use std::time::Duration;

use isolator_e2e::site::Recorded;
use isolator_e2e::site_tls::TlsFront;
use isolator_e2e::{eventually, Client, Isolator, TestSite};
use serde_json::Value;

use crate::start_url;

pub(crate) const T: Duration = Duration::from_secs(30);

/// The card number the tests try to send (Visa's published test number).
pub(crate) const CARD: &str = "4111 1111 1111 1111";

/// Submits are scanned for card numbers, except under `/eg/open/`.
const POLICY: &str = r#"
[defaults]
submit = "allow"

[[apps]]
name = "open"
hosts = ["127.0.0.1/eg/open"]

[[rules]]
name = "open-app"
apps = ["open"]
submit = "allow"

[[rules]]
name = "dlp"
submit = { mode = "scan", profiles = ["financial"] }
"#;

pub(crate) struct Setup {
    pub(crate) site: TestSite,
    pub(crate) iso: Isolator,
    pub(crate) client: Client,
    /// The scheme and authority the pages are opened at.
    pub(crate) origin: String,
    _front: Option<TlsFront>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    setup_with(false).await
}

/// The egress test site opened in a session, over plain HTTP or (`tls`)
/// through an `https://` front whose authority the isolator trusts.
pub(crate) async fn setup_with(tls: bool) -> Setup {
    setup_on(TestSite::start().await, tls, |_| {}).await
}

/// [`setup_with`] on `site`, with a config the caller may adjust.
pub(crate) async fn setup_on(
    site: TestSite,
    tls: bool,
    adjust: impl FnOnce(&mut isolator::config::Config),
) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let front = match tls {
        true => Some(TlsFront::start(site.addr).await),
        false => None,
    };
    let iso = Isolator::for_site_with(&site, |c| {
        c.policies.file = Some(policy);
        if let Some(front) = &front {
            c.egress
                .allow
                .push(format!("127.0.0.1:{}", front.addr.port()));
            c.egress.tls.extra_roots.push(front.ca_pem.clone());
        }
        adjust(c);
    })
    .await;
    let origin = match &front {
        Some(f) => f.url(""),
        None => site.url(""),
    };
    let client = Client::open(&start_url(&iso, &format!("{origin}/eg/base"))).await;
    client.wait_connected().await;
    client
        .wait_state("the base page", T, |s| s["title"] == "Egress base")
        .await;
    Setup {
        site,
        iso,
        client,
        origin,
        _front: front,
        _dir: dir,
    }
}

impl Setup {
    /// Runs `script` (an async function body) in the isolated page, as the
    /// page's own script would, and returns what it returns.
    pub(crate) async fn run(&self, script: &str) -> Value {
        self.run_at(&format!("{}/eg/", self.origin), script).await
    }

    /// [`Setup::run`] in the page whose URL starts with `prefix`.
    pub(crate) async fn run_at(&self, prefix: &str, script: &str) -> Value {
        let running = self
            .iso
            .state
            .sessions
            .browser()
            .peek()
            .await
            .expect("a browser");
        // A renderer busy with a 200 MB body may not tell its URL at once.
        for _ in 0..30 {
            for page in running.browser.pages().await.unwrap_or_default() {
                let url = page.url().await.ok().flatten().unwrap_or_default();
                if url.starts_with(prefix) {
                    let expr = format!("(async () => {{ {script} }})()");
                    return page
                        .evaluate(expr)
                        .await
                        .map(|r| r.value().cloned().unwrap_or(Value::Null))
                        .unwrap_or_else(|e| Value::String(format!("evaluate failed: {e}")));
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("no isolated page under {prefix}");
    }

    /// Every request whose URL names `case`.
    pub(crate) fn arrived(&self, case: &str) -> Vec<Recorded> {
        let tag = format!("case={case}");
        self.site
            .requests()
            .into_iter()
            .filter(|r| r.uri.contains(&tag) || r.body.contains(&tag))
            .collect()
    }

    pub(crate) async fn wait_arrived(&self, case: &str) -> Vec<Recorded> {
        eventually(T, case, || async {
            let got = self.arrived(case);
            (!got.is_empty()).then_some(got)
        })
        .await
    }
}

/// A script that sends `url` by `how` and resolves once the browser is done with it.
pub(crate) fn send_by(how: &str, url: &str) -> String {
    match how {
        "fetch" => format!("const r = await fetch('{url}').then(r => r.status, e => 'failed'); return String(r);"),
        "image" => format!(
            "return await new Promise(res => {{ const i = new Image(); i.onload = i.onerror = () => res('done'); i.src = '{url}'; }});"
        ),
        "eventsource" => format!(
            "return await new Promise(res => {{ const e = new EventSource('{url}'); \
             e.onmessage = () => {{ e.close(); res('message'); }}; e.onerror = () => {{ e.close(); res('error'); }}; }});"
        ),
        "form-get" => {
            let (action, query) = url.split_once('?').unwrap();
            let inputs: String = query
                .split('&')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    format!("<input name='{k}' value='{}'>", v.replace("%20", " "))
                })
                .collect();
            format!(
                "const f = document.createElement('iframe'); f.name = 'fg'; document.body.appendChild(f); \
                 const form = document.createElement('form'); form.method = 'get'; form.action = '{action}'; \
                 form.target = 'fg'; form.innerHTML = \"{inputs}\"; document.body.appendChild(form); \
                 const loaded = new Promise(r => f.onload = r); form.submit(); await loaded; \
                 f.remove(); form.remove(); return 'submitted';"
            )
        }
        "location" => format!(
            "const f = document.createElement('iframe'); document.body.appendChild(f); \
             const loaded = new Promise(r => f.onload = r); f.contentWindow.location = '{url}'; await loaded; \
             f.remove(); return 'navigated';"
        ),
        "worker" => format!(
            "const src = 'fetch(' + JSON.stringify(location.origin + '{url}') + \
             ').then(r => postMessage(r.status), () => postMessage(\\'failed\\'));'; \
             const w = new Worker(URL.createObjectURL(new Blob([src], {{type: 'text/javascript'}}))); \
             return String(await new Promise(r => w.onmessage = e => r(e.data)));"
        ),
        // A beacon: the card in its body as well as its URL.
        "beacon" => format!(
            "const ok = navigator.sendBeacon('{url}', new URLSearchParams(location.search + '&' + '{url}'.split('?')[1])); \
             await new Promise(r => setTimeout(r, 300)); return String(ok);"
        ),
        // A service worker (https or loopback pages only) sends it for the page.
        "service-worker" => format!(
            "const step = (p, what) => Promise.race([p, new Promise((_, no) => setTimeout(() => no(what + ' timed out'), 10000))]); \
             try {{ \
               const reg = await step(navigator.serviceWorker.register('/eg/sw.js'), 'register'); \
               await step(navigator.serviceWorker.ready, 'ready'); \
               const sw = reg.active || reg.waiting || reg.installing; \
               return await step(new Promise(res => {{ \
                 navigator.serviceWorker.onmessage = e => res(String(e.data)); \
                 sw.postMessage(location.origin + '{url}'); }}), 'answer'); \
             }} catch (e) {{ return 'service worker: ' + e; }}"
        ),
        other => panic!("unknown way {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_in_a_url_never_leaves_by_any_api_and_clean_or_allowed_urls_arrive() {
    let s = setup().await;
    let card = CARD.replace(' ', "%20");
    for how in [
        "fetch",
        "image",
        "eventsource",
        "form-get",
        "location",
        "worker",
        "beacon",
        "service-worker",
    ] {
        let blocked = format!("url-{how}-card");
        let got = s
            .run(&send_by(how, &format!("/eg/sink?case={blocked}&cc={card}")))
            .await;
        assert!(s.arrived(&blocked).is_empty(), "{how}: {got}");

        let clean = format!("url-{how}-clean");
        s.run(&send_by(
            how,
            &format!("/eg/sink?case={clean}&cc=hello%20world"),
        ))
        .await;
        s.wait_arrived(&clean).await;

        let open = format!("url-{how}-open");
        s.run(&send_by(
            how,
            &format!("/eg/open/sink?case={open}&cc={card}"),
        ))
        .await;
        let got = s.wait_arrived(&open).await;
        assert!(got[0].uri.contains("4111"), "{got:?}");
    }
    // Encoded in the URL: base64 of the card, and digit groups joined by dots.
    for (case, value) in [
        ("url-base64", "NDExMSAxMTExIDExMTEgMTExMQ=="),
        ("url-dots", "4111.1111.1111.1111"),
    ] {
        s.run(&send_by(
            "fetch",
            &format!("/eg/sink?case={case}&v={value}"),
        ))
        .await;
        assert!(s.arrived(case).is_empty(), "{case}");
    }
    // A top-level navigation shows the block page in place of the site.
    s.run(&format!(
        "setTimeout(() => {{ location = '/eg/sink?case=url-top&cc={card}'; }}, 10); return 1;"
    ))
    .await;
    s.client
        .wait_state("the block page", T, |st| st["title"] == "Blocked by policy")
        .await;
    assert!(s.arrived("url-top").is_empty());
    // Typed in the address bar by the user.
    s.run("setTimeout(() => { location = '/eg/base'; }, 10); return 1;")
        .await;
    s.client
        .wait_state("the base page", T, |st| st["title"] == "Egress base")
        .await;
    let typed = format!("/eg/sink?case=url-typed&cc={}", CARD.replace(' ', ""));
    type_address(&s.client, &s.site.url(&typed)).await;
    s.client
        .wait_state("the block page", T, |st| st["title"] == "Blocked by policy")
        .await;
    assert!(s.arrived("url-typed").is_empty());
    // Without the card, the same typed address arrives.
    type_address(
        &s.client,
        &s.site.url("/eg/sink?case=url-typed-clean&cc=hello"),
    )
    .await;
    s.wait_arrived("url-typed-clean").await;
    s.no_card_anywhere_but_open();
    s.client.close().await;
}

/// Types `url` into the client's address bar and presses Enter.
pub(crate) async fn type_address(client: &Client, url: &str) {
    client.click_ui("[data-role=address]").await;
    client.press("a", 2).await;
    client.type_text(url).await;
    client.press("Enter", 0).await;
}

impl Setup {
    /// Nothing the site received outside `/eg/open/` holds the whole card
    /// number, as digits (with any separators), base64 or hex. (Compressed
    /// bodies are covered by their case never arriving.)
    pub(crate) fn no_card_anywhere_but_open(&self) {
        for r in self.site.requests() {
            if r.uri.starts_with("/eg/open/") {
                continue;
            }
            let all = format!("{} {} {}", r.uri, r.body, r.cookie);
            let digits: String = all.chars().filter(char::is_ascii_digit).collect();
            // Whole, in base64, in hex (half a card may leave: it is no card).
            for (text, needle) in [
                (&digits, "4111111111111111"),
                (&all, "NDExMSAxMTExIDEx"),
                (&all, "3431313120313131312031"),
            ] {
                assert!(!text.contains(needle), "a card reached the site: {r:?}");
            }
        }
    }
}

/// Sends `messages` (JS expressions) on a WebSocket to `path`, then an end
/// marker; resolves when the socket closes or a second after the marker.
pub(crate) fn websocket(path: &str, case: &str, messages: &[&str]) -> String {
    let sends: String = messages.iter().map(|m| format!("ws.send({m});")).collect();
    format!(
        "const enc = s => new TextEncoder().encode(s); \
         const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '{path}'); \
         return await new Promise(res => {{ \
           ws.onopen = () => {{ {sends} ws.send('end case={case}'); setTimeout(() => {{ ws.close(); res('sent'); }}, 1000); }}; \
           ws.onclose = () => res('closed'); ws.onerror = () => res('error'); }});"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_messages_with_a_card_are_stopped_text_or_binary_and_clean_ones_arrive() {
    let s = setup().await;
    let card = format!("'card {CARD}'");
    let card_bin = format!("enc('card {CARD}')");
    let card_b64 = "'payload ' + btoa('card 4111 1111 1111 1111')".to_owned();
    for (case, msg) in [
        ("ws-text", &card),
        ("ws-binary", &card_bin),
        ("ws-base64", &card_b64),
    ] {
        let got = s.run(&websocket("/eg/ws", case, &["'hello'", msg])).await;
        assert_eq!(got, "closed", "{case}: the socket is closed at the card");
        // What came before the card arrived; the card and the end marker did not.
        assert!(s.arrived(case).is_empty(), "{case}");
    }
    // Half a card per message: the second half closes the socket.
    let got = s
        .run(&websocket(
            "/eg/ws",
            "ws-split",
            &["'4111 1111'", "' 1111 1111'"],
        ))
        .await;
    assert_eq!(got, "closed");
    assert!(s.arrived("ws-split").is_empty());
    // Clean text and binary messages arrive whole, as does a card where the rule allows.
    let got = s
        .run(&websocket(
            "/eg/ws",
            "ws-clean",
            &["'hello world'", "enc('binary hello')"],
        ))
        .await;
    assert_eq!(got, "sent");
    s.wait_arrived("ws-clean").await;
    let bodies: Vec<String> = s
        .site
        .requests()
        .into_iter()
        .filter(|r| r.method == "WS")
        .map(|r| r.body)
        .collect();
    assert!(bodies.contains(&"hello world".to_owned()), "{bodies:?}");
    assert!(bodies.contains(&"binary hello".to_owned()), "{bodies:?}");
    s.run(&websocket("/eg/open/ws", "ws-open", &[&card])).await;
    s.wait_arrived("ws-open").await;
    assert!(s
        .site
        .requests()
        .iter()
        .any(|r| r.uri == "/eg/open/ws" && r.body.contains("4111")));
    s.no_card_anywhere_but_open();
    s.client.close().await;
}

/// Precompressed JSON holding the card: `brotli -q 11` and `zstd -19` of
/// `enforcer/tests/decode/payload.json` (see the README there).
const CARD_BR_B64: &str =
    "odABgO04sGPBP7B5dCFghEpvkRiQvekWRJM6LH0wkRPwsEV0tteSLlVgDcdi5H1ULUoIAQY=";
const CARD_ZSTD_B64: &str =
    "KLUv/SQ7jQEA4kIKEbBrDJnlaJlIAqZ0vBTRIMknb4ZWTzs3Te1hBIgozstScnh3nJukuwsBAOAoTj44e38=";

/// Posts a body built by `body` (a JS expression over `text`) with
/// `headers` to `path`; returns the status, or "failed".
pub(crate) fn post(path: &str, case: &str, text: &str, body: &str, headers: &str) -> String {
    format!(
        "const text = {text}; \
         const enc = s => new TextEncoder().encode(s); \
         const hex = s => [...enc(s)].map(b => b.toString(16).padStart(2, '0')).join(''); \
         const b64 = s => btoa(s); \
         const unb64 = s => Uint8Array.from(atob(s), c => c.charCodeAt(0)); \
         const squeeze = async (s, f) => new Uint8Array(await new Response(new Blob([s]).stream().pipeThrough(new CompressionStream(f))).arrayBuffer()); \
         const body = await ({body}); \
         return String(await fetch('{path}?case={case}', {{method: 'POST', headers: {{{headers}}}, body}}).then(r => r.status, e => 'failed'));"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_decoded_before_they_are_scanned_in_every_encoding() {
    let s = setup().await;
    let card_json = format!("JSON.stringify({{card: '{CARD}'}})");
    let clean_json = "JSON.stringify({card: 'hello world'})".to_owned();
    let ct = |t: &str| format!("'Content-Type': '{t}'");
    // (case, body expression over `text`, headers)
    let encodings: Vec<(&str, String, String)> = vec![
        ("base64", "b64(text)".into(), ct("text/plain")),
        ("base64url", "b64(text).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '')".into(), ct("text/plain")),
        ("hex", "hex(text)".into(), ct("text/plain")),
        ("utf16", "new Uint16Array([...text].map(c => c.charCodeAt(0)))".into(), ct("application/octet-stream")),
        ("gzip-raw", "squeeze(text, 'gzip')".into(), ct("application/octet-stream")),
        ("gzip", "squeeze(text, 'gzip')".into(), format!("{}, 'Content-Encoding': 'gzip'", ct("application/json"))),
        ("deflate", "squeeze(text, 'deflate')".into(), format!("{}, 'Content-Encoding': 'deflate'", ct("application/json"))),
        ("percent", "'d=' + encodeURIComponent(b64(text))".into(), ct("application/x-www-form-urlencoded")),
        ("json-escapes", "JSON.stringify({d: [...text].map(c => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('')}).replace(/\\\\\\\\/g, '\\\\')".into(), ct("application/json")),
        ("dots", "text.replace(/(\\d{4}) /g, '$1.')".into(), ct("text/plain")),
        ("multipart", "(() => { const f = new FormData(); f.append('note', 'hi'); f.append('file', new Blob([b64(text)]), 'a.txt'); return f; })()".into(), String::new()),
    ];
    for (name, body, headers) in &encodings {
        let case = format!("enc-{name}-card");
        let got = s
            .run(&post("/eg/sink", &case, &card_json, body, headers))
            .await;
        assert!(s.arrived(&case).is_empty(), "{name}: {got}");
        let case = format!("enc-{name}-clean");
        let got = s
            .run(&post("/eg/sink", &case, &clean_json, body, headers))
            .await;
        assert_eq!(got, "200", "{name}");
        assert_eq!(s.arrived(&case).len(), 1, "{name}");
        let case = format!("enc-{name}-open");
        let got = s
            .run(&post("/eg/open/sink", &case, &card_json, body, headers))
            .await;
        assert_eq!(got, "200", "{name}");
        assert_eq!(s.arrived(&case).len(), 1, "{name}");
    }
    // brotli and zstd bodies made by their reference tools.
    for (name, b64, encoding) in [("br", CARD_BR_B64, "br"), ("zstd", CARD_ZSTD_B64, "zstd")] {
        let headers = format!(
            "{}, 'Content-Encoding': '{encoding}'",
            ct("application/json")
        );
        let case = format!("enc-{name}-card");
        s.run(&post(
            "/eg/sink",
            &case,
            "''",
            &format!("unb64('{b64}')"),
            &headers,
        ))
        .await;
        assert!(s.arrived(&case).is_empty(), "{name}");
        let case = format!("enc-{name}-open");
        s.run(&post(
            "/eg/open/sink",
            &case,
            "''",
            &format!("unb64('{b64}')"),
            &headers,
        ))
        .await;
        assert_eq!(s.arrived(&case).len(), 1, "{name}");
    }
    s.no_card_anywhere_but_open();
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csp_violation_reports_are_scanned() {
    let s = setup().await;
    s.run("setTimeout(() => { location = '/eg/csp/clean'; }, 10); return 1;")
        .await;
    s.wait_arrived("csp-clean").await;
    s.run("setTimeout(() => { location = '/eg/csp/card'; }, 10); return 1;")
        .await;
    s.client
        .wait_state("the card page", T, |st| st["title"] == "CSP card")
        .await;
    // The report is sent after the page loaded; the notice says it was stopped.
    eventually(T, "a submit_blocked notice", || async {
        let st = s.client.state().await;
        st["notices"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["code"] == "submit_blocked"))
            .then_some(())
    })
    .await;
    assert!(s.arrived("csp-card").is_empty());
    s.no_card_anywhere_but_open();
    s.client.close().await;
}

/// Starts a POST of `mb` megabytes of upload-like text (ending in `tail`)
/// to `path`; its outcome lands in `window.big[case]`.
fn big_post(path: &str, case: &str, mb: usize, tail: &str) -> String {
    format!(
        "const line = 'upload-like text line with words and numbers 2026-12-06 abc\\n'; \
         const chunk = line.repeat(Math.ceil(65536 / line.length)).slice(0, 65536); \
         const parts = Array({mb} * 16).fill(chunk); parts.push('{tail}'); \
         window.big = window.big || {{}}; \
         fetch('{path}?case={case}', {{method: 'POST', headers: {{'Content-Type': 'application/octet-stream'}}, body: new Blob(parts)}}) \
           .then(r => r.status, e => 'failed').then(r => {{ window.big['{case}'] = String(r); }}); return 'started';"
    )
}

impl Setup {
    /// Posts a large body and waits (up to five minutes) until the page's
    /// fetch has ended; returns its status (or "failed") and how long it took.
    /// Alone a 200 MB case takes about 22 s, most of it the page's renderer
    /// building and sending the body; in the full parallel test run it gets
    /// a fraction of a core, and two minutes were not always enough.
    pub(crate) async fn big(&self, case: &str, mb: usize, tail: &str) -> (String, Duration) {
        let started = std::time::Instant::now();
        let start = self.run(&big_post("/eg/big", case, mb, tail)).await;
        assert_eq!(start, "started", "{case}");
        let got = eventually(Duration::from_secs(300), case, || async {
            let v = self
                .run(&format!("return (window.big || {{}})['{case}'] || null;"))
                .await;
            // A busy renderer may not answer one poll: ask again.
            v.as_str()
                .filter(|v| !v.starts_with("evaluate failed"))
                .map(str::to_owned)
        })
        .await;
        (got, started.elapsed())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_are_scanned_to_their_end_12_mb_and_200_mb() {
    let s = setup().await;
    let card = format!(" card {CARD}");
    for (mb, tail, case) in [
        (12, " nothing", "big-12-clean"),
        (12, card.as_str(), "big-12-card"),
        (200, card.as_str(), "big-200-card"),
        (200, " nothing", "big-200-clean"),
    ] {
        let (got, took) = s.big(case, mb, tail).await;
        eprintln!("{case}: {got} after {took:?}");
        if tail == card {
            // Refused (a block page or a reset), and nothing complete arrived.
            assert_ne!(got, "200", "{case}");
            assert!(s.arrived(case).is_empty(), "{case}");
        } else {
            assert_eq!(got, "200", "{case}");
            let arrived = s.arrived(case);
            let want = format!("{} bytes, card false", mb * 1024 * 1024 + tail.len());
            assert_eq!(arrived.len(), 1, "{case}");
            assert_eq!(arrived[0].body, want, "{case}");
        }
    }
    s.no_card_anywhere_but_open();
    s.client.close().await;
}
