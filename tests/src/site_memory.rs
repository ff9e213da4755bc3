//! Test-site pages for the memory-exhaustion attacks: a page whose only
//! content is a link to an attachment of any size, generated while it is
//! sent (never held in memory), with or without a `Content-Length`; and a
//! page that is one big file input (it sends nothing itself).

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

/// One MiB of zeros, the attachment's every chunk.
static ZEROS: [u8; 1 << 20] = [0; 1 << 20];

/// The pages (merged into the test site).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/memory/download/{mib}", get(download_page))
        .route("/memory/huge/{mib}", get(huge))
        .route("/memory/upload", get(upload_page))
}

#[derive(Deserialize)]
struct HugeQuery {
    /// Announce the size in `Content-Length` (otherwise chunked: the
    /// browser learns the size only as the bytes arrive).
    #[serde(default)]
    length: bool,
}

/// A page-wide link to `/memory/huge/{mib}` (query passed on).
async fn download_page(Path(mib): Path<u64>, uri: axum::http::Uri) -> Html<String> {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Html(format!(
        "<!doctype html><title>Huge download</title>\
         <style>body{{margin:0}}a{{position:absolute;inset:0;display:block;font:28px sans-serif}}</style>\
         <a id=dl href=/memory/huge/{mib}{query}>Download {mib} MiB</a>"
    ))
}

/// A file input covering the page.
async fn upload_page() -> Html<&'static str> {
    Html(
        "<!doctype html><title>Upload</title>\
         <style>body{margin:0}input{position:absolute;left:0;top:0;width:100%;height:300px}</style>\
         <input type=file id=file multiple>",
    )
}

/// `mib` MiB of zeros as an attachment, generated chunk by chunk.
async fn huge(Path(mib): Path<u64>, Query(q): Query<HugeQuery>) -> Response {
    let chunks = futures::stream::iter(
        (0..mib).map(|_| Ok::<_, std::convert::Infallible>(Bytes::from_static(&ZEROS))),
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"huge.bin\"".to_owned(),
            ),
        ],
        Body::from_stream(chunks),
    )
        .into_response();
    if q.length {
        let len = (mib << 20).to_string();
        response.headers_mut().insert(
            header::CONTENT_LENGTH,
            len.parse().expect("a number is a header value"),
        );
    }
    response
}
