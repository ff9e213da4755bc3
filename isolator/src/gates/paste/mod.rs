//! The paste gate (local to remote): clipboard text arrives as a `paste`
//! message, is decided and scanned within the clipboard budget, and only
//! then inserted with `Input.insertText` (Chromium's own clipboard is never
//! involved). Images are pasted over HTTP and OCR'd ([`image`]).

pub mod image;

use std::time::Duration;

use policies::{Action, Decision};

use crate::auth::User;
use crate::enforce::Enforcer;
use crate::gates::{GateReport, Ruling};

/// The `paste` decision for `user` pasting into `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Paste)
}

/// Rules on pasting `text` into tab `tab` showing `url`.
pub async fn on_text(
    enforcer: &Enforcer,
    user: &User,
    (tab, url): (u16, &str),
    text: &str,
) -> Ruling {
    let d = decision(enforcer, user, url);
    let budget = Duration::from_millis(enforcer.config().clipboard_budget_ms);
    let what = format!("paste of {} characters", text.chars().count());
    let verdict = enforcer.check_text(&d, text.to_owned(), budget).await;
    Ruling {
        pass: verdict.passes(),
        keep_text: d.keep_typed_text,
        reports: vec![GateReport::in_tab(tab, url, Action::Paste, what, verdict)],
    }
}
