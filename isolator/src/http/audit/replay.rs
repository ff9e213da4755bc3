//! Replay: a recording's details and event list, chunks of records with the
//! frame on screen (seeking by the keyframe index), and the export bundle.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::search::session_json;
use super::{admin_store, audit_error, blocking, log_view};
use std::sync::Arc;

use crate::audit::{Event, Incident, IncidentQuery, Reader, RecordedEvent, SessionRow, Store};
use crate::auth::User;
use crate::http::{api_error, ApiError, AppState};

/// Longest chunk a client may ask for.
const MAX_CHUNK_MS: u64 = 60_000;
/// Chunk length when the client does not say.
const DEFAULT_CHUNK_MS: u64 = 10_000;

fn row_of(store: &Store, id: &str) -> Result<SessionRow, ApiError> {
    crate::audit::recorder::check_session_id(id).map_err(audit_error)?;
    match store.index().session(id).map_err(audit_error)? {
        Some(row) => Ok(row),
        None => Err(audit_error(crate::audit::Error::NotFound(id.to_owned()))),
    }
}

/// Runs `f` off the async threads on recording `id` for an admin, once the
/// view (`what`) is in the access log: nothing is read unless it was logged.
async fn viewed<T: Send + 'static>(
    state: &AppState,
    (user, store): (User, Arc<Store>),
    peer: SocketAddr,
    id: String,
    what: &'static str,
    f: impl FnOnce(&Store, SessionRow) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let audit = state.audit.clone();
    blocking(move || {
        let row = row_of(&store, &id)?;
        log_view(&audit, &user, peer, &id, what)?;
        f(&store, row)
    })
    .await
}

/// Every incident of session `id`.
fn session_incidents(store: &Store, id: &str) -> Result<Vec<Incident>, ApiError> {
    store
        .index()
        .incidents(&IncidentQuery {
            session: Some(id.to_owned()),
            limit: Some(10_000),
            ..Default::default()
        })
        .map_err(audit_error)
}

/// One record as the player gets it.
fn record_json(r: &RecordedEvent) -> Value {
    json!({
        "t": r.mono_ms,
        "seq": r.seq,
        "wall_ms": r.wall_ms,
        "repeat": r.repeat,
        "event": r.event,
    })
}

/// `GET /api/v1/audit/sessions/{id}`: the index row, the verification
/// report, the incidents and every non-frame event (for the timeline).
pub(super) async fn session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let admin = match admin_store(&state, &headers, peer) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let out = viewed(&state, admin, peer, id, "view", |store, row| {
        let anchor = row.head.as_deref().map(|h| (row.records, h));
        let copy = store.local_copy(&row).map_err(audit_error)?;
        let report = crate::audit::verify_dir(copy.dir(), anchor).map_err(audit_error)?;
        let incidents = session_incidents(store, &row.id)?;
        let reader = Reader::open(copy.dir()).map_err(audit_error)?;
        let mut events = Vec::new();
        let mut last = report.last_ms;
        for r in reader.timeline() {
            let r = r.map_err(audit_error)?;
            last = last.max(r.mono_ms);
            events.push(record_json(&r));
        }
        if let Some(k) = reader.keyframes().last() {
            last = last.max(k.mono_ms);
        }
        Ok(json!({
            "session": session_json(&row),
            "verify": report,
            "duration_ms": last,
            "keyframes": reader.keyframes().len(),
            "incidents": incidents,
            "events": events,
        }))
    })
    .await;
    match out {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

/// Chunk query: from where, how long.
#[derive(Debug, Deserialize)]
pub(super) struct ChunkQuery {
    /// Start, ms since session start.
    #[serde(default)]
    from_ms: u64,
    /// Length in ms (default 10 000, at most 60 000).
    len_ms: Option<u64>,
}

/// `GET /api/v1/audit/sessions/{id}/chunk?from_ms&len_ms`: the frame on
/// screen at `from_ms` and every record in `(from_ms, from_ms + len_ms]`,
/// frames as base64 JPEG. `more` is false at the end of the recording.
pub(super) async fn chunk(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ChunkQuery>, QueryRejection>,
) -> Response {
    let admin = match admin_store(&state, &headers, peer) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "bad_query", &e.body_text()),
    };
    let len = q.len_ms.unwrap_or(DEFAULT_CHUNK_MS);
    if len == 0 || len > MAX_CHUNK_MS {
        return api_error(
            StatusCode::BAD_REQUEST,
            "bad_query",
            &format!("len_ms must be between 1 and {MAX_CHUNK_MS}"),
        );
    }
    let out = viewed(&state, admin, peer, id, "replay", move |store, row| {
        let copy = store.local_copy(&row).map_err(audit_error)?;
        let reader = Reader::open(copy.dir()).map_err(audit_error)?;
        let to = q.from_ms.saturating_add(len);
        let seek = reader.seek(q.from_ms).map_err(audit_error)?;
        let frame = seek
            .frame
            .as_ref()
            .map(|(t, f)| json!({ "t": t, "event": Event::Frame(f.clone()) }));
        let mut records = Vec::new();
        let mut more = false;
        for r in seek.rest {
            let r = r.map_err(audit_error)?;
            if r.mono_ms > to {
                more = true;
                break;
            }
            records.push(record_json(&r));
        }
        Ok(json!({
            "from_ms": q.from_ms,
            "to_ms": to,
            "frame": frame,
            "records": records,
            "more": more,
        }))
    })
    .await;
    match out {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

/// `GET /api/v1/audit/sessions/{id}/export`: the bundle as a tar download.
/// A tampered recording is refused (409).
pub(super) async fn export(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let admin = match admin_store(&state, &headers, peer) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let name = format!("isolator-session-{id}.tar");
    let out = viewed(&state, admin, peer, id, "export", |store, row| {
        let incidents = session_incidents(store, &row.id)?;
        // Written beside the recordings (same disk), opened, then unlinked:
        // the open file is streamed and nothing is left behind.
        let tmp = store.root().join(format!(
            ".export-{}-{}.tar",
            row.id,
            crate::audit::recorder::now_wall_ms()
        ));
        let copy = store.local_copy(&row).map_err(audit_error)?;
        let result = crate::audit::export(copy.dir(), Some(row), incidents, &tmp);
        let file = result.and_then(|_| {
            std::fs::File::open(&tmp).map_err(|e| crate::audit::Error::Io {
                path: tmp.clone(),
                source: e,
            })
        });
        let _ = std::fs::remove_file(&tmp);
        match file {
            Ok(f) => Ok(f),
            Err(crate::audit::Error::Invalid(msg)) => {
                Err(ApiError::new(StatusCode::CONFLICT, "tampered", &msg))
            }
            Err(e) => Err(audit_error(e)),
        }
    })
    .await;
    let file = match out {
        Ok(f) => tokio::fs::File::from_std(f),
        Err(r) => return r.into_response(),
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let stream = futures::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 << 10];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
