//! The OpenAPI 3.1 document of the admin API, `GET /api/v1/openapi.json`.
//!
//! It is data (`openapi.json` next to this file), included at compile time;
//! the test below checks it parses and documents every route of
//! [`super::routes`], and nothing that is not a route.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::Admin;

/// The document's text.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn serve(_admin: Admin) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

#[cfg(test)]
mod tests {
    use super::OPENAPI_JSON;

    #[test]
    fn documents_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let routes = super::super::endpoints();
        for (method, path) in &routes {
            let m = method.as_str().to_ascii_lowercase();
            assert!(
                doc["paths"][path][&m].is_object(),
                "{method} {path} is not in openapi.json"
            );
        }
        let paths = doc["paths"].as_object().unwrap();
        for (path, ops) in paths {
            for m in ops.as_object().unwrap().keys() {
                assert!(
                    routes
                        .iter()
                        .any(|(rm, rp)| rp == path && rm.as_str().eq_ignore_ascii_case(m)),
                    "openapi.json documents {m} {path}, which is not a route"
                );
            }
        }
    }
}
