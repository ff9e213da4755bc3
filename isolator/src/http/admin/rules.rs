//! Ordered rules: `/api/v1/rules` (the generic CRUD of [`super::items`],
//! keyed by `name`; `POST ?position=N` inserts) and `PUT
//! /api/v1/rule-order`, which reorders them.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use policies::{PolicyDocument, RuleDoc};
use serde::Deserialize;

use super::body::{edit, expected_version, from_value, json_object};
use super::items::Item;
use super::Admin;
use crate::http::error::{ApiError, ApiResult, ProblemBody};
use crate::http::AppState;

impl Item for RuleDoc {
    const NOUN: &'static str = "rule";
    const FIELD: &'static str = "rules";
    const KEY: &'static str = "name";

    fn key(&self) -> &str {
        &self.name
    }

    fn list(doc: &PolicyDocument) -> &Vec<Self> {
        &doc.rules
    }

    fn list_mut(doc: &mut PolicyDocument) -> &mut Vec<Self> {
        &mut doc.rules
    }
}

/// Body of `PUT /api/v1/rule-order`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    /// Every rule name, in the new order.
    order: Vec<String>,
}

fn order_problem(message: String) -> ApiError {
    ApiError::invalid(vec![ProblemBody {
        field: "order".to_owned(),
        message,
        line: None,
        column: None,
    }])
}

/// `PUT /api/v1/rule-order`: `{order: [every rule name, in the new order]}`.
pub async fn reorder(
    admin: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (value, body_version) = json_object(&bytes)?;
    let Order { order } = from_value(value, "order")?;
    let expected = expected_version(&headers, body_version)?;
    let (version, ()) = edit(&state, &admin, expected, |doc| {
        let mut rest = std::mem::take(&mut doc.rules);
        let mut sorted = Vec::with_capacity(rest.len());
        for name in &order {
            let Some(i) = rest.iter().position(|r| &r.name == name) else {
                let known = sorted.iter().any(|r: &RuleDoc| &r.name == name);
                return Err(order_problem(if known {
                    format!("rule `{name}` is listed twice")
                } else {
                    format!("there is no rule `{name}`")
                }));
            };
            sorted.push(rest.remove(i));
        }
        if let Some(missing) = rest.first() {
            return Err(order_problem(format!(
                "rule `{}` is missing: list every rule",
                missing.name
            )));
        }
        doc.rules = sorted;
        Ok(())
    })
    .await?;
    Ok(super::documents::written(&state, version))
}
