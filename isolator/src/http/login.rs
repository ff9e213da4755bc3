//! The login form (`auth.mode = "static"`): `GET /login`, `POST /login`,
//! `POST /logout`.
//!
//! - **Login CSRF**: a cross-site form could post the attacker's own user
//!   name and password, signing the victim in as the attacker (who then sees
//!   what the victim browses). A post is refused unless the browser says it
//!   comes from this server's own page: `Sec-Fetch-Site: same-origin` (or
//!   `none`, typed by the user), and an `Origin` naming this server (the
//!   request's own `Host`, or any name the server answers to, for proxies
//!   that rewrite `Host`). `Origin:
//!   null` (sandboxed frames, and posts from pages under a `no-referrer`
//!   policy) passes only with `Sec-Fetch-Site: same-origin`. Clients that
//!   send neither header (curl, scripts) are not browsers and carry no victim.
//! - **Open redirect**: `next` is followed only when it is a path on this
//!   server ([`safe_next`]); anything else lands on `/`.
//! - Failed attempts are slowed per (user, client address), see
//!   [`crate::auth::throttle`].

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::auth::config::AuthMode;
use crate::auth::{LoginError, LOGIN_COOKIE};
use crate::http::guard::{origin_authority, same_origin};
use crate::http::host_check::AllowedHosts;
use crate::http::{api_error, AppState};

/// The login routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

async fn login_page(State(state): State<AppState>) -> Response {
    if state.auth.mode() != AuthMode::Static {
        return Redirect::to("/").into_response();
    }
    crate::http::pages::static_file(&state, "login.html").await
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Whether a login post comes from this server's own page (see the module
/// docs); `Err` says why not. `hosts` are the names the server answers to.
pub fn login_post_allowed(headers: &HeaderMap, hosts: &AllowedHosts) -> Result<(), &'static str> {
    let fetch_site = headers.get("sec-fetch-site").map(|v| v.as_bytes());
    match fetch_site {
        None | Some(b"same-origin") | Some(b"none") => {}
        Some(_) => return Err("the sign-in form was posted from another site"),
    }
    match headers.get(header::ORIGIN).map(|v| v.as_bytes()) {
        None => Ok(()),
        Some(b"null") if fetch_site == Some(b"same-origin") => Ok(()),
        Some(_) if same_origin(headers) => Ok(()),
        Some(o)
            if std::str::from_utf8(o)
                .ok()
                .and_then(origin_authority)
                .is_some_and(|a| hosts.allows(&a)) =>
        {
            Ok(())
        }
        Some(_) => Err("the sign-in form was posted from another origin"),
    }
}

/// `next` if it is a path on this server, else `/`.
///
/// Accepted: printable ASCII without spaces or backslashes, starting with
/// one `/` but not `//`, whose path (before `?`/`#`) still satisfies that
/// after percent-decoding (up to three rounds, for double encoding). So
/// `/%09/evil.example/` (browsers drop tabs: `//evil.example/`),
/// `/%5Cevil.example`, `/%2F/evil.example`, `//evil.example`,
/// `https://evil.example` and `javascript:` all become `/`.
pub fn safe_next(next: &str) -> &str {
    fn plain_path(p: &[u8]) -> bool {
        p.first() == Some(&b'/')
            && !matches!(p.get(1), Some(b'/' | b'\\'))
            && p.iter().all(|&b| b.is_ascii_graphic() && b != b'\\')
    }
    if next.len() > 4096 || !plain_path(next.as_bytes()) {
        return "/";
    }
    let end = next.find(['?', '#']).unwrap_or(next.len());
    let mut path = next.as_bytes()[..end].to_vec();
    for _ in 0..3 {
        let decoded = percent_decode(&path);
        if !plain_path(&decoded) {
            return "/";
        }
        if decoded == path {
            return next;
        }
        path = decoded;
    }
    // Still changing after three rounds: not a path anyone links to.
    "/"
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

async fn login(
    State(state): State<AppState>,
    super::client_addr::Client(peer): super::client_addr::Client,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(why) = login_post_allowed(&headers, &state.hosts) {
        tracing::warn!(%peer, "cross-site login post refused");
        return api_error(
            StatusCode::FORBIDDEN,
            "cross_site",
            &format!("{why}: sign in on this server's own login page"),
        );
    }
    let next = safe_next(&form.next).to_owned();
    let auth = state.auth.clone();
    let (name, password) = (form.username, form.password);
    let result = tokio::task::spawn_blocking(move || auth.login(&name, &password, peer)).await;
    let back = |error: &str| {
        let next = url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
        Redirect::to(&format!("/login?error={error}&next={next}")).into_response()
    };
    match result {
        Ok(Ok(token)) => {
            share_login(&state, &token).await;
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, login_cookie(&state, &token));
            res
        }
        Ok(Err(LoginError::Throttled(secs))) => {
            let mut res = back(&format!("wait&retry={secs}"));
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            res
        }
        Ok(Err(LoginError::NotStatic)) => Redirect::to("/").into_response(),
        Ok(Err(LoginError::Wrong)) | Err(_) => back("1"),
    }
}

/// In a cluster, every node must recognise a login made here.
pub async fn share_login(state: &AppState, token: &str) {
    if let (Some(cluster), Some((user, left))) =
        (state.cluster.as_ref(), state.auth.login_of(token))
    {
        if let Err(e) = cluster
            .logins()
            .store(crate::auth::token_key(token), &user, left)
            .await
        {
            tracing::warn!(error = %e, "login not shared with the cluster: other nodes will ask to sign in again");
        }
    }
}

/// The `Set-Cookie` value of a login token.
pub fn login_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.auth.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.auth.login_ttl_secs()
    );
    HeaderValue::from_str(&cookie).expect("cookie is ASCII")
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let (Some(key), Some(cluster)) = (state.auth.logout(&headers), state.cluster.as_ref()) {
        if let Err(e) = cluster.logins().remove(key).await {
            tracing::warn!(error = %e, "logout not shared with the cluster");
        }
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("isolator_login=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_ever_a_path_here() {
        for (next, want) in [
            ("/admin/", "/admin/"),
            ("/", "/"),
            (
                "/?url=https%3A%2F%2Fexample.com%2F",
                "/?url=https%3A%2F%2Fexample.com%2F",
            ),
            ("/admin/recordings.html#s=1", "/admin/recordings.html#s=1"),
            ("/a%20b", "/"),
            ("", "/"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("/%5Cevil.example", "/"),
            ("/%5cevil.example", "/"),
            ("/%09/evil.example/", "/"),
            ("/\t/evil.example/", "/"),
            ("/\n/evil.example/", "/"),
            ("/%0a/evil.example/", "/"),
            ("/%2F/evil.example", "/"),
            ("/%2f/evil.example", "/"),
            ("/%252F/evil.example", "/"),
            ("/%25252F/evil.example", "/"),
            ("https://evil.example", "/"),
            ("javascript:alert(1)", "/"),
            ("/javascript:alert(1)", "/javascript:alert(1)"),
            (" /admin/", "/"),
            ("/admin/\u{0}", "/"),
            ("/admin/\u{7f}", "/"),
            ("/é", "/"),
            ("/a?x=\u{1b}", "/"),
            ("/%", "/%"),
            ("/%zz", "/%zz"),
        ] {
            assert_eq!(safe_next(next), want, "{next:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(5000))), "/");
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn login_posts_from_other_sites_are_refused() {
        let ok = [
            vec![],
            vec![("origin", "http://127.0.0.1:8080")],
            vec![
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin"),
            ],
            vec![("origin", "null"), ("sec-fetch-site", "same-origin")],
            vec![("sec-fetch-site", "none")],
        ];
        let hosts = AllowedHosts::new(
            &["127.0.0.1:8080".parse().unwrap()],
            &["rbi.example.com".into()],
        );
        for h in ok {
            assert_eq!(login_post_allowed(&headers(&h), &hosts), Ok(()), "{h:?}");
        }
        // A proxy that rewrites Host: the page's origin is the public name.
        let h = headers(&[
            ("origin", "https://rbi.example.com"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(login_post_allowed(&h, &hosts), Ok(()));
        let refused = [
            vec![("origin", "http://evil.example")],
            vec![("origin", "https://rbi.example.com.evil.example")],
            vec![("origin", "http://127.0.0.1:8081")],
            vec![("origin", "null")],
            vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "cross-site"),
            ],
        ];
        for h in refused {
            assert!(login_post_allowed(&headers(&h), &hosts).is_err(), "{h:?}");
        }
    }
}
