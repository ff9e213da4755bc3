//! The one error answer of every HTTP endpoint: `{error, code, field?,
//! problems: [...]}` with its status.
//!
//! `error` is a sentence for the person; `code` is for programs (the web
//! client shows `error` and branches on `code`).
//! `field` names the offending field as a document path
//! (`rules[2].paste.profiles[0]`) or a request field (`version`, `action`);
//! `problems` lists every problem of an invalid document, with the line and
//! column when it was sent as TOML. A version conflict (409) also carries
//! `current_version` and an `ETag` header, so a client can reload.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// One problem, as sent to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProblemBody {
    /// Document path of the offending field (empty: the whole document).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Line in the TOML text sent, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Column in the TOML text sent, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl From<&policies::Problem> for ProblemBody {
    fn from(p: &policies::Problem) -> Self {
        ProblemBody {
            field: p.field.clone(),
            message: p.message.clone(),
            line: p.location.as_ref().map(|l| l.line),
            column: p.location.as_ref().map(|l| l.column),
        }
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code (`invalid`, `conflict`, `not_found`, ...).
    pub code: &'static str,
    /// A sentence for the admin.
    pub message: String,
    /// The offending field, when one is to blame.
    pub field: Option<String>,
    /// Every problem of an invalid document.
    pub problems: Vec<ProblemBody>,
    /// The version in force (conflicts).
    pub current_version: Option<u64>,
}

impl ApiError {
    /// An error with no field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            problems: Vec::new(),
            current_version: None,
        }
    }

    /// A 400 naming the request field at fault.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message.clone());
        e.field = Some(field.to_owned());
        e.problems.push(ProblemBody {
            field: field.to_owned(),
            message,
            line: None,
            column: None,
        });
        e
    }

    /// A 404 for `what` (e.g. "rule `mail`").
    pub fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {what}"))
    }

    /// A 422 listing `problems`, whose first field is the `field`.
    pub fn invalid(problems: Vec<ProblemBody>) -> Self {
        let field = problems
            .iter()
            .map(|p| p.field.clone())
            .find(|f| !f.is_empty());
        let message = match problems.as_slice() {
            [one] if one.field.is_empty() => one.message.clone(),
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("the policy has {} problems", many.len()),
        };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message,
            field,
            problems,
            current_version: None,
        }
    }

    /// A 409: the edit was based on `expected`, `current` is in force.
    pub fn conflict(expected: u64, current: u64) -> Self {
        let mut e = ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "someone else changed the policy: your edit was based on version {expected}, \
                 version {current} is in force; reload and apply your change again"
            ),
        );
        e.field = Some("version".to_owned());
        e.current_version = Some(current);
        e
    }
}

impl From<policies::Error> for ApiError {
    fn from(e: policies::Error) -> Self {
        match e {
            policies::Error::Invalid(p) => {
                ApiError::invalid(p.0.iter().map(ProblemBody::from).collect())
            }
            policies::Error::Conflict { expected, current } => {
                ApiError::conflict(expected, current)
            }
            policies::Error::UnknownVersion(v) => {
                let mut e = ApiError::not_found(&format!("policy version {v}"));
                e.field = Some("version".to_owned());
                e
            }
            policies::Error::Unavailable(why) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("the shared policy store is unavailable, nothing changed: {why}"),
            ),
            other => {
                tracing::error!("policy store: {other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store",
                    format!("the policy could not be saved: {other}"),
                )
            }
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    problems: &'a [ProblemBody],
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: &self.message,
            code: self.code,
            field: self.field.as_deref(),
            problems: &self.problems,
            current_version: self.current_version,
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(v) = self.current_version {
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{v}\"")) {
                res.headers_mut().insert(header::ETAG, etag);
            }
        }
        res
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// The response of [`ApiError::new`]: for handlers that answer with a
/// [`Response`] and refuse early.
pub fn api_error(status: StatusCode, code: &'static str, message: &str) -> Response {
    ApiError::new(status, code, message).into_response()
}
