//! Out-of-process frames: the page-content script in cross-site iframes.
//!
//! With site isolation, a cross-site iframe runs in a renderer of its own,
//! a CDP target apart from its page: `Page.addScriptToEvaluateOnNewDocument`
//! sent to the page never reaches it. chromiumoxide auto-attaches to such
//! frames with the flat protocol and resumes them at once
//! (`Runtime.runIfWaitingForDebugger` as soon as `Target.attachedToTarget`
//! arrives), before anyone could install a script.
//!
//! So the page's session switches its auto-attach to the nested protocol
//! (`Target.setAutoAttach {autoAttach, waitForDebuggerOnStart, flatten:
//! false}`): a new frame then waits, chromiumoxide's flat resume misses
//! (no flat session has that id) and this module talks to the frame through
//! `Target.sendMessageToTarget`, in order, before anything of the frame runs:
//! `Page.enable` (without it the script misses the frame's first document),
//! `Runtime.enable`, the page binding, the page script in our isolated world,
//! the main-world hooks, the same auto-attach for the frame's own
//! cross-site frames, and only then `Runtime.runIfWaitingForDebugger`.
//! Every other target that waits (workers) is resumed at once. Messages
//! from frames arrive as `Target.receivedMessageFromTarget`, nested once per
//! level; a frame is named by its [`Route`], the sessions from the page down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::target::{
    EventAttachedToTarget, EventReceivedMessageFromTarget, FilterEntry, SessionId,
    SetAutoAttachParams, TargetFilter,
};
use chromiumoxide::cdp::js_protocol::runtime::ExecutionContextId;
use chromiumoxide::types::{Command, Method, MethodId};
use chromiumoxide::Page;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tracing::debug;

use crate::browser::cdp::{with_timeout, WORLD};

/// Deepest nesting of cross-site frames followed; deeper frames are resumed
/// without the script (and their text is not on the page's screen unmasked
/// for long: the pixel net sees them).
const MAX_DEPTH: usize = 8;

/// The sessions from the page down to one frame; empty: the page itself.
pub(super) type Route = Arc<[SessionId]>;

/// A binding call from the page or one of its frames.
pub(super) struct Call {
    /// Where it came from (answers go back the same way).
    pub route: Route,
    /// The calling execution context, in its own target.
    pub context: ExecutionContextId,
    /// What the script sent.
    pub payload: String,
}

/// What each frame gets before it runs.
#[derive(Clone)]
pub(super) struct FrameScripts {
    /// The binding the page script reports through.
    pub binding: &'static str,
    /// The page script, for our isolated world.
    pub isolated: Arc<str>,
    /// The hooks, for the main world.
    pub main: &'static str,
}

/// `Target.sendMessageToTarget` (deprecated for the flat protocol, so not in
/// chromiumoxide's generated commands; it is how nested sessions are spoken to).
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct SendMessageToTarget {
    session_id: SessionId,
    message: String,
}

impl Method for SendMessageToTarget {
    fn identifier(&self) -> MethodId {
        "Target.sendMessageToTarget".into()
    }
}

impl Command for SendMessageToTarget {
    type Response = Value;
}

/// Any command, by name, with its parameters (for the page's own session;
/// frames get the same as JSON text).
#[derive(Debug)]
struct Raw {
    method: String,
    params: Value,
}

impl Serialize for Raw {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl Method for Raw {
    fn identifier(&self) -> MethodId {
        self.method.clone().into()
    }
}

impl Command for Raw {
    type Response = Value;
}

/// Ids of the messages this module sends inside frames' sessions.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Replies awaited from frames, by message id.
type Waiting = Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>;
static WAITING: std::sync::LazyLock<Waiting> = std::sync::LazyLock::new(Default::default);

/// Most replies awaited at once (beyond it, calls fail).
const MAX_WAITING: usize = 4096;

/// Runs `method` in the page (empty `route`) or the frame at `route` and
/// returns its result.
pub(super) async fn call(
    page: &Page,
    route: &[SessionId],
    method: &str,
    params: Value,
    timeout: Duration,
) -> Result<Value, String> {
    if route.is_empty() {
        let cmd = Raw {
            method: method.to_owned(),
            params,
        };
        return with_timeout(timeout, page.execute(cmd))
            .await
            .map(|r| r.result)
            .map_err(|e| e.to_string());
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    {
        let mut w = WAITING.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() >= MAX_WAITING {
            return Err("too many frame commands waiting".into());
        }
        w.insert(id, tx);
    }
    let sent = send_with_id(page, route, id, method, params, timeout).await;
    let answer = match sent {
        Ok(()) => tokio::time::timeout(timeout, rx)
            .await
            .map_err(|_| "the frame did not answer in time".to_owned())
            .and_then(|r| r.map_err(|_| "the frame is gone".to_owned()))
            .and_then(|r| r),
        Err(e) => Err(e),
    };
    WAITING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    answer
}

/// Sends `method` to the frame at the end of `route` (not empty), not
/// waiting for its reply.
pub(super) async fn send(
    page: &Page,
    route: &[SessionId],
    method: &str,
    params: Value,
    timeout: Duration,
) -> Result<(), String> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    send_with_id(page, route, id, method, params, timeout).await
}

/// Sends message `id` to the frame at the end of `route`, wrapped once per
/// level.
async fn send_with_id(
    page: &Page,
    route: &[SessionId],
    id: u64,
    method: &str,
    params: Value,
    timeout: Duration,
) -> Result<(), String> {
    let Some((first, rest)) = route.split_first() else {
        return Err("no frame to send to".into());
    };
    let mut message = json!({ "id": id, "method": method, "params": params }).to_string();
    for session in rest.iter().rev() {
        message = json!({
            "id": NEXT_ID.fetch_add(1, Ordering::Relaxed),
            "method": "Target.sendMessageToTarget",
            "params": { "sessionId": session, "message": message },
        })
        .to_string();
    }
    let cmd = SendMessageToTarget {
        session_id: first.clone(),
        message,
    };
    with_timeout(timeout, page.execute(cmd))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Evaluates `expression` in `context` of the page or the frame at `route`.
pub(super) async fn evaluate(
    page: &Page,
    route: &[SessionId],
    context: ExecutionContextId,
    expression: String,
    timeout: Duration,
) -> Result<(), String> {
    let params = json!({ "expression": expression, "contextId": context });
    if route.is_empty() {
        call(page, route, "Runtime.evaluate", params, timeout)
            .await
            .map(|_| ())
    } else {
        send(page, route, "Runtime.evaluate", params, timeout).await
    }
}

/// The nested auto-attach every session gets: new cross-site frames wait.
fn auto_attach() -> SetAutoAttachParams {
    let mut p = SetAutoAttachParams::new(true, true);
    p.flatten = Some(false);
    // Not service workers: chromiumoxide detaches from every service worker
    // it sees attached, and a worker detached while it waits never starts
    // (registration hangs; measured on Chromium 156). They need no script
    // of ours, and their requests go through the session's proxy anyway.
    // The rest is Chromium's default filter (no browser or tab targets).
    let entry = |kind: Option<&str>, exclude: bool| {
        let mut e = FilterEntry::builder().exclude(exclude);
        if let Some(kind) = kind {
            e = e.r#type(kind);
        }
        e.build()
    };
    p.filter = Some(TargetFilter::new(vec![
        entry(Some("browser"), true),
        entry(Some("tab"), true),
        entry(Some("service_worker"), true),
        entry(None, false),
    ]));
    p
}

/// Takes over the attachment of `page`'s out-of-process frames: each gets
/// `scripts` before it runs; binding calls of the frames come out of the
/// returned channel (the page's own calls do not: the caller listens to the
/// page). Listeners are in place before the auto-attach changes, so no
/// frame is missed.
pub(super) async fn attach(
    page: &Page,
    scripts: FrameScripts,
    timeout: Duration,
) -> Result<mpsc::Receiver<Call>, String> {
    let attached = page
        .event_listener::<EventAttachedToTarget>()
        .await
        .map_err(|e| e.to_string())?;
    let nested = page
        .event_listener::<EventReceivedMessageFromTarget>()
        .await
        .map_err(|e| e.to_string())?;
    with_timeout(timeout, page.execute(auto_attach()))
        .await
        .map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel(64);
    let page = page.clone();
    tokio::spawn(async move {
        let attached = attached.map(|ev| {
            let ev = json!({
                "sessionId": ev.session_id,
                "targetInfo": { "type": ev.target_info.r#type },
                "waitingForDebugger": ev.waiting_for_debugger,
            });
            (Vec::new(), "Target.attachedToTarget".to_owned(), ev)
        });
        let nested = nested.filter_map(|ev| {
            std::future::ready(unwrap_nested(vec![ev.session_id.clone()], &ev.message))
        });
        let mut events = futures::stream::select(attached.boxed(), nested.boxed());
        while let Some((route, method, params)) = events.next().await {
            match method.as_str() {
                "Target.attachedToTarget" => {
                    let Some(session) = params["sessionId"].as_str() else {
                        continue;
                    };
                    let mut child = route.clone();
                    child.push(SessionId::from(session.to_owned()));
                    let kind = params["targetInfo"]["type"].as_str().unwrap_or_default();
                    let waiting = params["waitingForDebugger"].as_bool().unwrap_or(false);
                    // Set up without holding up the other frames' messages.
                    let (page, scripts) = (page.clone(), scripts.clone());
                    let kind = kind.to_owned();
                    tokio::spawn(async move {
                        if let Err(e) =
                            set_up(&page, &child, &kind, waiting, &scripts, timeout).await
                        {
                            debug!("out-of-process frame not set up: {e}");
                        }
                    });
                }
                "Runtime.bindingCalled" => {
                    let name = params["name"].as_str().unwrap_or_default();
                    if name != scripts.binding {
                        continue;
                    }
                    let (Some(context), Some(payload)) = (
                        params["executionContextId"].as_i64(),
                        params["payload"].as_str(),
                    ) else {
                        continue;
                    };
                    let call = Call {
                        route: route.into(),
                        context: ExecutionContextId::new(context),
                        payload: payload.to_owned(),
                    };
                    if tx.send(call).await.is_err() {
                        return;
                    }
                }
                _ => {}
            }
        }
    });
    Ok(rx)
}

/// One event of a frame: the route of the session it came from (the
/// session named in `Target.receivedMessageFromTarget`, nested as deep as
/// it goes), its method and parameters. Replies to our own commands go to
/// whoever awaits them ([`call`]) and are `None` here.
fn unwrap_nested(
    mut route: Vec<SessionId>,
    message: &str,
) -> Option<(Vec<SessionId>, String, Value)> {
    let mut msg: Value = serde_json::from_str(message).ok()?;
    loop {
        let Some(method) = msg["method"].as_str() else {
            reply(msg);
            return None;
        };
        if method != "Target.receivedMessageFromTarget" {
            let method = method.to_owned();
            return Some((route, method, msg["params"].take()));
        }
        let session = msg["params"]["sessionId"].as_str()?.to_owned();
        let inner = msg["params"]["message"].as_str()?.to_owned();
        route.push(SessionId::from(session));
        if route.len() > MAX_DEPTH + 1 {
            return None;
        }
        msg = serde_json::from_str(&inner).ok()?;
    }
}

/// Hands a frame's reply to whoever awaits it.
fn reply(mut msg: Value) {
    let Some(id) = msg["id"].as_u64() else {
        return;
    };
    let waiter = WAITING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    let result = match msg.get_mut("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(msg["result"].take()),
    };
    match waiter {
        Some(tx) => drop(tx.send(result)),
        None => {
            if let Err(e) = result {
                debug!("out-of-process frame command failed: {e}");
            }
        }
    }
}

/// Gets a newly attached target ready and lets it run: a frame gets the
/// scripts first; anything else only runs.
async fn set_up(
    page: &Page,
    route: &[SessionId],
    kind: &str,
    waiting: bool,
    scripts: &FrameScripts,
    timeout: Duration,
) -> Result<(), String> {
    if kind == "iframe" && route.len() <= MAX_DEPTH {
        let world_script = json!({
            "source": &*scripts.isolated,
            "worldName": WORLD,
            "runImmediately": true,
        });
        let main_script = json!({ "source": scripts.main, "runImmediately": true });
        let binding = json!({ "name": scripts.binding, "executionContextName": WORLD });
        let auto = serde_json::to_value(auto_attach()).map_err(|e| e.to_string())?;
        // One session's messages are handled in order: all of these are in
        // place before the frame runs.
        for (method, params) in [
            ("Page.enable", json!({})),
            ("Runtime.enable", json!({})),
            ("Runtime.addBinding", binding),
            ("Page.addScriptToEvaluateOnNewDocument", world_script),
            ("Page.addScriptToEvaluateOnNewDocument", main_script),
            ("Target.setAutoAttach", auto),
        ] {
            send(page, route, method, params, timeout).await?;
        }
    }
    if waiting {
        send(
            page,
            route,
            "Runtime.runIfWaitingForDebugger",
            json!({}),
            timeout,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_messages_unwrap_to_their_frame() {
        let inner = json!({
            "method": "Runtime.bindingCalled",
            "params": { "name": "__isolatorPage", "payload": "{}", "executionContextId": 3 },
        })
        .to_string();
        let mid = json!({
            "method": "Target.receivedMessageFromTarget",
            "params": { "sessionId": "B", "message": inner },
        })
        .to_string();
        let (route, method, params) =
            unwrap_nested(vec![SessionId::from("A".to_owned())], &mid).unwrap();
        assert_eq!(
            route.iter().map(|s| s.as_ref()).collect::<Vec<_>>(),
            ["A", "B"]
        );
        assert_eq!(method, "Runtime.bindingCalled");
        assert_eq!(params["executionContextId"], 3);
    }

    #[test]
    fn replies_and_garbage_are_not_events() {
        let a = vec![SessionId::from("A".to_owned())];
        assert!(unwrap_nested(a.clone(), r#"{"id":4,"result":{}}"#).is_none());
        assert!(unwrap_nested(a.clone(), r#"{"id":4,"error":{"message":"x"}}"#).is_none());
        assert!(unwrap_nested(a, "not json").is_none());
    }

    #[tokio::test]
    async fn replies_reach_their_caller_errors_too() {
        let (ok_id, err_id) = (u64::MAX - 1, u64::MAX - 2);
        let (ok_tx, ok_rx) = oneshot::channel();
        let (err_tx, err_rx) = oneshot::channel();
        {
            let mut w = WAITING.lock().unwrap();
            w.insert(ok_id, ok_tx);
            w.insert(err_id, err_tx);
        }
        let wrap = |inner: Value| {
            json!({
                "method": "Target.receivedMessageFromTarget",
                "params": { "sessionId": "B", "message": inner.to_string() },
            })
            .to_string()
        };
        let a = vec![SessionId::from("A".to_owned())];
        let ok = wrap(json!({ "id": ok_id, "result": { "x": 1 } }));
        assert!(unwrap_nested(a.clone(), &ok).is_none());
        assert_eq!(ok_rx.await.unwrap().unwrap()["x"], 1);
        let err = wrap(json!({ "id": err_id, "error": { "message": "No node" } }));
        assert!(unwrap_nested(a, &err).is_none());
        assert!(err_rx.await.unwrap().unwrap_err().contains("No node"));
        assert!(!WAITING.lock().unwrap().contains_key(&ok_id));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut msg = json!({ "method": "Runtime.bindingCalled", "params": {} }).to_string();
        for i in 0..MAX_DEPTH + 3 {
            msg = json!({
                "method": "Target.receivedMessageFromTarget",
                "params": { "sessionId": format!("S{i}"), "message": msg },
            })
            .to_string();
        }
        assert!(unwrap_nested(vec![], &msg).is_none());
    }
}
