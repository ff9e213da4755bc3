//! Navigation of a tab: the address bar, history steps, reload and stop,
//! each run in its own task so a slow site never stalls the actor; the
//! tab's history (can go back or forward) is asked for after each change.

use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::page::{
    GetNavigationHistoryParams, NavigateParams, NavigateToHistoryEntryParams, ReloadParams,
    StopLoadingParams,
};
use tracing::debug;

use super::Actor;
use crate::session::tab::{with_timeout, TabEvent};

impl Actor {
    /// Asks a tab for its history; the answer comes back as `TabEvent::History`.
    pub(super) fn refresh_history(&self, tab_id: u16) {
        let Some(tab) = self.tab(tab_id) else { return };
        let page = tab.page.clone();
        let tx = self.events_tx.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            if let Ok(h) =
                with_timeout(timeout, page.execute(GetNavigationHistoryParams::default())).await
            {
                let idx = h.result.current_index;
                let len = h.result.entries.len() as i64;
                let title = usize::try_from(idx)
                    .ok()
                    .and_then(|i| h.result.entries.get(i))
                    .map(|e| e.title.clone())
                    .unwrap_or_default();
                let ev = TabEvent::History {
                    can_back: idx > 0,
                    can_forward: idx + 1 < len,
                    title,
                };
                let _ = tx.send((tab_id, ev)).await;
            }
        });
    }

    /// Starts a navigation without waiting for it (slow servers must not stall the actor).
    pub(super) fn navigate_tab(&self, tab: u16, url: String) {
        let Some(t) = self.tab(tab) else { return };
        let page = t.page.clone();
        let tx = self.events_tx.clone();
        let timeout = self.timeout.max(Duration::from_secs(30));
        tokio::spawn(async move {
            match with_timeout(timeout, page.execute(NavigateParams::new(url))).await {
                Ok(r) => {
                    if let Some(err) = r.result.error_text.filter(|e| !e.is_empty()) {
                        let _ = tx.send((tab, TabEvent::NavError(err))).await;
                    }
                }
                Err(e) => debug!("navigation command failed: {e}"),
            }
        });
    }
}

impl Actor {
    /// Goes one step back (or forward) in the active tab's history.
    pub(super) fn history_step(&self, back: bool) {
        let Some(t) = self.active_tab() else { return };
        let page = t.page.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let Ok(h) =
                with_timeout(timeout, page.execute(GetNavigationHistoryParams::default())).await
            else {
                return;
            };
            let idx = h.result.current_index + if back { -1 } else { 1 };
            if let Some(entry) = usize::try_from(idx)
                .ok()
                .and_then(|i| h.result.entries.get(i))
            {
                let _ = with_timeout(
                    timeout,
                    page.execute(NavigateToHistoryEntryParams::new(entry.id)),
                )
                .await;
            }
        });
    }

    /// Reloads the active tab.
    pub(super) fn reload(&self) {
        let Some(t) = self.active_tab() else { return };
        let page = t.page.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let _ = with_timeout(timeout, page.execute(ReloadParams::default())).await;
        });
    }

    /// Stops the active tab's loading.
    pub(super) async fn stop_loading(&self) {
        if let Some(t) = self.active_tab() {
            let _ = with_timeout(self.timeout, t.page.execute(StopLoadingParams::default())).await;
        }
    }
}
