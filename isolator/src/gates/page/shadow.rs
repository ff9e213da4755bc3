//! Closed shadow roots, handed to the page script.
//!
//! A page's `attachShadow({mode: 'closed'})` gives a root no script of
//! another world can reach through the DOM. The page script hides such a
//! host the moment the main-world hook reports it and asks (`closed_shadow`);
//! here the server takes each waiting host from the script's own world
//! (`__isolatorClosedHost`), finds its shadow roots with
//! `DOM.describeNode {pierce}` (CDP sees closed roots), resolves each in the
//! same isolated world (`DOM.resolveNode {executionContextId}`) and hands it
//! to `__isolatorAdoptShadow`, which masks and watches it and shows the host
//! again. The page never sees any of it: every function called lives in the
//! isolated world, and the objects are released afterwards.

use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::target::SessionId;
use chromiumoxide::cdp::js_protocol::runtime::ExecutionContextId;
use chromiumoxide::Page;
use serde_json::json;

use super::frames::call;

/// Most hosts looked at for one request (the script asks again for more).
const MAX_HOSTS: usize = 64;
/// The object group our handles live in, released at the end.
const GROUP: &str = "__isolatorShadow";

/// Adopts the closed shadow roots of every host the page script waits on,
/// in the page or the frame at `route`; how many hosts were looked at.
pub(super) async fn adopt_closed_roots(
    page: &Page,
    route: &[SessionId],
    context: ExecutionContextId,
    timeout: Duration,
) -> Result<usize, String> {
    let result = adopt(page, route, context, timeout).await;
    let release = json!({ "objectGroup": GROUP });
    let _ = call(page, route, "Runtime.releaseObjectGroup", release, timeout).await;
    result
}

async fn adopt(
    page: &Page,
    route: &[SessionId],
    context: ExecutionContextId,
    timeout: Duration,
) -> Result<usize, String> {
    let mut seen = 0;
    while seen < MAX_HOSTS {
        let next = json!({
            "expression": "globalThis.__isolatorClosedHost ? globalThis.__isolatorClosedHost() : null",
            "contextId": context,
            "objectGroup": GROUP,
        });
        let host = call(page, route, "Runtime.evaluate", next, timeout).await?;
        let Some(host) = host["result"]["objectId"].as_str().map(str::to_owned) else {
            break;
        };
        seen += 1;
        let describe = json!({ "objectId": host, "depth": 0, "pierce": true });
        let node = call(page, route, "DOM.describeNode", describe, timeout).await?;
        let mut adopted = false;
        for root in node["node"]["shadowRoots"].as_array().into_iter().flatten() {
            let Some(backend) = root["backendNodeId"].as_i64() else {
                continue;
            };
            let resolve = json!({
                "backendNodeId": backend,
                "executionContextId": context,
                "objectGroup": GROUP,
            });
            let object = call(page, route, "DOM.resolveNode", resolve, timeout).await?;
            let Some(root) = object["object"]["objectId"].as_str() else {
                continue;
            };
            let hand = json!({
                "objectId": root,
                "functionDeclaration": "function () { return globalThis.__isolatorAdoptShadow(this); }",
            });
            call(page, route, "Runtime.callFunctionOn", hand, timeout).await?;
            adopted = true;
        }
        if !adopted {
            let none = json!({
                "objectId": host,
                "functionDeclaration": "function () { return globalThis.__isolatorNoShadow(this); }",
            });
            call(page, route, "Runtime.callFunctionOn", none, timeout).await?;
        }
    }
    Ok(seen)
}
