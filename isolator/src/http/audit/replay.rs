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

/// A recording found in an index: this node's, or in a cluster the shared
/// one (recorded on another node; read from the bucket, its incidents from
/// the shared index).
pub(super) struct Found {
    row: SessionRow,
    /// The node that recorded it (in a cluster).
    node: Option<String>,
    /// Its incidents, when it was found in the shared index (not read for
    /// a chunk of the replay, which lists none).
    shared_incidents: Option<Vec<Incident>>,
}

impl Found {
    /// Every incident of the recording.
    fn incidents(&self, store: &Store) -> Result<Vec<Incident>, ApiError> {
        match &self.shared_incidents {
            Some(i) => Ok(i.clone()),
            None => session_incidents(store, &self.row.id),
        }
    }
}

/// Finds recording `id`: in this node's index, else in the cluster's (with
/// its incidents when `with_incidents`).
async fn locate(
    state: &AppState,
    store: &Arc<Store>,
    id: &str,
    with_incidents: bool,
) -> Result<Found, ApiError> {
    crate::audit::recorder::check_session_id(id).map_err(audit_error)?;
    let (s, key) = (store.clone(), id.to_owned());
    let local = blocking(move || s.index().session(&key).map_err(audit_error)).await?;
    let node = state.cluster.as_ref().map(|c| c.node_id().to_owned());
    if let Some(row) = local {
        return Ok(Found {
            row,
            node,
            shared_incidents: None,
        });
    }
    let not_found = || audit_error(crate::audit::Error::NotFound(id.to_owned()));
    let Some(cluster) = &state.cluster else {
        return Err(not_found());
    };
    let unavailable = |e: crate::cluster::DbError| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("{e}: only the recordings of this node can be found now"),
        )
    };
    let shared = crate::cluster::audit::session(cluster.db(), id)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    if store.bucket().is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "on_another_node",
            format!(
                "session {id} was recorded on node {:?}; nodes read each other's recordings \
                 only from a shared bucket ([audit.object_store]), which this node has not",
                shared.node
            ),
        ));
    }
    let shared_incidents = match with_incidents {
        true => Some(
            crate::cluster::audit::incidents(cluster.db(), &of_session(id))
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(|i| i.row)
                .collect(),
        ),
        false => None,
    };
    Ok(Found {
        row: shared.row,
        node: Some(shared.node),
        shared_incidents,
    })
}

/// Runs `f` off the async threads on recording `id` for an admin, once the
/// view (`what`) is in the access log: nothing is read unless it was logged.
async fn viewed<T: Send + 'static>(
    state: &AppState,
    (user, store): (User, Arc<Store>),
    peer: SocketAddr,
    id: String,
    what: &'static str,
    f: impl FnOnce(&Store, Found) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let found = locate(state, &store, &id, what != "replay").await?;
    let audit = state.audit.clone();
    blocking(move || {
        log_view(&audit, &user, peer, &id, what)?;
        f(&store, found)
    })
    .await
}

/// Every incident of session `id` in this node's index.
fn session_incidents(store: &Store, id: &str) -> Result<Vec<Incident>, ApiError> {
    store
        .index()
        .incidents(&of_session(id))
        .map_err(audit_error)
}

/// Every incident of session `id`, as an index query.
fn of_session(id: &str) -> IncidentQuery {
    IncidentQuery {
        session: Some(id.to_owned()),
        limit: Some(10_000),
        ..Default::default()
    }
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
    let out = viewed(&state, admin, peer, id, "view", |store, found| {
        let row = &found.row;
        let anchor = row.head.as_deref().map(|h| (row.records, h));
        let copy = store.local_copy(row).map_err(audit_error)?;
        let report = crate::audit::verify_dir(copy.dir(), anchor).map_err(audit_error)?;
        let incidents = found.incidents(store)?;
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
            "session": session_json(row, found.node.as_deref()),
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
    let out = viewed(&state, admin, peer, id, "replay", move |store, found| {
        let copy = store.local_copy(&found.row).map_err(audit_error)?;
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
    let out = viewed(&state, admin, peer, id, "export", |store, found| {
        let incidents = found.incidents(store)?;
        let row = found.row;
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
