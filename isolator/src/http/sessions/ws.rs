//! The session's WebSocket: same-origin only, the `isolator.v1`
//! sub-protocol, the session token carried as a second sub-protocol (a
//! browser cannot set headers on a WebSocket), then the socket task
//! ([`crate::session::socket`]) takes over.

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::extract::{no_session, unauthenticated, user_of};
use crate::http::guard::same_origin;
use crate::http::{api_error, AppState};
use crate::protocol::{SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX};
use crate::session::socket;

/// `GET /api/sessions/{id}/ws`: the upgrade.
pub async fn session_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        tracing::warn!(%peer, "cross-origin WebSocket refused");
        return api_error(
            StatusCode::FORBIDDEN,
            "origin",
            "cross-origin WebSocket refused",
        );
    }
    let Some(user) = user_of(&state, &headers, peer) else {
        return unauthenticated().into_response();
    };
    let protocols: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect();
    let token = protocols
        .iter()
        .find_map(|p| p.strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
        .unwrap_or("");
    if !protocols.iter().any(|p| p == SUBPROTOCOL) {
        return api_error(
            StatusCode::BAD_REQUEST,
            "protocol",
            "the client must speak the isolator.v1 sub-protocol",
        );
    }
    let Some(handle) = state.sessions.get(&id) else {
        return no_session().into_response();
    };
    if !handle.check_token(token) || handle.user.name != user.name {
        tracing::warn!(%peer, session = %id, "WebSocket with a wrong token refused");
        return api_error(StatusCode::FORBIDDEN, "token", "wrong session token");
    }
    let resumed = handle.was_attached();
    ws.protocols([SUBPROTOCOL])
        .max_message_size(socket::MAX_WS_MESSAGE)
        .max_frame_size(socket::MAX_WS_MESSAGE)
        .on_upgrade(move |sock| socket::run(sock, handle, resumed))
}
