//! The paste gate (local to remote): clipboard text arrives as a `paste`
//! message, is decided and scanned within the clipboard budget, and only
//! then inserted with `Input.insertText` (Chromium's own clipboard is never
//! involved). Images are pasted over HTTP and OCR'd ([`image`]).

pub mod image;

use std::time::{Duration, Instant};

use policies::{Action, Decision, Mode};

use crate::auth::User;
use crate::enforce::{Enforcer, Verdict};
use crate::gates::keyboard::KeyboardGate;
use crate::gates::{GateReport, Ruling};

/// The `paste` decision for `user` pasting into `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Paste)
}

/// Rules on pasting `text` into tab `tab` showing `url`. The text is
/// scanned alone, then, where the paste is scanned, as the focused field
/// would hold it (the keyboard gate's model of the field): half a card
/// pasted next to the other half typed or pasted before is refused too. A
/// paste that passes lands in the field model.
pub async fn on_text(
    enforcer: &Enforcer,
    user: &User,
    (tab, url): (u16, &str),
    text: &str,
    keyboard: &mut KeyboardGate,
) -> Ruling {
    let d = decision(enforcer, user, url);
    let budget = Duration::from_millis(enforcer.config().clipboard_budget_ms);
    let what = format!("paste of {} characters", text.chars().count());
    let started = Instant::now();
    let mut verdict = enforcer.check_text(&d, text.to_owned(), budget).await;
    let mut pasted = false;
    if verdict.passes() && d.mode == Mode::Scan {
        if let Some(report) = keyboard.paste_completes(enforcer, tab, &d, text) {
            verdict = Verdict::from_report(&d, &report, started.elapsed());
            verdict.reason = format!(
                "{}, with what the field already holds; the paste was not delivered",
                verdict.reason
            );
        }
        pasted = verdict.passes();
    }
    if verdict.passes() && !pasted {
        keyboard.pasted(tab, text);
    }
    Ruling {
        pass: verdict.passes(),
        keep_text: d.keep_typed_text,
        reports: vec![GateReport::in_tab(tab, url, Action::Paste, what, verdict)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::keyboard::field::FieldReport;

    const POLICY: &str =
        "[[rules]]\nname = \"dlp\"\nprofiles = [\"financial\"]\npaste = \"scan\"\nkeyboard = \"scan\"\n";

    #[tokio::test]
    async fn a_half_pasted_next_to_the_other_half_in_the_field_is_refused() {
        let e = crate::enforce::tests::enforcer(POLICY);
        let user = User {
            name: "dana".into(),
            groups: Vec::new(),
            admin: false,
        };
        let mut kb = KeyboardGate::default();
        kb.field_report(
            1,
            FieldReport {
                field: 3,
                value: "card 4111 1111 ".into(),
                start_utf16: 15,
                end_utf16: 15,
                multiline: false,
                before: String::new(),
                after: String::new(),
                caret_unknown: false,
                keys_seen: None,
            },
        );
        let place = (1, "https://shop.example/");
        let r = on_text(&e, &user, place, "1111 1111", &mut kb).await;
        assert!(!r.pass, "the field would hold 4111 1111 1111 1111");
        assert!(r.reports[0].verdict.reason.contains("already holds"));
        // Fifteen digits pasted at once would fix the sixteenth: refused too.
        let mut kb = KeyboardGate::default();
        let r = on_text(&e, &user, place, "4111 1111 1111 111", &mut kb).await;
        assert!(!r.pass);
        // Clean text passes and lands in the field.
        let r = on_text(&e, &user, place, "hello", &mut kb).await;
        assert!(r.pass);
    }
}
