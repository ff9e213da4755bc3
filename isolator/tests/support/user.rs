//! A user's browser as the tests drive it over HTTP: the login form, the
//! API requests the web client sends, a new session.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{json, Value};

/// Signs `user` in with `password` through `base` as a browser's form post
/// does; the value of the cookie header it then sends.
pub async fn login(base: &str, user: &str, password: &str) -> String {
    try_login(base, user, password)
        .await
        .unwrap_or_else(|| panic!("{user} was not signed in at {base}"))
}

/// [`login`], or `None` when the server refuses it (no login cookie).
pub async fn try_login(base: &str, user: &str, password: &str) -> Option<String> {
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}/login"))
        .header("origin", base)
        .form(&[("username", user), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    let cookie = res.headers().get("set-cookie")?.to_str().unwrap();
    Some(cookie.split(';').next().unwrap().to_owned())
}

/// A request as the web client at `base` sends it: its origin, the header
/// the API requires, and the login `cookie` if there is one.
pub fn request(
    base: &str,
    method: reqwest::Method,
    path: &str,
    cookie: Option<&str>,
) -> reqwest::RequestBuilder {
    let req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("origin", base)
        .header("x-isolator-request", "1");
    match cookie {
        Some(c) => req.header("cookie", c),
        None => req,
    }
}

/// `POST /api/sessions` (`about:blank`, 640×480) as the web client sends
/// it: the status, and the body (null if it is not JSON).
pub async fn create(base: &str, cookie: Option<&str>) -> (StatusCode, Value) {
    let res = request(base, reqwest::Method::POST, "/api/sessions", cookie)
        .json(&json!({ "url": "about:blank", "width": 640, "height": 480, "dpr": 1 }))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}
