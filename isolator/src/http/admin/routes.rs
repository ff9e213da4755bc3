//! The admin routes, as one table: the router is built from it and the
//! OpenAPI test checks every entry is documented.

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use policies::{AppDoc, DetectorDoc, ProfileDoc, RuleDoc};

use super::{
    documents, fingerprints, history, items, openapi, pages, rules, sessions, test_bench, tokens,
    users,
};
use crate::http::AppState;

/// One route: method, path (axum syntax, which is also OpenAPI's), handler.
struct Route(Method, &'static str, MethodRouter<AppState>);

fn crud<T: items::Item>(base: &'static str, one: &'static str) -> Vec<Route> {
    vec![
        Route(Method::GET, base, get(items::list::<T>)),
        Route(Method::POST, base, post(items::create::<T>)),
        Route(Method::GET, one, get(items::get_one::<T>)),
        Route(Method::PUT, one, put(items::replace::<T>)),
        Route(Method::DELETE, one, delete(items::delete::<T>)),
    ]
}

fn table() -> Vec<Route> {
    let mut t = vec![
        Route(Method::GET, "/admin", get(pages::index)),
        Route(Method::GET, "/admin/", get(pages::index)),
        Route(Method::GET, "/api/v1/openapi.json", get(openapi::serve)),
        Route(
            Method::GET,
            "/api/v1/document",
            get(documents::get_document),
        ),
        Route(
            Method::PUT,
            "/api/v1/document",
            put(documents::put_document),
        ),
        Route(
            Method::POST,
            "/api/v1/document/validate",
            post(documents::validate_document),
        ),
        Route(Method::PUT, "/api/v1/rule-order", put(rules::reorder)),
        Route(
            Method::POST,
            "/api/v1/test",
            post(test_bench::run_test).layer(DefaultBodyLimit::max(
                test_bench::MAX_SAMPLE_BYTES + 64 * 1024,
            )),
        ),
        Route(Method::GET, "/api/v1/sessions", get(sessions::list)),
        Route(
            Method::DELETE,
            "/api/v1/sessions/{id}",
            delete(sessions::terminate),
        ),
        Route(Method::GET, "/api/v1/cluster/nodes", get(sessions::nodes)),
        Route(
            Method::PUT,
            "/api/v1/cluster/nodes/{id}/drain",
            put(sessions::drain),
        ),
        Route(Method::GET, "/api/v1/fingerprints", get(fingerprints::list)),
        Route(
            Method::POST,
            "/api/v1/fingerprints",
            post(fingerprints::add).layer(DefaultBodyLimit::max(
                fingerprints::MAX_DOCUMENT_BYTES + 64 * 1024,
            )),
        ),
        Route(
            Method::DELETE,
            "/api/v1/fingerprints/{id}",
            delete(fingerprints::remove),
        ),
        Route(Method::GET, "/api/v1/users", get(users::list)),
        Route(Method::POST, "/api/v1/users", post(users::create)),
        Route(Method::GET, "/api/v1/users/{name}", get(users::get_one)),
        Route(Method::PATCH, "/api/v1/users/{name}", patch(users::update)),
        Route(
            Method::DELETE,
            "/api/v1/users/{name}",
            delete(users::delete),
        ),
        Route(Method::GET, "/api/v1/tokens", get(tokens::list)),
        Route(Method::POST, "/api/v1/tokens", post(tokens::create)),
        Route(
            Method::DELETE,
            "/api/v1/tokens/{name}",
            delete(tokens::delete),
        ),
        Route(Method::GET, "/api/v1/history", get(history::list)),
        Route(
            Method::GET,
            "/api/v1/history/{version}",
            get(history::get_version),
        ),
        Route(
            Method::POST,
            "/api/v1/history/{version}/rollback",
            post(history::rollback),
        ),
    ];
    t.extend(crud::<AppDoc>("/api/v1/apps", "/api/v1/apps/{name}"));
    t.extend(crud::<RuleDoc>("/api/v1/rules", "/api/v1/rules/{name}"));
    t.extend(crud::<ProfileDoc>(
        "/api/v1/profiles",
        "/api/v1/profiles/{id}",
    ));
    t.extend(crud::<DetectorDoc>(
        "/api/v1/detectors",
        "/api/v1/detectors/{id}",
    ));
    t
}

/// The admin API and pages, to merge into the server's router.
pub fn routes() -> Router<AppState> {
    table()
        .into_iter()
        .fold(Router::new(), |r, Route(_, path, handler)| {
            r.route(path, handler)
        })
}

/// Every `(method, path)` the admin router serves.
pub fn endpoints() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|Route(m, p, _)| (m, p)).collect()
}
