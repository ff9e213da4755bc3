//! `POST /api/v1/test`: what the gates would do with this content, for this
//! user, on this URL, for this action.
//!
//! The bench asks the server's own [`crate::enforce::Enforcer`] (`decide`,
//! then `check_text` or `check_file`), so it shows exactly what a session
//! would see. The answer explains the decision (every rule examined) and
//! lists the detectors that fired with their *redacted* evidence; the sample
//! itself is never echoed, logged or stored.
//!
//! Body: JSON `{text, user, groups, url, action}`, or `multipart/form-data`
//! with the fields `user`, `groups` (comma-separated), `url`, `action` and
//! either `text` or a `file` part (scanned as an upload, download or print
//! would be: type and size limits, extraction, scan).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use policies::{Action, Decision, RuleRef};
use serde::{Deserialize, Serialize};

use super::Admin;
use crate::auth::User;
use crate::enforce::Verdict;
use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;

/// Largest sample the bench accepts (text or file).
pub const MAX_SAMPLE_BYTES: usize = 32 * 1024 * 1024;

/// The JSON form of a test.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestJson {
    #[serde(default)]
    text: Option<String>,
    user: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    url: Option<String>,
    action: Option<String>,
}

enum Sample {
    Text(String),
    File { name: String, bytes: Vec<u8> },
}

/// A validated test.
struct Test {
    user: User,
    url: String,
    action: Action,
    sample: Sample,
}

/// The decision, explained.
#[derive(Serialize)]
struct DecisionView {
    action: Action,
    mode: policies::Mode,
    app: String,
    rule: RuleRef,
    profiles: Vec<String>,
    on_match: policies::OnMatch,
    read_only: bool,
    limits: policies::Limits,
    /// Every rule examined, in words.
    explain: Vec<String>,
}

/// The bench's answer.
#[derive(Serialize)]
struct TestResult {
    /// The policy version that decided.
    version: policies::Version,
    decision: DecisionView,
    /// Outcome, reason, the detectors that fired and their redacted evidence.
    verdict: Verdict,
}

fn required(v: Option<String>, field: &str, what: &str) -> ApiResult<String> {
    match v.map(|s| s.trim().to_owned()) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(ApiError::bad_field(field, format!("give {what}"))),
    }
}

fn build(
    user: Option<String>,
    groups: Vec<String>,
    url: Option<String>,
    action: Option<String>,
    sample: Option<Sample>,
) -> ApiResult<Test> {
    let name = required(user, "user", "the user name to test as")?;
    let url = required(url, "url", "the URL the action happens on")?;
    if url::Url::parse(&url).is_err() {
        return Err(ApiError::bad_field(
            "url",
            format!("`{url}` is not an absolute URL (e.g. https://mail.example.com/)"),
        ));
    }
    let action = required(action, "action", "the action (copy, paste, upload, ...)")?;
    let action =
        Action::from_str(&action).map_err(|e| ApiError::bad_field("action", e.to_string()))?;
    let sample =
        sample.ok_or_else(|| ApiError::bad_field("text", "give a sample text or a file"))?;
    Ok(Test {
        user: User {
            name,
            groups: groups
                .into_iter()
                .map(|g| g.trim().to_owned())
                .filter(|g| !g.is_empty())
                .collect(),
            admin: false,
        },
        url,
        action,
        sample,
    })
}

async fn from_json(req: Request, state: &AppState) -> ApiResult<Test> {
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| ApiError::bad_field("", e.body_text()))?;
    let t: TestJson = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_field("", format!("the body is not a test: {e}")))?;
    let sample = t.text.map(Sample::Text);
    build(t.user, t.groups, t.url, t.action, sample)
}

async fn from_multipart(req: Request, state: &AppState) -> ApiResult<Test> {
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::bad_field("", e.body_text()))?;
    let (mut user, mut groups, mut url, mut action, mut sample) =
        (None, Vec::new(), None, None, None);
    while let Some((name, file_name, bytes)) = super::body::next_part(&mut mp).await? {
        let text = || {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::bad_field(&name, format!("`{name}` is not UTF-8 text")))
        };
        match name.as_str() {
            "user" => user = Some(text()?),
            "groups" => groups = text()?.split(',').map(str::to_owned).collect(),
            "url" => url = Some(text()?),
            "action" => action = Some(text()?),
            "text" => sample = Some(Sample::Text(text()?)),
            "file" => {
                sample = Some(Sample::File {
                    name: file_name.unwrap_or_else(|| "sample".to_owned()),
                    bytes: bytes.to_vec(),
                })
            }
            other => {
                return Err(ApiError::bad_field(
                    other,
                    format!(
                    "unknown field `{other}` (expected user, groups, url, action, text or file)"
                ),
                ))
            }
        }
    }
    build(user, groups, url, action, sample)
}

/// `POST /api/v1/test`.
pub async fn run_test(
    _admin: Admin,
    State(state): State<AppState>,
    req: Request,
) -> ApiResult<Response> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let test = if ctype.starts_with("multipart/form-data") {
        from_multipart(req, &state).await?
    } else if ctype.starts_with("application/json") {
        from_json(req, &state).await?
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json or multipart/form-data",
        ));
    };
    let (decision, policy, version) = decide(&state, &test);
    let verdict = match test.sample {
        Sample::Text(text) => {
            let budget = Duration::from_millis(state.config.enforce.clipboard_budget_ms);
            state.enforcer.check_text(&decision, text, budget).await
        }
        Sample::File { name, bytes } => {
            state
                .enforcer
                .check_file(&decision, &name, Arc::new(bytes))
                .await
        }
    };
    let view = DecisionView {
        action: decision.action,
        mode: decision.mode,
        app: decision.app.to_string(),
        rule: decision.rule.clone(),
        profiles: decision.profiles.to_vec(),
        on_match: decision.on_match,
        read_only: decision.read_only,
        limits: (*decision.limits).clone(),
        explain: policy.explain_lines(&decision),
    };
    Ok(Json(TestResult {
        version,
        decision: view,
        verdict,
    })
    .into_response())
}

/// The enforcer's decision and the policy it came from (the store may swap
/// between the two reads; then decide again so the explanation matches).
fn decide(state: &AppState, t: &Test) -> (Decision, Arc<policies::Policy>, policies::Version) {
    loop {
        let before = state.policies.snapshot();
        let d = state.enforcer.decide(&t.user, &t.url, t.action);
        let after = state.policies.snapshot();
        if before.version == after.version {
            return (d, after.policy.clone(), after.version);
        }
    }
}
