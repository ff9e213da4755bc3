//! The page-content gate for images: OCR of a page's images, canvases and
//! SVG images, on demand (rules with `ocr_images = true`).
//!
//! The page script sends the pixels it already has (an `<img>` drawn to a
//! canvas at its natural size, a `<canvas>`'s own bitmap, an SVG rasterised),
//! never a screenshot of the screen: a screenshot would show the image as
//! masked once it is masked, so a changed image could never be re-checked,
//! and it would miss the parts scrolled out of view. Images the page cannot
//! read back (cross-origin without CORS) come as their URL; the session asks
//! Chromium for the bytes it already holds (`Page.getResourceContent`), so
//! the site is not asked again.
//!
//! [`check_page_image`] OCRs the PNG in an extraction worker
//! (the same pool, limits and process isolation as uploaded files), scans the
//! text with the page decision, and says whether the image must be masked:
//! when a finding's detector is in the rule's `mask`, or the rule blocks on
//! a match. Everything fails closed: an image that cannot be read, decoded
//! or OCR'd in time is an incident, and is masked when the rule masks
//! anything.

use std::time::{Duration, Instant};

use enforcer::extract::{Extraction, Limits};
use policies::{Decision, Mode, OnMatch};

use crate::enforce::{Enforcer, Verdict};

/// Most pixels of one page image given to OCR (the page script scales
/// larger ones down to fit before sending them).
pub const MAX_IMAGE_PIXELS: u64 = 4_000_000;

/// Largest encoded page image accepted, bytes.
pub const MAX_IMAGE_BYTES: usize = 16 << 20;

/// The outcome of checking one page image.
#[derive(Debug)]
pub struct ImageCheck {
    /// The verdict: clean, findings, or unscannable (failed closed).
    pub verdict: Verdict,
    /// Whether the page must hide the image.
    pub mask: bool,
}

/// Whether `decision` hides images it cannot vouch for: pending, unscannable
/// or matching ones. True when the rule OCRs images and masks anything, or
/// blocks on a match.
pub fn hides_images(decision: &Decision) -> bool {
    decision.ocr_images
        && decision.mode == Mode::Scan
        && (!decision.mask.is_empty() || decision.on_match == OnMatch::Block)
}

/// OCRs one page image (`png`, any format the extractor reads) and scans
/// its text under `decision`, within the page-image budget. `None` when
/// the decision does not OCR images (the page asked without the policy).
pub async fn check_page_image(
    enforcer: &Enforcer,
    decision: &Decision,
    png: Vec<u8>,
) -> Option<ImageCheck> {
    if !decision.ocr_images || decision.mode != Mode::Scan {
        return None;
    }
    let hide = hides_images(decision);
    let fail = |reason: String| ImageCheck {
        verdict: Verdict::blocked(decision, reason),
        mask: hide,
    };
    let Some(selection) = decision.selection.clone() else {
        return Some(fail("the rule scans with no profile".into()));
    };
    if png.len() > MAX_IMAGE_BYTES {
        return Some(fail(format!(
            "the image cannot be scanned: {} bytes is more than {MAX_IMAGE_BYTES}",
            png.len()
        )));
    }
    let pool = match enforcer.pool().await {
        Ok(p) => p,
        Err(e) => return Some(fail(format!("no image scanner is available ({e})"))),
    };
    let budget = Duration::from_millis(enforcer.config().page_image_budget_ms);
    let limits = Limits {
        max_input_bytes: MAX_IMAGE_BYTES as u64,
        // 2x upscale of small images is charged too.
        max_ocr_pixels: MAX_IMAGE_PIXELS * 8,
        max_wall_time_ms: enforcer.config().page_image_budget_ms,
        ..pool.config().limits.clone()
    };
    let engine = decision.engine.clone();
    let started = Instant::now();
    let job = tokio::task::spawn_blocking(move || {
        let extraction = pool.extract_with("page-image.png", &png, &limits);
        let reports: Vec<_> = extraction
            .parts()
            .iter()
            .map(|p| engine.scan_selection(&p.text, &selection))
            .collect();
        (extraction, reports)
    });
    let (extraction, reports) = match tokio::time::timeout(budget, job).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Some(fail(format!("the image scan failed ({e})"))),
        Err(_) => {
            return Some(fail(format!(
                "the image could not be read within {} ms",
                budget.as_millis()
            )))
        }
    };
    if let Extraction::Unscannable { reason } = &extraction {
        return Some(fail(format!("the image cannot be scanned: {reason}")));
    }
    let mut merged = enforcer::ScanReport::default();
    for r in reports {
        merged.findings.extend(r.findings);
        for f in r.fired {
            if !merged.fired.contains(&f) {
                merged.fired.push(f);
            }
        }
    }
    let verdict = Verdict::from_report(decision, &merged, started.elapsed());
    let mask = !verdict.passes()
        || merged
            .findings
            .iter()
            .any(|f| decision.mask.iter().any(|m| *m == f.detector));
    Some(ImageCheck { verdict, mask })
}

/// The verdict on an image the page could not hand over (`reason`):
/// an incident, masked when the rule hides what it cannot vouch for.
/// `None` when the decision does not OCR images.
pub fn unscannable_page_image(decision: &Decision, reason: &str) -> Option<ImageCheck> {
    if !decision.ocr_images || decision.mode != Mode::Scan {
        return None;
    }
    Some(ImageCheck {
        verdict: Verdict::blocked(decision, format!("the image cannot be scanned: {reason}")),
        mask: hides_images(decision),
    })
}

/// Whether some rule of the policy in force OCRs images: until the
/// server has decided for a page, its script hides new images (as it
/// hides likely values of every detector some rule masks).
pub fn ocr_images_anywhere(enforcer: &Enforcer) -> bool {
    let policy = enforcer.store().current();
    let doc = policy.document();
    std::iter::once(&doc.defaults)
        .chain(doc.rules.iter())
        .any(|r| r.ocr_images == Some(true))
}

#[cfg(test)]
mod tests {
    use policies::Action;

    use super::*;
    use crate::auth::User;
    use crate::enforce::Outcome;

    const POLICY: &str = r#"
[[apps]]
name = "bank"
hosts = ["bank.example.com"]

[[apps]]
name = "audit"
hosts = ["audit.example.com"]

[[apps]]
name = "blocking"
hosts = ["blocking.example.com"]

[[rules]]
name = "bank"
apps = ["bank"]
page = { mode = "scan", profiles = ["financial"], on_match = "audit" }
mask = ["credit_card"]
ocr_images = true

[[rules]]
name = "audit"
apps = ["audit"]
page = { mode = "scan", profiles = ["financial"], on_match = "audit" }
ocr_images = true

[[rules]]
name = "blocking"
apps = ["blocking"]
page = { mode = "scan", profiles = ["financial"] }
ocr_images = true

[[rules]]
name = "text-only"
page = { mode = "scan", profiles = ["financial"], on_match = "audit" }
mask = ["credit_card"]
"#;

    /// An enforcer whose extraction workers cannot start (`/bin/false`).
    fn enforcer() -> Enforcer {
        crate::enforce::tests::enforcer(POLICY)
    }

    fn decide(e: &Enforcer, host: &str) -> Decision {
        e.decide(
            &User::anonymous(),
            &format!("https://{host}/"),
            Action::Page,
        )
    }

    #[tokio::test]
    async fn pages_whose_rule_does_not_ocr_get_no_ocr() {
        let e = enforcer();
        let d = decide(&e, "shop.example.com");
        assert!(!d.ocr_images);
        assert!(check_page_image(&e, &d, vec![1, 2, 3]).await.is_none());
        assert!(unscannable_page_image(&d, "tainted").is_none());
        assert!(ocr_images_anywhere(&e));
    }

    #[tokio::test]
    async fn images_fail_closed_and_are_masked_where_the_rule_masks() {
        let e = enforcer();
        let d = decide(&e, "bank.example.com");
        let c = check_page_image(&e, &d, vec![0x89, b'P']).await.unwrap();
        assert_eq!(c.verdict.outcome, Outcome::Block);
        assert!(c.verdict.failed_closed);
        assert!(
            c.verdict.reason.contains("no image scanner"),
            "{}",
            c.verdict.reason
        );
        assert!(c.mask);
        // Audit-only rules report unscannable images but show them.
        let d = decide(&e, "audit.example.com");
        let c = unscannable_page_image(&d, "the canvas holds cross-origin pixels").unwrap();
        assert!(
            c.verdict.reason.contains("cross-origin"),
            "{}",
            c.verdict.reason
        );
        assert!(!c.mask);
    }

    #[tokio::test]
    async fn oversized_images_are_refused_before_any_worker() {
        let e = enforcer();
        let d = decide(&e, "bank.example.com");
        let c = check_page_image(&e, &d, vec![0; MAX_IMAGE_BYTES + 1])
            .await
            .unwrap();
        assert!(
            c.verdict.reason.contains("bytes is more than"),
            "{}",
            c.verdict.reason
        );
        assert!(c.mask);
    }

    #[test]
    fn images_are_hidden_where_the_rule_masks_or_blocks() {
        let e = enforcer();
        assert!(hides_images(&decide(&e, "bank.example.com")));
        assert!(!hides_images(&decide(&e, "audit.example.com")));
        assert!(hides_images(&decide(&e, "blocking.example.com")));
        assert!(!hides_images(&decide(&e, "shop.example.com")));
    }
}
