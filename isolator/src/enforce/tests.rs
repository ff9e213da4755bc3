//! The enforcer's verdicts: every mode, limits, audit, and failing closed.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use policies::{Action, PolicyStore};

use super::{Enforcer, Outcome};
use crate::auth::User;
use crate::enforce::config::EnforceConfig;

const POLICY: &str = r#"
[defaults]
copy = "allow"

[[apps]]
name = "mail"
hosts = ["mail.example.com"]

[[rules]]
name = "mail-audit"
apps = ["mail"]
paste = { mode = "scan", profiles = ["financial"], on_match = "audit" }

[[rules]]
name = "contractors"
groups = ["contractors"]
read_only = true

[[rules]]
name = "dlp"
profiles = ["financial"]
paste = "scan"
print = "block"
max_clipboard_bytes = 100
"#;

/// An enforcer for `policy` whose extraction workers cannot start
/// (`/bin/false`); the gates' test modules share it.
pub(crate) fn enforcer(policy: &str) -> Enforcer {
    enforcer_with(policy, EnforceConfig::default())
}

fn enforcer_with(policy: &str, config: EnforceConfig) -> Enforcer {
    let policy = policies::compile_str(policy, Path::new("test.toml")).unwrap();
    let store = Arc::new(PolicyStore::new(policy, "test"));
    let workers = enforcer::extract::worker::WorkerConfig::new("/bin/false", ["x"]);
    Enforcer::new(store, config, workers)
}

/// Debian's GPL-3 text (`/usr/share/common-licenses`, package
/// `base-files`): the confidential document of the gates' fingerprint tests.
pub(crate) fn gpl3() -> String {
    std::fs::read_to_string("/usr/share/common-licenses/GPL-3").expect("base-files' GPL-3")
}

/// The first paragraph of the GPL-3's section 13, with its line breaks.
pub(crate) fn gpl3_section_13() -> String {
    let gpl = gpl3();
    let at = gpl
        .find("  13. Use with the GNU Affero")
        .expect("section 13");
    gpl[at..]
        .split("\n\n")
        .nth(1)
        .expect("its paragraph")
        .to_owned()
}

/// An enforcer for `policy` whose registered documents hold the GPL-3
/// text; the store lives as long as the directory returned. Its keyboard
/// budget is 10 s: these tests type whole paragraphs key by key in a
/// debug build beside the rest of the suite, and judge what the passage
/// check decides, not how fast (under the default 50 ms budget, one key
/// delayed by the machine is refused, fail closed: the suite's load made
/// such a test drop a key of the typist's own words).
pub(crate) fn enforcer_with_gpl3(
    policy: &str,
) -> (Enforcer, Arc<super::Fingerprints>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let documents = Arc::new(super::Fingerprints::open(&dir.path().join("store")).unwrap());
    documents.add("GPL-3", "sha-gpl-3", &gpl3(), false).unwrap();
    let config = EnforceConfig {
        keyboard_budget_ms: 10_000,
        ..EnforceConfig::default()
    };
    let e = enforcer_with(policy, config).with_fingerprints(documents.clone());
    (e, documents, dir)
}

fn user(groups: &[&str]) -> User {
    User {
        name: "dana".into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        admin: false,
    }
}

const BUDGET: Duration = Duration::from_secs(5);

#[tokio::test]
async fn scan_blocks_a_match_and_allows_clean_text() {
    let e = enforcer(POLICY);
    let d = e.decide(&user(&[]), "https://intranet.example.org/", Action::Paste);
    let v = e
        .check_text(&d, "card 4111 1111 1111 1111".into(), BUDGET)
        .await;
    assert_eq!(v.outcome, Outcome::Block);
    assert_eq!(v.detectors, vec!["credit_card"]);
    assert_eq!(v.rule, "dlp");
    assert!(
        v.evidence
            .iter()
            .all(|e| !e.contains("4111 1111 1111 1111")),
        "{:?}",
        v.evidence
    );
    let v = e.check_text(&d, "nothing to see".into(), BUDGET).await;
    assert_eq!(v.outcome, Outcome::Allow);
}

#[tokio::test]
async fn audit_rules_let_matches_through_and_flag_them() {
    let e = enforcer(POLICY);
    let d = e.decide(
        &user(&[]),
        "https://mail.example.com/compose",
        Action::Paste,
    );
    let v = e
        .check_text(&d, "card 4111 1111 1111 1111".into(), BUDGET)
        .await;
    assert_eq!(v.outcome, Outcome::Audit);
    assert!(v.passes());
    assert_eq!(v.rule, "mail-audit");
}

#[tokio::test]
async fn limits_read_only_and_block_decide_without_scanning() {
    let e = enforcer(POLICY);
    let d = e.decide(&user(&[]), "https://intranet.example.org/", Action::Paste);
    let v = e.check_text(&d, "x".repeat(101), BUDGET).await;
    assert_eq!(v.outcome, Outcome::Block);
    assert!(v.reason.contains("more than the 100 bytes"), "{}", v.reason);
    let d = e.decide(
        &user(&["contractors"]),
        "https://intranet.example.org/",
        Action::Paste,
    );
    let v = e.check_text(&d, "hello".into(), BUDGET).await;
    assert_eq!(v.outcome, Outcome::Block);
    assert!(v.read_only);
    let d = e.decide(&user(&[]), "https://intranet.example.org/", Action::Copy);
    assert_eq!(
        e.check_text(&d, "4111 1111 1111 1111".into(), BUDGET)
            .await
            .outcome,
        Outcome::Allow
    );
}

#[tokio::test]
async fn a_scan_past_its_budget_fails_closed() {
    let e = enforcer(&POLICY.replace("max_clipboard_bytes = 100", ""));
    let d = e.decide(&user(&[]), "https://intranet.example.org/", Action::Paste);
    let big = "lorem ipsum 1234 ".repeat(400_000);
    let v = e.check_text(&d, big, Duration::from_micros(1)).await;
    assert_eq!(v.outcome, Outcome::Block);
    assert!(v.failed_closed);
    assert!(v.reason.contains("longer than"), "{}", v.reason);
}

#[tokio::test]
async fn files_fail_closed_when_no_extraction_worker_can_run() {
    let e = enforcer("[[rules]]\nname = \"u\"\nprofiles = [\"financial\"]\nupload = \"scan\"\n");
    let d = e.decide(&user(&[]), "https://intranet.example.org/", Action::Upload);
    let v = e.check_file(&d, "a.txt", Arc::new(b"hello".to_vec())).await;
    assert_eq!(v.outcome, Outcome::Block);
    assert!(v.failed_closed);
    assert!(v.reason.contains("no file scanner"), "{}", v.reason);
}

#[tokio::test]
async fn unparseable_urls_belong_to_the_catch_all_app() {
    let e = enforcer(POLICY);
    let d = e.decide(&user(&[]), "not a url", Action::Paste);
    assert_eq!(d.rule.name.as_ref(), "dlp");
}
