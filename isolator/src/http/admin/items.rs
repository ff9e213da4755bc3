//! CRUD shared by the document's lists: apps, rules, profiles and detectors.
//!
//! Each list implements [`Item`]; the handlers here are generic over it.
//! Items are addressed by their key (`name` or `id`); a create appends (or
//! inserts at `?position=N`), a replace may rename, a delete removes. Every
//! change goes through [`super::body::edit`], so it is compiled as part of the
//! whole document (deleting a profile a rule uses is refused, naming the rule)
//! and carries the version it was based on.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use policies::PolicyDocument;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::body::{edit, expected_version, from_value, json_object};
use super::{with_version, Admin};
use crate::http::error::{ApiError, ApiResult, ProblemBody};
use crate::http::AppState;

/// A list of the policy document the API edits item by item.
pub trait Item: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Singular noun for messages (`rule`).
    const NOUN: &'static str;
    /// The document field holding the list (`rules`).
    const FIELD: &'static str;
    /// The item's key field (`name` or `id`).
    const KEY: &'static str;
    /// The item's key.
    fn key(&self) -> &str;
    /// The list in `doc`.
    fn list(doc: &PolicyDocument) -> &Vec<Self>;
    /// The list in `doc`, mutable.
    fn list_mut(doc: &mut PolicyDocument) -> &mut Vec<Self>;
}

/// `{version, items}`.
#[derive(Serialize)]
struct ListView<'a, T> {
    version: policies::Version,
    items: &'a [T],
}

/// `{version, item}`.
#[derive(Serialize)]
struct ItemView<'a, T> {
    version: policies::Version,
    index: usize,
    item: &'a T,
}

/// `?position=N` of a create: where to insert (0-based; default the end).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Insert before the item now at this index.
    #[serde(default)]
    pub position: Option<usize>,
}

fn find<T: Item>(doc: &PolicyDocument, key: &str) -> ApiResult<usize> {
    T::list(doc)
        .iter()
        .position(|i| i.key() == key)
        .ok_or_else(|| ApiError::not_found(&format!("{} `{key}`", T::NOUN)))
}

fn duplicate<T: Item>(index: usize, key: &str) -> ApiError {
    ApiError::invalid(vec![ProblemBody {
        field: format!("{}[{index}].{}", T::FIELD, T::KEY),
        message: format!("a {} named `{key}` already exists", T::NOUN),
        line: None,
        column: None,
    }])
}

fn parse_item<T: Item>(bytes: &[u8], index: usize) -> ApiResult<(T, Option<policies::Version>)> {
    let (value, version) = json_object(bytes)?;
    let item: T = from_value(value, &format!("{}[{index}]", T::FIELD))?;
    if item.key().trim().is_empty() {
        return Err(ApiError::invalid(vec![ProblemBody {
            field: format!("{}[{index}].{}", T::FIELD, T::KEY),
            message: format!("a {} needs a {}", T::NOUN, T::KEY),
            line: None,
            column: None,
        }]));
    }
    Ok((item, version))
}

/// `GET /api/v1/{items}`.
pub async fn list<T: Item>(_admin: Admin, State(state): State<AppState>) -> Response {
    let snap = state.policies.snapshot();
    with_version(
        snap.version,
        ListView {
            version: snap.version,
            items: T::list(snap.policy.document()),
        },
    )
}

/// `GET /api/v1/{items}/{key}`.
pub async fn get_one<T: Item>(
    _admin: Admin,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Response> {
    let snap = state.policies.snapshot();
    let doc = snap.policy.document();
    let index = find::<T>(doc, &key)?;
    Ok(with_version(
        snap.version,
        ItemView {
            version: snap.version,
            index,
            item: &T::list(doc)[index],
        },
    ))
}

/// `POST /api/v1/{items}`: adds an item (at `?position=N`, default last).
pub async fn create<T: Item>(
    admin: Admin,
    State(state): State<AppState>,
    Query(pos): Query<Position>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let len = T::list(state.policies.current().document()).len();
    let index = pos.position.unwrap_or(len);
    let (item, body_version) = parse_item::<T>(&bytes, index.min(len))?;
    let expected = expected_version(&headers, body_version)?;
    let (version, index) = edit(&state, &admin, expected, |doc| {
        let list = T::list_mut(doc);
        let index = pos.position.unwrap_or(list.len());
        if index > list.len() {
            return Err(ApiError::bad_field(
                "position",
                format!(
                    "position {index} is past the end of {} ({} items)",
                    T::FIELD,
                    list.len()
                ),
            ));
        }
        if list.iter().any(|i| i.key() == item.key()) {
            return Err(duplicate::<T>(index, item.key()));
        }
        list.insert(index, item.clone());
        Ok(index)
    })
    .await?;
    let mut res = with_version(
        version,
        ItemView {
            version,
            index,
            item: &item,
        },
    );
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

/// `PUT /api/v1/{items}/{key}`: replaces an item (renaming it if the body's
/// key differs).
pub async fn replace<T: Item>(
    admin: Admin,
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let at = find::<T>(state.policies.current().document(), &key).unwrap_or(0);
    let (item, body_version) = parse_item::<T>(&bytes, at)?;
    let expected = expected_version(&headers, body_version)?;
    let (version, index) = edit(&state, &admin, expected, |doc| {
        let index = find::<T>(doc, &key)?;
        let list = T::list_mut(doc);
        if item.key() != key && list.iter().any(|i| i.key() == item.key()) {
            return Err(duplicate::<T>(index, item.key()));
        }
        list[index] = item.clone();
        Ok(index)
    })
    .await?;
    Ok(with_version(
        version,
        ItemView {
            version,
            index,
            item: &item,
        },
    ))
}

/// `DELETE /api/v1/{items}/{key}` (version in `If-Match`).
pub async fn delete<T: Item>(
    admin: Admin,
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let expected = expected_version(&headers, None)?;
    let (version, ()) = edit(&state, &admin, expected, |doc| {
        let index = find::<T>(doc, &key)?;
        T::list_mut(doc).remove(index);
        Ok(())
    })
    .await?;
    Ok(super::documents::written(&state, version).into_response())
}
