//! Test-site pages for the upload, download and print gates: a form that
//! posts the chosen file as soon as it is chosen, a page-wide download link
//! to a known file, and a page that prints itself.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::Router;

/// The bytes `/files/report.txt` serves.
pub const DOWNLOAD_BYTES: &[u8] = b"Quarterly report\nrevenue 1234\nno secrets here\n";
/// The bytes `/files/leak.txt` serves (a card number the scan finds).
pub const LEAK_BYTES: &[u8] = b"customer card 4111 1111 1111 1111 exp 12/29\n";
/// Text on the print page (its PDF must contain it).
pub const PRINT_TEXT: &str = "Printable quarterly summary";

/// The pages (merged into the test site).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/files/upload", get(upload_page))
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

async fn upload_page() -> Html<String> {
    Html(format!(
        "<!doctype html><title>Upload</title>{STYLE}\
         <form id=f method=post action=/files/received enctype=multipart/form-data>\
         <input class=big type=file id=file name=file accept=\".txt,.docx\"></form>\
         <script>document.getElementById('file').onchange=async (e)=>{{document.title='chosen';\
         const f=e.target.files[0]; const t=await f.text();\
         await fetch('/files/received',{{method:'POST',body:'filename='+f.name+' '+t}});}};</script>"
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
