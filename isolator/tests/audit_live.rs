//! Live recording: the writer thread behind `LiveRecorder`, its failure
//! handling (a session goes on unrecorded, the admin sees why) and the
//! hash-chained access log.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use isolator::audit::{
    AuditConfig, AuditService, Decision, DecisionEvent, Event, Input, InputKind, Reader,
    SessionInfo, Status,
};

fn config(dir: &Path) -> AuditConfig {
    AuditConfig {
        dir: dir.to_owned(),
        segment_max_bytes: 64 << 10,
        max_fps: 50,
        ..AuditConfig::default()
    }
}

fn info(id: &str) -> SessionInfo {
    SessionInfo {
        session: id.into(),
        user: "alice".into(),
        groups: vec!["staff".into()],
        client_addr: "127.0.0.1:5000".into(),
        user_agent: "test".into(),
        app: None,
    }
}

fn jpeg(n: u8, len: usize) -> Arc<dyn AsRef<[u8]> + Send + Sync> {
    let v: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ n).collect();
    Arc::new(v)
}

fn decision() -> DecisionEvent {
    DecisionEvent {
        tab: Some(0),
        gate: "paste".into(),
        action: "paste of 12 characters".into(),
        decision: Decision::Block,
        rule: Some("defaults".into()),
        app: None,
        url: Some("https://example.com/".into()),
        detectors: vec!["email".into()],
        evidence: vec!["a***@example.com".into()],
        reason: "matched pii".into(),
    }
}

#[test]
fn a_live_recording_keeps_order_redacts_and_ends_in_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditService::open(&config(dir.path())).unwrap();
    let rec = audit.start_session(info("live-1")).unwrap();
    rec.navigation(0, "https://example.com/");
    rec.frame(0, 100, 50, jpeg(1, 2000));
    rec.input(0, Input::Text("secret words"), false);
    rec.decision(decision());
    std::thread::sleep(Duration::from_millis(30));
    rec.frame(0, 100, 50, jpeg(2, 2000));
    rec.title(0, "Example");
    assert_eq!(audit.health().live, 1);
    rec.end("closed");
    let h = audit.health();
    assert_eq!((h.live, h.started, h.failures), (0, 1, 0), "{h:?}");

    let store = audit.store().unwrap();
    let row = store.index().session("live-1").unwrap().unwrap();
    assert_eq!(row.end_reason.as_deref(), Some("closed"));
    assert_eq!(row.user, "alice");
    let report = isolator::audit::verify_dir(&row.path, None).unwrap();
    assert_eq!(report.status, Status::Intact);
    let events: Vec<Event> = Reader::open(&row.path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().event)
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.type_name()).collect();
    assert_eq!(
        kinds,
        [
            "session_start",
            "navigation",
            "frame",
            "input",
            "decision",
            "frame",
            "title",
            "session_end"
        ]
    );
    match &events[3] {
        Event::Input(i) => {
            assert_eq!(i.kind, InputKind::Text);
            assert_eq!(i.text_len, Some(12));
            assert_eq!(i.text, None);
        }
        other => panic!("{other:?}"),
    }
    let incidents = store
        .index()
        .incidents(&isolator::audit::IncidentQuery::default())
        .unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].gate, "paste");
}

#[test]
fn a_recording_that_cannot_start_leaves_the_session_going_and_tells_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rec");
    let audit = AuditService::open(&config(&root)).unwrap();
    // The recordings root is replaced by a file: nothing can be created under it.
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::write(&root, b"not a directory").unwrap();
    let rec = audit.start_session(info("doomed")).unwrap();
    rec.navigation(0, "https://example.com/");
    rec.frame(0, 10, 10, jpeg(1, 100));
    rec.decision(decision());
    rec.end("closed");
    let h = audit.health();
    assert_eq!(h.failures, 1, "{h:?}");
    assert_eq!(h.live, 0);
    let f = h.last_failure.unwrap();
    assert_eq!(f.session, "doomed");
    assert!(f.error.contains("cannot start"), "{}", f.error);
}

#[test]
fn a_recording_directory_removed_mid_session_is_a_reported_failure_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditService::open(&config(dir.path())).unwrap();
    let rec = audit.start_session(info("gone-1")).unwrap();
    rec.frame(0, 10, 10, jpeg(1, 1000));
    // Wait for the writer to create the session, then take its directory away.
    let store = audit.store().unwrap().clone();
    let path = loop {
        if let Ok(p) = store.session_dir("gone-1") {
            break p;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    std::thread::sleep(Duration::from_millis(50));
    std::fs::remove_dir_all(&path).unwrap();
    // Enough distinct frames to fill the 64 KiB segment: rotation must fail.
    for i in 0..60u8 {
        rec.frame(0, 10, 10, jpeg(i.wrapping_add(2), 4000));
        std::thread::sleep(Duration::from_millis(25));
        if rec.failed() {
            break;
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !rec.failed() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(rec.failed(), "the failure is noticed");
    // The session's calls still return at once and do nothing.
    rec.navigation(0, "https://example.com/next");
    rec.end("closed");
    let h = audit.health();
    assert_eq!(h.failures, 1, "{h:?}");
    assert_eq!(h.last_failure.unwrap().session, "gone-1");
}

#[test]
fn frames_are_dropped_and_counted_when_the_writer_falls_behind_but_events_never() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditService::open(&config(dir.path())).unwrap();
    let rec = audit.start_session(info("burst-1")).unwrap();
    // A burst far faster than any disk: 2000 1 MiB frames (the writer copies
    // each; the sender only clones a pointer) and 2000 events.
    let frames: Vec<_> = (0..4).map(|i| jpeg(i, 1 << 20)).collect();
    for i in 0..2000usize {
        rec.frame(0, 10, 10, frames[i % 4].clone());
        rec.input(0, Input::Key { key: "Enter" }, false);
    }
    rec.end("closed");
    let h = audit.health();
    assert!(h.frames_dropped > 0, "{h:?}");
    let row = audit
        .store()
        .unwrap()
        .index()
        .session("burst-1")
        .unwrap()
        .unwrap();
    let keys = Reader::open(&row.path)
        .unwrap()
        .timeline()
        .filter(|r| matches!(r.as_ref().unwrap().event, Event::Input(_)))
        .count();
    assert_eq!(keys, 2000, "no event is dropped");
}

#[test]
fn the_access_log_chains_views_coalesces_replays_and_shows_edits() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditService::open(&config(dir.path())).unwrap();
    let log = audit.access_log().unwrap();
    assert!(log
        .record("root", "127.0.0.1", "s1", "view", 1)
        .unwrap()
        .is_some());
    assert!(log
        .record("root", "127.0.0.1", "s1", "replay", 2)
        .unwrap()
        .is_some());
    assert!(log
        .record("root", "127.0.0.1", "s1", "replay", 3)
        .unwrap()
        .is_none());
    assert!(log
        .record("root", "127.0.0.1", "s1", "export", 4)
        .unwrap()
        .is_some());
    let entries = log.entries().unwrap();
    let whats: Vec<&str> = entries.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(whats, ["view", "replay", "export"]);
    assert_eq!(entries[1].prev, entries[0].hash);

    // A new service (a restart) continues the chain.
    let again = AuditService::open(&config(dir.path())).unwrap();
    let e = again
        .access_log()
        .unwrap()
        .record("bob", "10.0.0.1", "s2", "view", 5)
        .unwrap()
        .unwrap();
    assert_eq!(e.seq, 3);
    assert_eq!(e.prev, entries[2].hash);

    // Editing who looked is detected, with the line.
    let text = std::fs::read_to_string(log.path()).unwrap();
    std::fs::write(log.path(), text.replacen("\"bob\"", "\"eve\"", 1)).unwrap();
    let err = log.entries().unwrap_err().to_string();
    assert!(err.contains("line 4") && err.contains("edited"), "{err}");
    // Deleting a line too.
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(log.path(), format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let err = log.entries().unwrap_err().to_string();
    assert!(err.contains("line 2"), "{err}");
}
