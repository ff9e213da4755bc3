//! The guard every request passes: the CSRF header on state-changing
//! requests and strict security headers on every response; and the
//! `Origin` checks the login form and the WebSocket use.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::{api_error, AppState, REQUEST_HEADER};

/// Security headers on every response; CSRF header on state-changing requests.
pub async fn guard(
    State(_): State<AppState>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The login form is a plain form post; `server_login` checks that it comes
    // from this server's own page (Origin, Sec-Fetch-Site).
    // Admin API clients authenticate with a bearer token, which a cross-site
    // page cannot attach (it is not a CORS-safelisted header): no CSRF risk.
    let login = req.uri().path() == "/login";
    let exempt = login
        || (req.uri().path().starts_with("/api/v1/")
            && crate::auth::bearer(req.headers()).is_some());
    if state_changing && !exempt && !req.headers().contains_key(REQUEST_HEADER) {
        return api_error(
            StatusCode::FORBIDDEN,
            "csrf",
            "state-changing requests need the X-Isolator-Request header",
        );
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    // The login page posts its form with `same-origin`, so the post carries
    // its real `Origin` (under `no-referrer` browsers send `Origin: null`).
    set(
        h,
        "referrer-policy",
        if login { "same-origin" } else { "no-referrer" },
    );
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), usb=(), payment=()",
    );
    res
}

/// Whether `Origin` names this server (the `Host` the request came to).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    match url::Url::parse(origin) {
        Ok(o) if matches!(o.scheme(), "http" | "https") => {
            let Some(ohost) = o.host_str() else {
                return false;
            };
            let oport = o.port_or_known_default();
            let authority = match (oport, o.scheme()) {
                (Some(80), "http") | (Some(443), "https") | (None, _) => ohost.to_owned(),
                (Some(p), _) => format!("{ohost}:{p}"),
            };
            authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// The `host:port` of an http(s) `Origin` value (port always written), for
/// checking it against [`crate::http::host_check::AllowedHosts`].
pub(crate) fn origin_authority(origin: &str) -> Option<String> {
    let o = url::Url::parse(origin).ok()?;
    if !matches!(o.scheme(), "http" | "https") {
        return None;
    }
    Some(format!("{}:{}", o.host_str()?, o.port_or_known_default()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: &str, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, origin.parse().unwrap());
        h.insert(header::HOST, host.parse().unwrap());
        h
    }

    #[test]
    fn origin_check() {
        assert!(same_origin(&headers(
            "http://127.0.0.1:8080",
            "127.0.0.1:8080"
        )));
        assert!(same_origin(&headers(
            "https://rbi.example.com",
            "rbi.example.com"
        )));
        assert!(!same_origin(&headers(
            "http://evil.example",
            "127.0.0.1:8080"
        )));
        assert!(!same_origin(&headers(
            "http://127.0.0.1:8081",
            "127.0.0.1:8080"
        )));
        assert!(!same_origin(&headers("null", "127.0.0.1:8080")));
        assert!(!same_origin(&HeaderMap::new()));
    }
}
