//! The paste gate for images: what may cross, before and after OCR.
//!
//! Order of checks, cheapest first, each failing closed:
//! 1. `paste = block` refuses before anything is looked at;
//! 2. the policy's paste size cap (`max_clipboard_bytes`) applies to the
//!    image's bytes, as it does to pasted text;
//! 3. the bytes must be a raster image by content (PNG, JPEG, GIF, WebP,
//!    BMP, TIFF): the endpoint carries images only, so anything else (a
//!    renamed document, truncated junk) is refused whatever the mode;
//! 4. `paste = allow` passes without OCR; `scan` OCRs the image in an
//!    extraction worker and scans the text within `paste_image_budget_ms`.
//!    An image the worker cannot decode is unscannable, hence blocked.

use std::time::Duration;

use enforcer::extract::sniff::sniff;
use enforcer::extract::FileKind;
use policies::{Action, Decision, Mode};

use crate::enforce::file_input::{self, FileInput};
use crate::enforce::{Enforcer, Verdict};

/// How much of an image is read to tell its type by content.
const HEAD: usize = 4096;

/// The MIME type of an image kind, `None` for anything that is not an image.
pub fn image_mime(kind: FileKind) -> Option<&'static str> {
    Some(match kind {
        FileKind::Png => "image/png",
        FileKind::Jpeg => "image/jpeg",
        FileKind::Gif => "image/gif",
        FileKind::Webp => "image/webp",
        FileKind::Bmp => "image/bmp",
        FileKind::Tiff => "image/tiff",
        _ => return None,
    })
}

/// The image type of `bytes` by content, or why they are not an image.
pub fn sniff_image(bytes: &[u8]) -> Result<&'static str, String> {
    let kind = sniff(bytes);
    image_mime(kind).ok_or_else(|| format!("the pasted data is not an image ({})", kind.describe()))
}

/// The verdict on an image named `name` pasted under `decision` (a
/// `paste` decision); see the module docs for the order of checks.
pub async fn check_image(
    enforcer: &Enforcer,
    decision: &Decision,
    name: &str,
    input: impl Into<FileInput>,
) -> Verdict {
    if decision.mode == Mode::Block {
        return Verdict::before_scan(decision).expect("a block decides before scanning");
    }
    let input = input.into();
    let (size, head) = match &input {
        FileInput::Bytes(b) => (b.len() as u64, b[..b.len().min(HEAD)].to_vec()),
        FileInput::Path(p) => {
            let p = p.clone();
            let read = tokio::task::spawn_blocking(move || {
                let (_, size) = file_input::open_regular(&p)?;
                Ok::<_, std::io::Error>((size, file_input::head(&p, HEAD)?))
            })
            .await;
            match read {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    return Verdict::blocked(decision, format!("the image cannot be read ({e})"))
                }
                Err(e) => {
                    return Verdict::blocked(decision, format!("the image cannot be read ({e})"))
                }
            }
        }
    };
    if let Some(max) = decision.limits.max_bytes(Action::Paste) {
        if size > max {
            return Verdict::blocked(
                decision,
                format!("the image is {size} bytes, more than the {max} bytes this app allows for a paste"),
            );
        }
    }
    if let Err(why) = sniff_image(&head) {
        return Verdict::blocked(decision, why);
    }
    if let Some(v) = Verdict::before_scan(decision) {
        return v;
    }
    let budget = Duration::from_millis(enforcer.config().paste_image_budget_ms);
    enforcer
        .check_file_within(decision, name, input, budget)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::User;
    use crate::enforce::Outcome;
    use std::sync::Arc;

    const POLICY: &str = r#"
[[apps]]
name = "wiki"
hosts = ["wiki.example.com"]

[[apps]]
name = "chat"
hosts = ["chat.example.com"]

[[apps]]
name = "mail"
hosts = ["mail.example.com"]

[[rules]]
name = "wiki-open"
apps = ["wiki"]
paste = "allow"

[[rules]]
name = "chat-closed"
apps = ["chat"]
paste = "block"

[[rules]]
name = "mail-small"
apps = ["mail"]
profiles = ["financial"]
paste = "allow"
max_clipboard_bytes = 100

[[rules]]
name = "dlp"
profiles = ["financial"]
paste = "scan"
"#;

    /// An enforcer whose extraction workers cannot start (`/bin/false`).
    fn enforcer() -> Enforcer {
        crate::enforce::tests::enforcer(POLICY)
    }

    async fn verdict(url: &str, bytes: &[u8]) -> Verdict {
        let e = enforcer();
        let user = User {
            name: "dana".into(),
            groups: Default::default(),
            admin: false,
        };
        let d = e.decide(&user, url, Action::Paste);
        check_image(&e, &d, "image.png", Arc::new(bytes.to_vec())).await
    }

    const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[tokio::test]
    async fn block_refuses_without_looking() {
        let v = verdict("https://chat.example.com/", PNG_HEAD).await;
        assert_eq!(v.outcome, Outcome::Block);
        assert!(!v.failed_closed);
        assert_eq!(v.reason, "blocked by rule chat-closed");
    }

    #[tokio::test]
    async fn allow_passes_an_image_without_ocr() {
        // The workers cannot start: an allow never needs them.
        let v = verdict("https://wiki.example.com/", PNG_HEAD).await;
        assert_eq!(v.outcome, Outcome::Allow, "{}", v.reason);
    }

    #[tokio::test]
    async fn anything_but_an_image_is_refused_whatever_the_mode() {
        let v = verdict("https://wiki.example.com/", b"plain text, no picture").await;
        assert_eq!(v.outcome, Outcome::Block);
        assert!(v.failed_closed);
        assert!(
            v.reason.contains("not an image (plain text)"),
            "{}",
            v.reason
        );
    }

    #[tokio::test]
    async fn the_paste_size_cap_applies_to_images() {
        let mut big = PNG_HEAD.to_vec();
        big.resize(101, 0);
        let v = verdict("https://mail.example.com/", &big).await;
        assert_eq!(v.outcome, Outcome::Block);
        assert!(
            v.reason.contains("101 bytes, more than the 100 bytes"),
            "{}",
            v.reason
        );
        let v = verdict("https://mail.example.com/", PNG_HEAD).await;
        assert_eq!(v.outcome, Outcome::Allow, "{}", v.reason);
    }

    #[tokio::test]
    async fn scan_fails_closed_when_no_scanner_runs() {
        let v = verdict("https://intranet.example.org/", PNG_HEAD).await;
        assert_eq!(v.outcome, Outcome::Block);
        assert!(v.failed_closed);
        assert!(
            v.reason.contains("no file scanner is available"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn images_are_told_by_content() {
        assert_eq!(
            sniff_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok("image/png")
        );
        assert_eq!(sniff_image(b"\xff\xd8\xff\xe0\0\x10JFIF"), Ok("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a\x01\0\x01\0"), Ok("image/gif"));
        let err = sniff_image(b"not an image at all").unwrap_err();
        assert!(
            err.starts_with("the pasted data is not an image ("),
            "{err}"
        );
        assert!(sniff_image(b"").is_err());
        assert!(sniff_image(b"%PDF-1.7\n").is_err());
    }
}
