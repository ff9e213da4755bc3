//! Test-site pages for the upload, download and print gates: a multipart
//! form (a text field and a file input) that is sent as soon as a file is
//! chosen, by `form.submit()` or by `fetch(FormData)`; a page-wide download
//! link to a known file, and a page that prints itself.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::Router;

/// The bytes `/files/report.txt` serves.
pub const DOWNLOAD_BYTES: &[u8] = b"Quarterly report\nrevenue 1234\nno secrets here\n";
/// The bytes `/files/leak.txt` serves (a card number the scan finds).
pub const LEAK_BYTES: &[u8] = b"customer card 4111 1111 1111 1111 exp 12/29\n";
/// The value of the upload form's text field on `/files/upload/submit-card`
/// (a card number the submit scan finds).
pub const FORM_CARD: &str = "4111 1111 1111 1111";
/// The value of the upload form's text field on the other upload pages.
pub const FORM_NOTE: &str = "see the attached notes";
/// Text on the print page (its PDF must contain it).
pub const PRINT_TEXT: &str = "Printable quarterly summary";

/// The pages (merged into the test site).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/files/upload/{how}", get(upload_page))
        .route("/files/received", post(|| async { "received" }))
        .route("/files/download/{name}", get(download_page))
        .route(
            "/files/report.txt",
            get(|| async { attachment("report.txt", DOWNLOAD_BYTES) }),
        )
        .route(
            "/files/leak.txt",
            get(|| async { attachment("leak.txt", LEAK_BYTES) }),
        )
        .route("/files/print", get(print_page))
}

fn attachment(name: &str, bytes: &'static [u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/plain".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
}

const STYLE: &str = "<style>body{margin:0;font:20px sans-serif}\
    .big{position:absolute;left:0;top:0;width:100%;height:300px;display:block;font-size:28px}</style>";

/// The upload form; `how` says how it is sent once a file is chosen:
/// `submit` (a document form post), `fetch` (`fetch` with the form's
/// `FormData`), `submit-card` (a form post whose text field holds a card
/// number).
async fn upload_page(axum::extract::Path(how): axum::extract::Path<String>) -> Html<String> {
    let (note, send) = match how.as_str() {
        "fetch" => (
            FORM_NOTE,
            "fetch('/files/received',{method:'POST',body:new FormData(f)})\
             .then(r=>{document.title='sent '+r.status;},e=>{document.title='fetch failed';});",
        ),
        "submit-card" => (FORM_CARD, "f.submit();"),
        _ => (FORM_NOTE, "f.submit();"),
    };
    Html(format!(
        "<!doctype html><title>Upload</title>{STYLE}\
         <form id=f method=post action=/files/received enctype=multipart/form-data>\
         <input class=big type=file id=file name=file accept=\".txt,.docx\">\
         <input name=note value=\"{note}\" style=position:absolute;top:320px></form>\
         <script>const f=document.getElementById('f');\
         document.getElementById('file').onchange=()=>{{document.title='chosen';{send}}};</script>"
    ))
}

async fn download_page(axum::extract::Path(name): axum::extract::Path<String>) -> Html<String> {
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    Html(format!(
        "<!doctype html><title>Download</title>{STYLE}<a class=big id=dl href=/files/{name}>Download {name}</a>"
    ))
}

async fn print_page() -> Html<String> {
    Html(format!(
        "<!doctype html><title>Print me</title>{STYLE}<h1>{PRINT_TEXT}</h1>\
         <button class=big style=top:200px id=p onclick=window.print()>Print</button>"
    ))
}
