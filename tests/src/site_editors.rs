//! Test pages with real editors from npm (Quill 2, ProseMirror, CodeMirror 5
//! and 6;
//! `tests/editors/package.json`, installed by `make test` with `npm ci`), each
//! logging every key-up its page sees and posting `keys=<key-ups>&value=<the
//! editor's text>` to `/gates/report` when `#b1` is clicked. The libraries
//! are served from `tests/editors/node_modules` under `/editors/lib/`.

use std::path::{Component, Path, PathBuf};

use axum::extract::Path as UrlPath;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Where `npm ci` put the editors.
pub fn editors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/node_modules")
}

/// The pages and the libraries, merged into the test site's router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/editors/lib/{*path}", get(lib))
        .route("/editors/quill", get(quill))
        .route("/editors/prosemirror", get(prosemirror))
        .route("/editors/codemirror5", get(codemirror5))
        .route("/editors/codemirror6", get(codemirror6))
}

async fn lib(UrlPath(path): UrlPath<String>) -> Response {
    let rel = Path::new(&path);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let file = editors_dir().join(rel);
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match tokio::fs::read(&file).await {
        Ok(body) => ([(header::CONTENT_TYPE, kind)], body).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A page holding `editor` (markup), `head` (styles, scripts) and `script`
/// (which must define `window.editorText()` and focus the editor).
fn page(title: &str, head: &str, editor: &str, script: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>{head}\
         <style>body{{font:20px sans-serif;margin:0;padding:20px}}\
         #wrap{{position:absolute;left:20px;top:60px;width:700px;height:150px}}\
         #b1{{position:absolute;left:20px;top:250px;width:300px;height:50px;font-size:20px}}</style></head>\
         <body><div id=wrap>{editor}</div><button id=b1>Report</button>\
         <script>const ups = []; document.addEventListener('keyup', (e) => ups.push(e.key), true);\
         document.getElementById('b1').onclick = () => fetch('/gates/report', {{method: 'POST',\
           body: 'keys=' + ups.join('') + '&value=' + window.editorText()}});</script>\
         {script}</body></html>"
    ))
}

async fn quill() -> Html<String> {
    page(
        "Quill",
        "<link rel=stylesheet href=/editors/lib/quill/dist/quill.snow.css>\
         <script src=/editors/lib/quill/dist/quill.js></script>",
        "<div id=ed style='height:120px'></div>",
        "<script>const q = new Quill('#ed', { theme: 'snow' }); q.focus();\
         window.editorText = () => q.getText().trim();</script>",
    )
}

async fn prosemirror() -> Html<String> {
    let map = [
        "prosemirror-model",
        "prosemirror-state",
        "prosemirror-view",
        "prosemirror-transform",
        "prosemirror-keymap",
        "prosemirror-commands",
        "prosemirror-schema-basic",
        "orderedmap",
    ]
    .iter()
    .map(|p| format!("\"{p}\": \"/editors/lib/{p}/dist/index.js\""))
    .chain(std::iter::once(
        "\"w3c-keyname\": \"/editors/lib/w3c-keyname/index.js\"".to_owned(),
    ))
    .collect::<Vec<_>>()
    .join(",");
    page(
        "ProseMirror",
        &format!(
            "<script type=importmap>{{\"imports\": {{{map}}}}}</script>\
             <style>.ProseMirror{{border:1px solid #888;min-height:100px;padding:8px;white-space:pre-wrap}}</style>"
        ),
        "<div id=ed></div>",
        "<script type=module>\
         import { schema } from 'prosemirror-schema-basic';\
         import { EditorState } from 'prosemirror-state';\
         import { EditorView } from 'prosemirror-view';\
         import { keymap } from 'prosemirror-keymap';\
         import { baseKeymap } from 'prosemirror-commands';\
         const view = new EditorView(document.getElementById('ed'), {\
           state: EditorState.create({ schema, plugins: [keymap(baseKeymap)] }) });\
         view.focus(); window.editorText = () => view.state.doc.textContent;\
         document.title = 'ProseMirror ready';</script>",
    )
}

async fn codemirror5() -> Html<String> {
    page(
        "CodeMirror",
        "<link rel=stylesheet href=/editors/lib/codemirror/lib/codemirror.css>\
         <script src=/editors/lib/codemirror/lib/codemirror.js></script>",
        "<div id=ed></div>",
        "<script>const cm = CodeMirror(document.getElementById('ed'), { lineNumbers: false });\
         cm.setSize(700, 120); cm.focus(); window.editorText = () => cm.getValue();</script>",
    )
}

async fn codemirror6() -> Html<String> {
    let map = [
        ("@codemirror/view", "@codemirror/view/dist/index.js"),
        ("@codemirror/state", "@codemirror/state/dist/index.js"),
        ("style-mod", "style-mod/src/style-mod.js"),
        ("crelt", "crelt/index.js"),
        ("w3c-keyname", "w3c-keyname/index.js"),
        (
            "@marijn/find-cluster-break",
            "@marijn/find-cluster-break/src/index.js",
        ),
    ]
    .iter()
    .map(|(k, v)| format!("\"{k}\": \"/editors/lib/{v}\""))
    .collect::<Vec<_>>()
    .join(",");
    page(
        "CodeMirror 6",
        &format!(
            "<script type=importmap>{{\"imports\": {{{map}}}}}</script>\
             <style>.cm-editor{{border:1px solid #888;height:120px}}</style>"
        ),
        "<div id=ed></div>",
        "<script type=module>\
         import { EditorView } from '@codemirror/view';\
         const view = new EditorView({ doc: '', parent: document.getElementById('ed') });\
         view.focus(); window.editorText = () => view.state.doc.toString();\
         document.title = 'CodeMirror 6 ready';</script>",
    )
}
