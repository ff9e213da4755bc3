//! The copy gate (remote to local): text the page copied (copy/cut events,
//! the async clipboard API; see `page_copy.js`) is decided and scanned, and
//! only then sent to the client, which writes it to the user's clipboard.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use policies::{Action, Decision};
use serde::Deserialize;

use crate::auth::User;
use crate::enforce::Enforcer;
use crate::gates::{GateReport, Ruling};

/// At most this many copies are handled per window; a page copying in a
/// loop cannot flood the gate (or the user's clipboard).
const MAX_COPIES: usize = 10;
const WINDOW: Duration = Duration::from_secs(10);

/// The `copy` decision for `user` copying from `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Copy)
}

/// How the page tried to put text on the clipboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyHow {
    /// A `copy` event.
    Copy,
    /// A `cut` event.
    Cut,
    /// `navigator.clipboard.write(Text)`.
    Api,
    /// The user copied page text the client draws (dialog, address, tab
    /// title, notice).
    #[serde(skip)]
    Client,
}

impl CopyHow {
    /// The words for the incident (`cut of 12 characters`).
    pub fn describe(self) -> &'static str {
        match self {
            CopyHow::Copy => "copy",
            CopyHow::Cut => "cut",
            CopyHow::Api => "clipboard write by the page",
            CopyHow::Client => "copy of page text shown by the client",
        }
    }
}

/// Per-session state of the copy gate.
#[derive(Default)]
pub struct CopyGate {
    recent: VecDeque<Instant>,
    flood_notice_at: Option<Instant>,
}

/// What the copy gate ruled.
#[derive(Debug)]
pub enum CopyRuling {
    /// Nothing to do (nothing copied).
    Nothing,
    /// The page copies too often: this copy is ignored; `notify` says to
    /// tell the user (once per window).
    Flood {
        /// Tell the user now.
        notify: bool,
    },
    /// Decided: the text goes to the user's clipboard when the ruling passes.
    Decided(Ruling),
}

impl CopyGate {
    /// Rules on what the page in tab `tab` showing `url` copied.
    pub async fn on_copy(
        &mut self,
        enforcer: &Enforcer,
        user: &User,
        (tab, url): (u16, &str),
        (text, how): (&str, CopyHow),
    ) -> CopyRuling {
        if text.is_empty() {
            return CopyRuling::Nothing;
        }
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= MAX_COPIES {
            let notify = self
                .flood_notice_at
                .is_none_or(|t| now.duration_since(t) > WINDOW);
            if notify {
                self.flood_notice_at = Some(now);
            }
            return CopyRuling::Flood { notify };
        }
        self.recent.push_back(now);
        let d = decision(enforcer, user, url);
        let budget = Duration::from_millis(enforcer.config().clipboard_budget_ms);
        let what = format!("{} of {} characters", how.describe(), text.chars().count());
        let verdict = enforcer.check_text(&d, text.to_owned(), budget).await;
        let pass = verdict.passes();
        let report = GateReport::in_tab(tab, url, Action::Copy, what, verdict);
        CopyRuling::Decided(Ruling {
            pass,
            keep_text: d.keep_typed_text,
            reports: vec![report],
        })
    }
}
