//! The page-content gate's server side: the authoritative scan of a page's
//! text and the values the page script must hide.
//!
//! The page script (`session/page_content.js`) masks likely values at once
//! with patterns, before the page is painted, and reports the page's
//! original text; [`check_page`] scans it with the `page`
//! decision and answers with the verdict (an incident when something was
//! found) and the exact values to mask: those of the rule's `mask`
//! detectors, and every value found when the rule blocks. It also tells
//! the page whether to OCR its images ([`super::image`]).

use std::time::{Duration, Instant};

use policies::{Decision, Mode};

use crate::auth::User;
use crate::enforce::{Enforcer, Verdict};

/// Longest page text scanned, bytes; beyond it the text is cut (and the verdict says so).
pub const MAX_PAGE_TEXT: usize = 4 << 20;

/// Most distinct values sent back to the page for masking.
const MAX_MASK_VALUES: usize = 500;

/// The outcome of scanning a page's text.
#[derive(Debug)]
pub struct PageCheck {
    /// The verdict; `None` when the policy does not scan this page.
    pub verdict: Option<Verdict>,
    /// The detectors the rule masks (the page script's patterns).
    pub mask_detectors: Vec<String>,
    /// Exact values found that the page must hide.
    pub mask_values: Vec<String>,
    /// Whether the page's images, canvases and SVG images are OCR'd too
    /// (see [`super::page_image`]).
    pub ocr_images: bool,
    /// Whether images not (yet) found clean are hidden.
    pub hide_images: bool,
}

/// The `page` decision for `user` on `url`, and the scan of `text` it asks for.
pub async fn check_page(enforcer: &Enforcer, user: &User, url: &str, text: String) -> PageCheck {
    let decision = super::decision(enforcer, user, url);
    let budget = Duration::from_millis(enforcer.config().page_budget_ms);
    check_page_with(&decision, text, budget).await
}

/// Like [`check_page`] with a decision already taken.
pub async fn check_page_with(decision: &Decision, mut text: String, budget: Duration) -> PageCheck {
    let mut check = PageCheck {
        verdict: None,
        mask_detectors: decision.mask.to_vec(),
        mask_values: Vec::new(),
        ocr_images: decision.ocr_images && decision.mode == Mode::Scan,
        hide_images: super::image::hides_images(decision),
    };
    if decision.mode != Mode::Scan {
        return check;
    }
    let Some(selection) = decision.selection.clone() else {
        check.verdict = Some(Verdict::blocked(
            decision,
            "the rule scans with no profile".into(),
        ));
        return check;
    };
    let cut = text.len() > MAX_PAGE_TEXT;
    if cut {
        let mut end = MAX_PAGE_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    let engine = decision.engine.clone();
    let started = Instant::now();
    let job = tokio::task::spawn_blocking(move || {
        let report = engine.scan_selection(&text, &selection);
        (text, report)
    });
    let (text, report) = match tokio::time::timeout(budget, job).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            check.verdict = Some(Verdict::blocked(decision, format!("the scan failed ({e})")));
            return check;
        }
        Err(_) => {
            check.verdict = Some(Verdict::blocked(
                decision,
                format!("the scan took longer than {} ms", budget.as_millis()),
            ));
            return check;
        }
    };
    let mut verdict = Verdict::from_report(decision, &report, started.elapsed());
    if cut {
        verdict.reason = format!(
            "{} (only the first {} bytes of the page were scanned)",
            verdict.reason, MAX_PAGE_TEXT
        );
    }
    let hide_all = !verdict.passes();
    for f in &report.findings {
        if !(hide_all || decision.mask.iter().any(|m| *m == f.detector)) {
            continue;
        }
        if let Some(value) = text.get(f.start..f.end) {
            let value = value.trim();
            if !value.is_empty()
                && !check.mask_values.iter().any(|v| v == value)
                && check.mask_values.len() < MAX_MASK_VALUES
            {
                check.mask_values.push(value.to_owned());
            }
        }
    }
    if hide_all {
        for d in &verdict.detectors {
            if !check.mask_detectors.contains(d) {
                check.mask_detectors.push(d.clone());
            }
        }
    }
    check.verdict = Some(verdict);
    check
}

/// Every detector some rule of the policy in force masks: the page
/// script hides their likely values until the server says what this
/// page's rule masks.
pub fn masked_anywhere(enforcer: &Enforcer) -> Vec<String> {
    let policy = enforcer.store().current();
    let mut all: Vec<String> = Vec::new();
    for rule in &policy.document().rules {
        for d in &rule.mask {
            if !all.contains(d) {
                all.push(d.clone());
            }
        }
    }
    all
}

/// Longest page-controlled text the client draws (a dialog's message, a
/// title, a URL) that is masked; longer text is cut to it first.
pub const MAX_DRAWN_TEXT: usize = 16 << 10;

/// Page-controlled text the client draws itself (a dialog's message or
/// default answer, the title, the URL) as the page's rule shows it: the
/// values of the rule's `mask` detectors, and every value found when the
/// rule would block, replaced by bullets (letters and digits only, so the
/// layout stays). Text of a page whose rule does not scan is returned as is.
pub fn mask_drawn_text(decision: &Decision, text: &str) -> String {
    let mut text = text;
    if text.len() > MAX_DRAWN_TEXT {
        let mut end = MAX_DRAWN_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = &text[..end];
    }
    if decision.mode != Mode::Scan || text.is_empty() {
        return text.to_owned();
    }
    let Some(selection) = decision.selection.as_ref() else {
        return text.to_owned();
    };
    let report = decision.engine.scan_selection(text, selection);
    let verdict = Verdict::from_report(decision, &report, Duration::ZERO);
    let hide_all = !verdict.passes();
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    let mut hidden = vec![false; text.len()];
    for f in &report.findings {
        if hide_all || decision.mask.iter().any(|m| *m == f.detector) {
            for h in hidden.iter_mut().take(f.end.min(text.len())).skip(f.start) {
                *h = true;
            }
        }
    }
    for (i, c) in text.char_indices() {
        out.push(if hidden[i] && c.is_alphanumeric() {
            '\u{2022}'
        } else {
            c
        });
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod drawn_tests {
    use super::*;
    use crate::auth::User;

    const POLICY: &str = "[[rules]]\nname = \"shop\"\nprofiles = [\"financial\"]\npage = \"scan\"\nmask = [\"credit_card\"]\n";

    #[test]
    fn drawn_text_hides_masked_values_and_keeps_the_rest() {
        let e = crate::enforce::tests::enforcer(POLICY);
        let user = User {
            name: "dana".into(),
            groups: Vec::new(),
            admin: false,
        };
        let d = super::super::decision(&e, &user, "https://shop.example/");
        let shown = mask_drawn_text(&d, "Your card 4111 1111 1111 1111 is saved");
        assert_eq!(
            shown,
            "Your card \u{2022}\u{2022}\u{2022}\u{2022} \u{2022}\u{2022}\u{2022}\u{2022} \u{2022}\u{2022}\u{2022}\u{2022} \u{2022}\u{2022}\u{2022}\u{2022} is saved"
        );
        assert_eq!(mask_drawn_text(&d, "Proceed?"), "Proceed?");
        let open =
            crate::enforce::tests::enforcer("[[rules]]\nname = \"open\"\npage = \"allow\"\n");
        let d = super::super::decision(&open, &user, "https://shop.example/");
        assert_eq!(
            mask_drawn_text(&d, "card 4111 1111 1111 1111"),
            "card 4111 1111 1111 1111"
        );
    }
}
