//! The copy gate (remote to local): text the page copied (copy/cut events,
//! the async clipboard API; see `page_copy.js`) is decided and scanned, and
//! only then sent to the client, which writes it to the user's clipboard.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use policies::Action;
use tracing::debug;

use super::Actor;
use crate::protocol::{NoticeLevel, ServerMsg};

/// At most this many copies are handled per window; a page copying in a
/// loop cannot flood the gate (or the user's clipboard).
const MAX_COPIES: usize = 10;
const WINDOW: Duration = Duration::from_secs(10);

/// Per-session state of the copy gate.
#[derive(Default)]
pub(super) struct CopyState {
    recent: VecDeque<Instant>,
    flood_notice_at: Option<Instant>,
}

impl Actor {
    /// A copy hook report (`{text, how}`) from tab `tab_id`.
    pub(super) async fn copy(&mut self, tab_id: u16, payload: &str) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(payload) else {
            debug!("malformed copy report ignored");
            return;
        };
        let text = v
            .get("text")
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_owned();
        if text.is_empty() {
            return;
        }
        let how = match v.get("how").and_then(|t| t.as_str()) {
            Some("cut") => "cut",
            Some("api") => "clipboard write by the page",
            _ => "copy",
        };
        let now = Instant::now();
        while self
            .copies
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            self.copies.recent.pop_front();
        }
        if self.copies.recent.len() >= MAX_COPIES {
            if self
                .copies
                .flood_notice_at
                .is_none_or(|t| now.duration_since(t) > WINDOW)
            {
                self.copies.flood_notice_at = Some(now);
                self.notice(
                    NoticeLevel::Warn,
                    "copy_flood",
                    "This page is copying to the clipboard too often; further copies are ignored for a few seconds.",
                );
            }
            return;
        }
        self.copies.recent.push_back(now);
        let Some(url) = self.tab(tab_id).map(|t| t.url.clone()) else {
            return;
        };
        let decision = self.enforcer.decide(&self.handle.user, &url, Action::Copy);
        let budget = Duration::from_millis(self.enforcer.config().clipboard_budget_ms);
        let what = format!("{how} of {} characters", text.chars().count());
        let verdict = self
            .enforcer
            .check_text(&decision, text.clone(), budget)
            .await;
        let passes = verdict.passes();
        self.report_gate(Some(tab_id), &url, Action::Copy, what, verdict);
        if passes {
            self.send(ServerMsg::Copy { text });
        }
    }
}
