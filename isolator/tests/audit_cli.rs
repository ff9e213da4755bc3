//! `isolator audit verify|export` as a user runs them.

use std::process::Command;
use std::sync::Arc;

use isolator::audit::{AuditConfig, Decision, DecisionEvent, Event, Frame, SessionInfo, Store};

fn isolator(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_isolator"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn verify_export_and_verify_the_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rec");
    let cfg = AuditConfig {
        dir: root.clone(),
        segment_max_bytes: 64 << 10,
        ..AuditConfig::default()
    };
    let store = Store::open(&cfg).unwrap();
    let info = SessionInfo {
        session: "cli-1".into(),
        user: "alice".into(),
        ..SessionInfo::default()
    };
    let mut rec = store.start_at(&info, 1_764_000_000_000).unwrap();
    for i in 0..10u64 {
        let jpeg: Arc<[u8]> = Arc::from(vec![i as u8; 30_000]);
        rec.record_at(
            i * 1000,
            0,
            Event::Frame(Frame {
                tab: 1,
                width: 4,
                height: 4,
                jpeg,
            }),
        )
        .unwrap();
    }
    rec.record_at(
        11_000,
        0,
        Event::Decision(DecisionEvent {
            tab: None,
            gate: "upload".into(),
            action: "upload a.pdf".into(),
            decision: Decision::Block,
            rule: None,
            app: None,
            url: None,
            detectors: vec!["pii.ssn".into()],
            evidence: vec![],
            reason: "ssn".into(),
        }),
    )
    .unwrap();
    let dir = rec.dir().to_owned();
    rec.end_at(12_000, 0, "logout").unwrap();
    let root_s = root.to_str().unwrap();

    let (code, out) = isolator(&["audit", "verify", "cli-1", "--dir", root_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
    let (code, out) = isolator(&["audit", "verify", root_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("retention log: intact"), "{out}");

    let bundle = tmp.path().join("cli-1.tar");
    let bundle_s = bundle.to_str().unwrap();
    let (code, out) = isolator(&["audit", "export", "cli-1", "-o", bundle_s, "--dir", root_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 incidents"), "{out}");
    let (code, out) = isolator(&["audit", "verify", bundle_s]);
    assert_eq!(code, 0, "{out}");

    // Tamper with the recording: verify exits 1 and names the position.
    let seg = dir.join("000001.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[5_000] ^= 1;
    std::fs::write(&seg, &bytes).unwrap();
    let (code, out) = isolator(&["audit", "verify", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("TAMPERED") && out.contains("000001.seg byte"),
        "{out}"
    );
    let (code, out) = isolator(&["audit", "export", "cli-1", "-o", bundle_s, "--dir", root_s]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("does not verify"), "{out}");

    let (code, out) = isolator(&["audit", "verify", "nope", "--dir", root_s]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no session \"nope\""), "{out}");
}
