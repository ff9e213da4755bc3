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

/// Copies up to this many characters are remembered for a while, so that
/// a value copied in pieces is judged whole ([`PIECES_WINDOW`]).
const MAX_PIECE: usize = 256;
/// How long a copied piece is remembered, and how many.
const PIECES_WINDOW: Duration = Duration::from_secs(60);
const MAX_PIECES: usize = 4;

/// Per-session state of the copy gate.
#[derive(Default)]
pub struct CopyGate {
    recent: VecDeque<Instant>,
    flood_notice_at: Option<Instant>,
    /// Short copies that passed, newest last: the next copy is also
    /// scanned after them (a card copied in two halves).
    pieces: VecDeque<(Instant, String)>,
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
        let mut verdict = enforcer.check_text(&d, text.to_owned(), budget).await;
        let short = text.chars().count() <= MAX_PIECE;
        self.pieces
            .retain(|(at, _)| now.duration_since(*at) <= PIECES_WINDOW);
        if verdict.passes() && short && !self.pieces.is_empty() && d.mode == policies::Mode::Scan {
            let mut joined: String = self
                .pieces
                .iter()
                .map(|(_, p)| p.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            joined.push(' ');
            joined.push_str(text);
            let together = enforcer.check_text(&d, joined, budget).await;
            if !together.passes() {
                verdict = together;
                verdict.reason = format!("{}, with what was copied just before it", verdict.reason);
            }
        }
        let pass = verdict.passes();
        if pass && short {
            if self.pieces.len() >= MAX_PIECES {
                self.pieces.pop_front();
            }
            self.pieces.push_back((now, text.to_owned()));
        }
        let report = GateReport::in_tab(tab, url, Action::Copy, what, verdict);
        CopyRuling::Decided(Ruling {
            pass,
            keep_text: d.keep_typed_text,
            reports: vec![report],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "[[rules]]\nname = \"dlp\"\nprofiles = [\"financial\"]\ncopy = \"scan\"\n";

    fn user() -> User {
        User {
            name: "dana".into(),
            groups: Vec::new(),
            admin: false,
        }
    }

    async fn passes(gate: &mut CopyGate, e: &Enforcer, text: &str) -> bool {
        match gate
            .on_copy(e, &user(), (1, "https://x.example/"), (text, CopyHow::Copy))
            .await
        {
            CopyRuling::Decided(r) => r.pass,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_card_copied_in_two_halves_is_refused_at_the_second() {
        let e = crate::enforce::tests::enforcer(POLICY);
        let mut gate = CopyGate::default();
        assert!(passes(&mut gate, &e, "4111 1111").await);
        assert!(!passes(&mut gate, &e, "1111 1111").await);
        // Unrelated copies still pass, and so does the first half again.
        assert!(passes(&mut gate, &e, "meeting at noon").await);
        assert!(passes(&mut gate, &e, "4111 1111").await);
    }

    #[tokio::test]
    async fn a_whole_card_is_refused_and_a_flood_is_cut_off() {
        let e = crate::enforce::tests::enforcer(POLICY);
        let mut gate = CopyGate::default();
        assert!(!passes(&mut gate, &e, "pay 4111 1111 1111 1111").await);
        for i in 0..MAX_COPIES - 1 {
            assert!(passes(&mut gate, &e, &format!("word {i}")).await);
        }
        let r = gate
            .on_copy(
                &e,
                &user(),
                (1, "https://x.example/"),
                ("more", CopyHow::Api),
            )
            .await;
        assert!(matches!(r, CopyRuling::Flood { notify: true }), "{r:?}");
    }
}
