//! The page-content gate in a session: installs `page_content.js` in each
//! tab (it masks likely values before paint and reports the page's text),
//! scans what it reports with the `page` decision, tells it the exact
//! values to mask, and reports findings as incidents.

use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::page::AddScriptToEvaluateOnNewDocumentParams;
use chromiumoxide::cdp::js_protocol::runtime::{
    AddBindingParams, EvaluateParams, EventBindingCalled,
};
use chromiumoxide::Page;
use futures::{Stream, StreamExt};
use policies::Action;
use serde::Deserialize;
use tokio::sync::mpsc;
use tracing::debug;

use super::Actor;
use crate::auth::User;
use crate::enforce::link::GateReport;
use crate::enforce::Enforcer;
use crate::session::tab::{with_timeout, WORLD};

/// Binding the page-content script reports through.
const PAGE_BINDING: &str = "__isolatorPage";
/// The page side.
const PAGE_CONTENT_JS: &str = include_str!("../page_content.js");

/// JavaScript patterns for likely values of a detector: the page script hides
/// matches at once, before the server's authoritative scan. Detectors without
/// one are masked once the server has found their values.
pub(crate) fn js_pattern(detector: &str) -> Option<&'static str> {
    Some(match detector {
        "credit_card" => r"\b(?:\d[ -]?){12,18}\d\b",
        "us_ssn" => r"\b\d{3}[- ]\d{2}[- ]\d{4}\b",
        "email" => r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        "iban" => r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
        _ => return None,
    })
}

/// The script installed in every document: the configuration, then the page side.
pub(crate) fn script_source(masked: &[String]) -> String {
    let patterns: serde_json::Map<String, serde_json::Value> = masked
        .iter()
        .filter_map(|d| js_pattern(d).map(|p| (d.clone(), p.into())))
        .collect();
    let config = serde_json::json!({ "patterns": patterns });
    format!("const __ISOLATOR_PAGE = {config};\n{PAGE_CONTENT_JS}")
}

#[derive(Deserialize)]
struct PageText {
    url: String,
    text: String,
}

impl Actor {
    /// Installs the page-content gate in a tab and starts answering its page script.
    pub(super) async fn watch_page_content(&mut self, tab_id: u16) {
        let Some(tab) = self.tab(tab_id) else { return };
        let page = tab.page.clone();
        let timeout = self.timeout;
        let reports = match page.event_listener::<EventBindingCalled>().await {
            Ok(s) => s,
            Err(e) => {
                debug!("page-content gate not installed: {e}");
                return;
            }
        };
        let binding = AddBindingParams {
            name: PAGE_BINDING.into(),
            execution_context_name: Some(WORLD.into()),
        };
        let script = AddScriptToEvaluateOnNewDocumentParams {
            source: script_source(&self.enforcer.masked_anywhere()),
            world_name: Some(WORLD.into()),
            include_command_line_api: None,
            run_immediately: Some(true),
        };
        if let Err(e) = with_timeout(timeout, page.execute(binding)).await {
            debug!("page-content binding not added: {e}");
            return;
        }
        if let Err(e) = with_timeout(timeout, page.execute(script)).await {
            debug!("page-content script not installed: {e}");
            return;
        }
        tokio::spawn(serve_page(
            page,
            reports,
            self.enforcer.clone(),
            self.handle.user.clone(),
            self.gate_tx.clone(),
            timeout,
        ));
    }
}

/// Answers one tab's page script until the tab or the session is gone.
async fn serve_page(
    page: Page,
    reports: impl Stream<Item = std::sync::Arc<EventBindingCalled>> + Unpin,
    enforcer: std::sync::Arc<Enforcer>,
    user: User,
    gate_tx: mpsc::Sender<GateReport>,
    timeout: Duration,
) {
    let frame = page.target_id().as_ref().to_owned();
    let mut reports = reports.filter(|ev| std::future::ready(ev.name == PAGE_BINDING));
    // What was last reported per URL: the same findings are one incident, not one per change.
    let mut last: Option<(String, String)> = None;
    while let Some(ev) = reports.next().await {
        let Ok(msg) = serde_json::from_str::<PageText>(&ev.payload) else {
            continue;
        };
        let chars = msg.text.chars().count();
        let check = enforcer.check_page(&user, &msg.url, msg.text).await;
        let answer = serde_json::json!({
            "detectors": check.mask_detectors,
            "values": check.mask_values,
        });
        let mut eval = EvaluateParams::new(format!(
            "globalThis.__isolatorPageMask && globalThis.__isolatorPageMask({answer})"
        ));
        eval.context_id = Some(ev.execution_context_id);
        if let Err(e) = with_timeout(timeout, page.execute(eval)).await {
            debug!("page-content answer not delivered: {e}");
        }
        let Some(verdict) = check.verdict else {
            continue;
        };
        let signature = format!(
            "{}|{}|{}",
            verdict.outcome.as_str(),
            verdict.detectors.join(","),
            verdict.evidence.join(",")
        );
        let key = (crate::enforce::redact_url(&msg.url), signature);
        if last.as_ref() == Some(&key) {
            continue;
        }
        last = Some(key);
        let report = GateReport {
            frame: frame.clone(),
            url: msg.url,
            gate: Action::Page,
            what: format!("page text of {chars} characters"),
            verdict,
        };
        if gate_tx.send(report).await.is_err() {
            return;
        }
    }
}
