//! Test pages for the keyboard, paste and copy gates.
//!
//! Every page posts what the isolated page holds back to the site (which
//! records it), so a test can prove what did and did not reach the page.

use axum::response::Html;
use axum::routing::get;
use axum::Router;

use crate::site::Log;

/// The pages, merged into the test site's router.
pub fn routes() -> Router<Log> {
    Router::new()
        .route("/gates/field", get(field))
        .route("/gates/keylog", get(keylog))
        .route("/gates/alert-card", get(alert_card))
        .route("/gates/card-title", get(card_title))
        .route("/gates/boxes", get(boxes))
        .route("/gates/drag", get(drag))
        .route("/gates/frame-field", get(frame_field))
        .route("/gates/inner-field", get(inner_field))
        .route("/gates/copy", get(copy))
        .route("/gates/clipboard-probe", get(probe))
}

fn doc(title: &str, body: &str, script: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>\
         <style>body{{font:20px sans-serif;margin:0;padding:20px}}\
         #t{{position:absolute;left:20px;top:100px;width:700px;height:120px;font-size:20px}}\
         #secret{{position:absolute;left:20px;top:100px;font-size:28px}}\
         button{{position:absolute;left:20px;width:300px;height:50px;font-size:20px}}\
         #b1{{top:250px}} #b2{{top:320px}} #b3{{top:390px}}</style></head>\
         <body>{body}<script>{script}</script></body></html>"
    ))
}

/// A textarea (focused) whose value the page posts to `/gates/report`
/// every time a button is clicked, and on demand via `#b1`.
async fn field() -> Html<String> {
    doc(
        "Field",
        "<textarea id=t autofocus></textarea><button id=b1>Report</button>",
        "const t = document.getElementById('t'); t.focus();\
         document.getElementById('b1').onclick = () => fetch('/gates/report', {method: 'POST', body: 'value=' + t.value});",
    )
}

/// A text input whose page logs every key event it sees (`keydown`,
/// `keypress`, `keyup`, `beforeinput`, `input`), as a key-logging page does,
/// and posts the log and the value to `/gates/report` when `#b1` is clicked:
/// `keys=<key of every keyup>&data=<data of every input>&value=<value>&most=<n>`,
/// `n` the most digits in one run of digits, spaces and dashes the field
/// held after any input event.
async fn keylog() -> Html<String> {
    doc(
        "Keylog",
        "<input id=t autofocus style='position:absolute;left:20px;top:100px;width:700px;font-size:24px'>\
         <button id=b1>Report</button>",
        "const t = document.getElementById('t'); t.focus();\
         const ups = [], downs = [], data = [];\
         for (const k of ['keyup']) t.addEventListener(k, (e) => ups.push(e.key));\
         for (const k of ['keydown', 'keypress']) t.addEventListener(k, (e) => downs.push(e.key));\
         for (const k of ['beforeinput', 'input']) t.addEventListener(k, (e) => data.push(e.data || ''));\
         let most = 0; t.addEventListener('input', () => { for (const run of t.value.match(/[0-9][0-9 -]*/g) || [])\
           most = Math.max(most, run.replace(/[^0-9]/g, '').length); });\
         document.getElementById('b1').onclick = () => fetch('/gates/report', {method: 'POST',\
           body: 'keys=' + ups.join('') + '&downs=' + downs.join('') + '&data=' + data.join('') + '&value=' + t.value + '&most=' + most});",
    )
}

/// A card form of four boxes that logs every key-up its page sees and
/// posts `keys=<keyups>&value=<the four values joined by spaces>` when `#b1`
/// is clicked.
async fn boxes() -> Html<String> {
    doc(
        "Boxes",
        "<form id=f style='position:absolute;left:20px;top:100px'>\
         <input name=c1 size=4 autofocus><input name=c2 size=4><input name=c3 size=4><input name=c4 size=4></form>\
         <button id=b1>Report</button>",
        "const f = document.getElementById('f'); f.c1.focus(); const ups = [];\
         f.addEventListener('keyup', (e) => ups.push(e.key));\
         document.getElementById('b1').onclick = () => fetch('/gates/report', {method: 'POST',\
           body: 'keys=' + ups.join('') + '&value=' + [f.c1, f.c2, f.c3, f.c4].map((i) => i.value).join(' ')});",
    )
}

/// A page framing `/gates/inner-field` of this site under the name
/// `localhost` (another site than `127.0.0.1`, so an out-of-process frame
/// the server's page script does not run in) at (20, 100), 640x80.
async fn frame_field(headers: axum::http::HeaderMap) -> Html<String> {
    let port = crate::site::request_port(&headers);
    doc(
        "Framed field",
        &format!(
            "<iframe src='http://localhost:{port}/gates/inner-field' \
             style='position:absolute;left:20px;top:100px;width:640px;height:80px;border:0'></iframe>"
        ),
        "",
    )
}

/// A text input in a monospace font at the frame's top left, whose page
/// posts `value=<value>` to `/gates/report` after every input event.
async fn inner_field() -> Html<String> {
    Html(
        "<!doctype html><html><head><meta charset=utf-8><title>inner</title></head>\
         <body style='margin:0'><input id=t style='font:24px monospace;border:0;padding:0;margin:0;width:620px;outline:none'>\
         <script>const t = document.getElementById('t');\
         t.addEventListener('input', () => fetch('/gates/report', {method: 'POST', body: 'value=' + t.value}));</script>\
         </body></html>"
            .to_owned(),
    )
}

/// Three textareas for dragging text from one into another: `#a` (empty,
/// for the user to type into) above `#b` (holding the second half of a
/// card number) and `#c` (holding clean words); `#b1` posts
/// `a=<value>&b=<value>&c=<value>&drops=<drop events seen>`.
async fn drag() -> Html<String> {
    let area = |id: &str, top: u32, text: &str| {
        format!(
            "<textarea id={id} style='position:absolute;left:20px;top:{top}px;width:600px;height:50px;\
             font:24px monospace'>{text}</textarea>"
        )
    };
    doc(
        "Drag",
        &format!(
            "{}{}{}<button id=b1 style='top:400px'>Report</button>",
            area("a", 100, ""),
            area("b", 200, "1111 1111"),
            area("c", 300, "hello world")
        ),
        "const [a, b, c] = ['a', 'b', 'c'].map((id) => document.getElementById(id)); let drops = 0;\
         for (const t of [a, b, c]) t.addEventListener('drop', () => drops++);\
         document.getElementById('b1').onclick = () => fetch('/gates/report', {method: 'POST',\
           body: 'a=' + a.value + '&b=' + b.value + '&c=' + c.value + '&drops=' + drops});",
    )
}

/// A page whose title and `alert()` carry a card number (text the client
/// draws itself: the tab, the window title, the dialog).
async fn card_title() -> Html<String> {
    doc(
        "Order 4111 1111 1111 1111",
        "<button id=b1>Show</button>",
        "document.getElementById('b1').onclick = () => alert('Charged to 4111 1111 1111 1111');",
    )
}

/// A link that shows a card number in an `alert()` (text the client draws
/// in its own dialog).
async fn alert_card() -> Html<String> {
    doc(
        "Alert",
        "<button id=b1>Show</button>",
        "document.getElementById('b1').onclick = () => { alert('Your card 4111 1111 1111 1111 is saved'); document.title = 'Shown'; };",
    )
}

/// Text to copy with Ctrl+A/Ctrl+C, and buttons that copy through the
/// async clipboard API and `execCommand('copy')`.
async fn copy() -> Html<String> {
    doc(
        "Copy",
        "<p id=secret>Invoice paid with card 4111 1111 1111 1111 today</p>\
         <button id=b1>Copy clean</button><button id=b2>Copy card</button><button id=b3>execCommand</button>",
        "document.getElementById('b1').onclick = () => navigator.clipboard.writeText('hello from the page');\
         document.getElementById('b2').onclick = () => navigator.clipboard.writeText('pay 5500 0000 0000 0004 now');\
         document.getElementById('b3').onclick = () => {\
           const d = document.createElement('textarea'); d.value = 'exec copy words'; document.body.appendChild(d);\
           d.select(); document.execCommand('copy'); d.remove(); };",
    )
}

/// Tries every way a page could read Chromium's shared clipboard, and
/// posts what it got to `/gates/report`.
async fn probe() -> Html<String> {
    doc(
        "Probe",
        "<textarea id=t autofocus></textarea><button id=b1>Probe</button>",
        "const t = document.getElementById('t'); t.focus();\
         const run = async () => {\
           t.focus(); t.value = ''; let exec = 'x';\
           try { exec = String(document.execCommand('paste')) + ':' + t.value; } catch (e) { exec = 'error'; }\
           let api = '';\
           try { api = await navigator.clipboard.readText(); } catch (e) { api = 'denied'; }\
           await fetch('/gates/report', {method: 'POST', body: 'exec=' + exec + '&api=' + api + '&field=' + t.value});\
         };\
         document.getElementById('b1').onclick = run;",
    )
}
