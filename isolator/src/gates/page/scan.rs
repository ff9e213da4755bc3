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

use std::sync::Arc;
use std::time::{Duration, Instant};

use enforcer::fingerprint::{Index, DETECTOR};
use policies::{Decision, Mode};

use crate::auth::User;
use crate::enforce::{fingerprints, Enforcer, Verdict};

/// Longest page text scanned, bytes; beyond it the text is cut (and the verdict says so).
pub const MAX_PAGE_TEXT: usize = 4 << 20;

/// Most distinct values sent back to the page for masking.
const MAX_MASK_VALUES: usize = 500;

/// Shortest line of a registered document's passage sent for masking: the
/// page hides every occurrence of a value, and a line break can leave a
/// piece as common as "of the".
const MIN_PASSAGE_PIECE: usize = 12;

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
    let index = enforcer.fingerprints_for(&decision);
    check_page_with(&decision, index, text, budget).await
}

/// Like [`check_page`] with a decision already taken; `index` holds the
/// registered documents when its profiles list `fingerprints`
/// ([`Enforcer::fingerprints_for`]): the passages the page shares with
/// them are found where they stand.
pub async fn check_page_with(
    decision: &Decision,
    index: Option<Arc<Option<Index>>>,
    mut text: String,
    budget: Duration,
) -> PageCheck {
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
    if decision.selection.is_none() && index.is_none() {
        check.verdict = Some(Verdict::blocked(
            decision,
            "the rule scans with no profile".into(),
        ));
        return check;
    }
    let selection = decision.selection.clone();
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
        let mut report = match &selection {
            Some(selection) => engine.scan_selection(&text, selection),
            None => enforcer::ScanReport::default(),
        };
        if let Some(index) = &index {
            fingerprints::look_up_passages(index.as_ref().as_ref(), &text, &mut report);
        }
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
        let Some(value) = text.get(f.start..f.end) else {
            continue;
        };
        // A passage may run over several blocks (lines of the page text):
        // the page matches values within a block.
        let (pieces, shortest) = if f.detector == DETECTOR {
            (value.split('\n').collect::<Vec<_>>(), MIN_PASSAGE_PIECE)
        } else {
            (vec![value], 1)
        };
        for piece in pieces {
            let piece = piece.trim();
            if piece.len() >= shortest
                && !check.mask_values.iter().any(|v| v == piece)
                && check.mask_values.len() < MAX_MASK_VALUES
            {
                check.mask_values.push(piece.to_owned());
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

#[cfg(test)]
mod document_tests {
    //! A page showing a passage of a registered document (Debian's GPL-3
    //! text, package `base-files`): the passage is hidden line by line,
    //! the page's own text is not.
    use super::*;
    use crate::enforce::Outcome;

    const POLICY: &str = r#"
[[apps]]
name = "wiki"
hosts = ["wiki.example"]

[[rules]]
name = "wiki-audit"
apps = ["wiki"]
page = { mode = "scan", profiles = ["fingerprints"], on_match = "audit" }

[[rules]]
name = "no-confidential-documents"
page = { mode = "scan", profiles = ["fingerprints"] }
"#;

    #[tokio::test]
    async fn a_registered_passage_on_a_page_is_hidden_where_it_stands() {
        let (e, _documents, _dir) = crate::enforce::tests::enforcer_with_gpl3(POLICY);
        let user = User {
            name: "dana".into(),
            groups: Vec::new(),
            admin: false,
        };
        // Section 13's first paragraph, as the licence wraps it, between
        // the page's own lines.
        let para = crate::enforce::tests::gpl3_section_13();
        let own = [
            "Team wiki: release notes",
            "Contact the front desk about invoices",
        ];
        let page = format!("{}\n{para}\n{}", own[0], own[1]);
        let check = check_page(&e, &user, "https://paste.example/p/1", page.clone()).await;
        let verdict = check.verdict.expect("scanned");
        assert_eq!(verdict.outcome, Outcome::Block);
        assert_eq!(verdict.detectors, vec!["document_match"]);
        assert!(!check.mask_values.is_empty());
        let lines: Vec<&str> = para.lines().map(str::trim).collect();
        for v in &check.mask_values {
            assert!(
                lines.iter().any(|l| l.contains(v.as_str())),
                "{v:?} is a piece of one line of the passage"
            );
            assert!(v.len() >= MIN_PASSAGE_PIECE);
            assert!(!own.iter().any(|o| o.contains(v.as_str())));
        }
        let hidden: usize = check.mask_values.iter().map(|v| v.len()).sum();
        let total: usize = lines.iter().map(|l| l.len()).sum();
        assert!(hidden * 10 >= total * 7, "{hidden} of {total} bytes hidden");
        // Where the rule only records, the page shows it.
        let check = check_page(&e, &user, "https://wiki.example/p/1", page).await;
        assert_eq!(check.verdict.unwrap().outcome, Outcome::Audit);
        assert!(check.mask_values.is_empty());
    }
}
