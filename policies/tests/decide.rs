//! Matching and precedence, through `decide`, with real compiled documents.

use std::path::Path;

use policies::{compile_str, Action, Identity, Mode, OnMatch, Policy, Step};

fn policy(src: &str) -> Policy {
    compile_str(src, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn who(user: &str, groups: &[&str]) -> Identity {
    Identity::new(user, groups.iter().copied())
}

const DOC: &str = r#"
[defaults]
print = "block"
max_clipboard_bytes = "1 KiB"

[[apps]]
name = "webmail"
hosts = ["mail.example.com"]

[[apps]]
name = "corp"
hosts = ["*.example.com"]

[[apps]]
name = "finance"
hosts = ["portal.example.com/finance"]

[[rules]]
name = "contractors-ro"
apps = ["finance"]
groups = ["Contractors"]
read_only = true
copy = "block"

[[rules]]
name = "alice-anything"
users = ["alice"]
paste = "allow"
upload = "allow"

[[rules]]
name = "webmail-upload"
apps = ["webmail"]
upload = { mode = "scan", profiles = ["credentials"], on_match = "audit" }
max_clipboard_bytes = 10

[[rules]]
name = "unknown-sites"
apps = ["other"]
copy = "block"

[[rules]]
name = "catch-all"
profiles = ["financial", "credentials"]
paste = "scan"
upload = "scan"
"#;

#[test]
fn first_rule_that_sets_the_action_wins() {
    let p = policy(DOC);
    let bob = who("bob", &[]);
    let d = p
        .decide_str(&bob, "https://mail.example.com/inbox", Action::Upload)
        .unwrap();
    assert_eq!(d.mode, Mode::Scan);
    assert_eq!(d.on_match, OnMatch::Audit);
    assert_eq!(&*d.rule.name, "webmail-upload");
    assert_eq!(&*d.app, "webmail");
    assert_eq!(&*d.profiles, ["credentials".to_owned()]);
    assert!(d.selection.is_some());

    // webmail-upload says nothing about paste: falls through to catch-all.
    let d = p
        .decide_str(&bob, "https://mail.example.com/", Action::Paste)
        .unwrap();
    assert_eq!(&*d.rule.name, "catch-all");
    assert_eq!(
        &*d.profiles,
        ["financial".to_owned(), "credentials".to_owned()]
    );
    assert_eq!(d.on_match, OnMatch::Block);
    assert_eq!(
        d.explain,
        vec![
            Step::AppNotSelected { rule: 0 },
            Step::UserNotSelected { rule: 1 },
            Step::ActionNotSet { rule: 2 },
            Step::AppNotSelected { rule: 3 },
            Step::Matched { rule: 4 },
        ]
    );
    // Limits come from the deciding rule, defaults fill the gaps.
    assert_eq!(d.limits.max_clipboard_bytes, Some(1024));

    // Nobody sets print: defaults.
    let d = p
        .decide_str(&bob, "https://mail.example.com/", Action::Print)
        .unwrap();
    assert_eq!(d.mode, Mode::Block);
    assert_eq!(d.rule.index, None);
    assert_eq!(&*d.rule.name, "defaults");
    assert_eq!(d.explain.last(), Some(&Step::Defaults));
    // Unset in defaults: allowed.
    let d = p
        .decide_str(&bob, "https://mail.example.com/", Action::Download)
        .unwrap();
    assert_eq!(d.mode, Mode::Allow);
}

#[test]
fn users_and_groups_select_case_insensitively() {
    let p = policy(DOC);
    let d = p
        .decide_str(
            &who("ALICE", &[]),
            "https://mail.example.com/",
            Action::Upload,
        )
        .unwrap();
    assert_eq!(&*d.rule.name, "alice-anything");
    let d = p
        .decide_str(
            &who("dana", &["staff", "contractors"]),
            "https://portal.example.com/finance/q3",
            Action::Paste,
        )
        .unwrap();
    assert_eq!(&*d.rule.name, "contractors-ro");
    assert_eq!(d.mode, Mode::Block);
    assert!(d.read_only);
    // read_only does not touch output actions it does not set.
    let d = p
        .decide_str(
            &who("dana", &["contractors"]),
            "https://portal.example.com/finance",
            Action::Download,
        )
        .unwrap();
    assert_eq!(d.mode, Mode::Allow);
    assert_eq!(&*d.rule.name, "defaults");
    // Outside the finance path prefix, the portal is `corp`.
    let d = p
        .decide_str(
            &who("dana", &["contractors"]),
            "https://portal.example.com/financeX",
            Action::Paste,
        )
        .unwrap();
    assert_eq!(&*d.app, "corp");
    assert_eq!(&*d.rule.name, "catch-all");
}

#[test]
fn catch_all_app_and_tricky_hosts() {
    let p = policy(DOC);
    let bob = who("bob", &[]);
    let app = |url: &str| {
        p.decide_str(&bob, url, Action::Copy)
            .unwrap()
            .app
            .to_string()
    };
    assert_eq!(app("https://evil-example.com/"), "other");
    assert_eq!(app("https://example.com/"), "other");
    assert_eq!(app("https://MAIL.Example.COM./"), "webmail");
    assert_eq!(app("https://mail.example.com:8443/"), "webmail");
    assert_eq!(app("https://x.mail.example.com/"), "corp");
    assert_eq!(app("about:blank"), "other");
    let d = p
        .decide_str(&bob, "https://evil-example.com/", Action::Copy)
        .unwrap();
    assert_eq!(&*d.rule.name, "unknown-sites");
    assert!(p.decide_str(&bob, "not a url", Action::Copy).is_err());
}

#[test]
fn explain_lines_name_rules_and_reasons() {
    let p = policy(DOC);
    let d = p
        .decide_str(&who("bob", &[]), "https://mail.example.com/", Action::Paste)
        .unwrap();
    let lines = p.explain_lines(&d);
    assert_eq!(lines.len(), 5);
    assert!(
        lines[0].contains("contractors-ro") && lines[0].contains("app `webmail`"),
        "{}",
        lines[0]
    );
    assert!(lines[2].contains("does not set `paste`"), "{}", lines[2]);
    assert!(
        lines[4].contains("catch-all") && lines[4].contains("scan with [financial, credentials]"),
        "{}",
        lines[4]
    );
}

#[test]
fn example_policy_loads_and_scans_by_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policy.toml");
    let p = policies::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let anyone = who("eve", &[]);
    for action in [
        Action::Paste,
        Action::Upload,
        Action::Keyboard,
        Action::Submit,
    ] {
        let d = p
            .decide_str(&anyone, "https://news.example.org/", action)
            .unwrap();
        assert_eq!(d.mode, Mode::Scan, "{action}");
        assert!(d.profiles.iter().any(|p| p == "financial"));
        assert!(d.selection.is_some());
    }
    let d = p
        .decide_str(
            &who("dana", &["contractors"]),
            "https://finance.example.com/",
            Action::Keyboard,
        )
        .unwrap();
    assert_eq!(d.mode, Mode::Block);
    let d = p
        .decide_str(&anyone, "https://mail.example.com/compose", Action::Upload)
        .unwrap();
    assert_eq!(&*d.rule.name, "webmail-attachments");
    assert!(d.limits.allows_type(Action::Upload, "report.PDF", None));
    assert!(!d.limits.allows_type(Action::Upload, "tool.exe", None));
    assert!(d.limits.allows_type(Action::Upload, "scan", Some("png")));
    assert_eq!(d.limits.max_upload_bytes, Some(25_000_000));
    // A webmail's message bodies are scanned by the catch-all rule.
    let d = p
        .decide_str(&anyone, "https://mail.example.com/send", Action::Submit)
        .unwrap();
    assert_eq!(d.mode, Mode::Scan);
    assert_eq!(&*d.rule.name, "catch-all-dlp");
}

#[test]
fn document_round_trips_through_toml_and_json() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policy.toml");
    let p = policies::load_file(&path).unwrap();
    let toml_text = policies::to_toml(p.document());
    let back = policies::parse_document(&toml_text, Path::new("x.toml")).unwrap();
    assert_eq!(&back, p.document());
    let json = serde_json::to_string(p.document()).unwrap();
    let back: policies::PolicyDocument = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, p.document());
}

#[test]
fn ocr_images_applies_to_page_decisions_of_its_rule_only() {
    let p = policy(
        r#"
[[apps]]
name = "bank"
hosts = ["bank.example.com"]

[[rules]]
name = "bank-images"
apps = ["bank"]
page = { mode = "scan", profiles = ["financial"] }
mask = ["credit_card"]
ocr_images = true
paste = "allow"

[[rules]]
name = "text-only"
page = { mode = "scan", profiles = ["financial"] }
"#,
    );
    let bob = who("bob", &[]);
    let page = p
        .decide_str(&bob, "https://bank.example.com/a", Action::Page)
        .unwrap();
    assert!(page.ocr_images);
    assert_eq!(page.rule.name.as_ref(), "bank-images");
    let paste = p
        .decide_str(&bob, "https://bank.example.com/a", Action::Paste)
        .unwrap();
    assert!(!paste.ocr_images, "only page decisions OCR");
    let other = p
        .decide_str(&bob, "https://shop.example.com/", Action::Page)
        .unwrap();
    assert!(!other.ocr_images);
    assert_eq!(other.rule.name.as_ref(), "text-only");
}
