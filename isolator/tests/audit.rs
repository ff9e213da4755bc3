//! Audit store end to end: record, verify, tamper, crash, export, index, retention.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use isolator::audit::format::{self, Parsed};
use isolator::audit::{
    self, AuditConfig, Decision, DecisionEvent, Event, Frame, IncidentQuery, Input, ProblemKind,
    Reader, SessionInfo, SessionQuery, Status, Store,
};

const T0: i64 = 1_764_000_000_000; // 2025-11-24T16:00:00Z

fn config(dir: &Path) -> AuditConfig {
    AuditConfig {
        dir: dir.to_owned(),
        segment_max_bytes: 64 << 10,
        max_fps: 10,
        ..AuditConfig::default()
    }
}

fn info(id: &str, user: &str) -> SessionInfo {
    SessionInfo {
        session: id.into(),
        user: user.into(),
        groups: vec!["staff".into()],
        client_addr: "127.0.0.1:5000".into(),
        user_agent: "test".into(),
        app: None,
    }
}

/// Distinct pseudo-JPEG bytes (the store keeps frames as-is, so any bytes do).
fn jpeg(n: u32, len: usize) -> Arc<[u8]> {
    let mut v = vec![0xff, 0xd8];
    let mut x = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push(x as u8);
    }
    Arc::from(v)
}

fn frame(n: u32) -> Event {
    Event::Frame(Frame {
        tab: 1,
        width: 1280,
        height: 720,
        jpeg: jpeg(n, 20_000),
    })
}

fn decision(gate: &str, d: Decision, detectors: &[&str]) -> Event {
    Event::Decision(DecisionEvent {
        tab: Some(1),
        gate: gate.into(),
        action: format!("{gate} attempt"),
        decision: d,
        rule: Some("r1".into()),
        app: None,
        url: None,
        detectors: detectors.iter().map(|s| s.to_string()).collect(),
        evidence: vec!["4111 **** **** 1111".into()],
        reason: "card number".into(),
    })
}

/// Records a session of ~30 s with frames, a repeat, navigation, input and
/// decisions; returns its directory.
fn record_session(store: &Arc<Store>, id: &str, user: &str, start: i64) -> PathBuf {
    let mut rec = store.start_at(&info(id, user), start).unwrap();
    let at = |ms: u64| start + ms as i64;
    rec.record_at(
        100,
        at(100),
        Event::Navigation {
            tab: 1,
            url: "https://mail.example.com/inbox".into(),
        },
    )
    .unwrap();
    rec.record_at(
        150,
        at(150),
        Event::Title {
            tab: 1,
            title: "Inbox".into(),
        },
    )
    .unwrap();
    for i in 0..20u64 {
        let ms = 200 + i * 1000;
        // Frames 0..9 distinct, then repeats of frame 3.
        let n = if i < 10 { i as u32 } else { 3 };
        rec.record_at(ms, at(ms), frame(n)).unwrap();
        rec.record_at(
            ms + 10,
            at(ms + 10),
            Event::Input(audit::InputEvent::new(
                1,
                Input::Text("secret words"),
                false,
            )),
        )
        .unwrap();
    }
    rec.record_at(
        25_000,
        at(25_000),
        decision("paste", Decision::Block, &["pci.card"]),
    )
    .unwrap();
    rec.record_at(
        26_000,
        at(26_000),
        decision("upload", Decision::Audit, &["pii.ssn", "pci.card"]),
    )
    .unwrap();
    rec.record_at(27_000, at(27_000), decision("copy", Decision::Allow, &[]))
        .unwrap();
    let dir = rec.dir().to_owned();
    let summary = rec.end_at(30_000, at(30_000), "logout").unwrap();
    assert!(
        summary.segments > 1,
        "the test needs several segments: {summary:?}"
    );
    dir
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

/// (offset, size) of each record in a segment file.
fn record_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        let Parsed::Record(raw) = format::parse(&bytes[off..]) else {
            break;
        };
        out.push((off, raw.size));
        off += raw.size;
    }
    out
}

#[test]
fn recording_verifies_reads_back_and_is_indexed() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&config(tmp.path())).unwrap();
    let dir = record_session(&store, "s1", "alice", T0);
    assert!(
        dir.starts_with(tmp.path().join("2025-11-24")),
        "{}",
        dir.display()
    );

    let row = store.index().session("s1").unwrap().unwrap();
    let report =
        audit::verify_dir(&dir, Some((row.records, row.head.as_deref().unwrap()))).unwrap();
    assert_eq!(report.status, Status::Intact, "{report:?}");
    assert_eq!(report.session.as_deref(), Some("s1"));
    assert_eq!(row.app.as_deref(), Some("mail.example.com"));
    assert_eq!(row.end_reason.as_deref(), Some("logout"));

    let reader = Reader::open(&dir).unwrap();
    let events: Vec<_> = reader.records().collect::<Result<_, _>>().unwrap();
    assert!(matches!(events[0].event, Event::SessionStart { ref user, .. } if user == "alice"));
    assert!(
        matches!(events.last().unwrap().event, Event::SessionEnd { ref reason } if reason == "logout")
    );
    let frames: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Frame(f) => Some((e.mono_ms, e.repeat, f.jpeg.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len(), 20);
    assert!(frames[10].1, "frame 10 repeats frame 3");
    assert_eq!(
        frames[10].2,
        jpeg(3, 20_000),
        "a repeat reads back as the original JPEG"
    );
    // Typed text never stored.
    for seg in segments(&dir) {
        let bytes = std::fs::read(seg).unwrap();
        assert!(!bytes.windows(12).any(|w| w == b"secret words"));
    }
    // Timeline skips frames.
    assert!(reader
        .timeline()
        .all(|e| !matches!(e.unwrap().event, Event::Frame(_))));

    // Seek: the frame on screen at 5.5 s is frame 5 (recorded at 5.2 s).
    let seek = reader.seek(5_500).unwrap();
    let (ms, f) = seek.frame.unwrap();
    assert_eq!((ms, f.jpeg.clone()), (5_200, jpeg(5, 20_000)));
    let next = {
        let mut rest = seek.rest;
        rest.next().unwrap().unwrap()
    };
    assert!(next.mono_ms > 5_500);

    // Index queries.
    let idx = store.index();
    assert_eq!(
        idx.sessions(&SessionQuery {
            user: Some("alice".into()),
            ..Default::default()
        })
        .unwrap()
        .len(),
        1
    );
    assert!(idx
        .sessions(&SessionQuery {
            user: Some("bob".into()),
            ..Default::default()
        })
        .unwrap()
        .is_empty());
    assert_eq!(
        idx.sessions(&SessionQuery {
            to_ms: Some(T0 - 1),
            ..Default::default()
        })
        .unwrap()
        .len(),
        0
    );
    let card = idx
        .incidents(&IncidentQuery {
            detector: Some("pci.card".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(card.len(), 2, "{card:?}");
    assert_eq!(
        card[1].ts_ms, 25_000,
        "an incident points at its moment in the replay"
    );
    assert_eq!(
        card[1].url.as_deref(),
        Some("https://mail.example.com/inbox")
    );
    let blocks = idx
        .incidents(&IncidentQuery {
            decision: Some("block".into()),
            gate: Some("paste".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(blocks.len(), 1);
    assert!(idx
        .incidents(&IncidentQuery {
            detector: Some("pci".into()),
            ..Default::default()
        })
        .unwrap()
        .is_empty());
    assert!(
        idx.incidents(&IncidentQuery {
            gate: Some("copy".into()),
            ..Default::default()
        })
        .unwrap()
        .is_empty(),
        "allow without detectors is no incident"
    );
}

#[test]
fn export_bundle_verifies_reads_and_detects_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&config(&tmp.path().join("rec"))).unwrap();
    let dir = record_session(&store, "s2", "bob", T0);
    let row = store.index().session("s2").unwrap();
    let incidents = store
        .index()
        .incidents(&IncidentQuery {
            session: Some("s2".into()),
            ..Default::default()
        })
        .unwrap();
    let out = tmp.path().join("s2.tar");
    let manifest = audit::export(&dir, row, incidents, &out).unwrap();
    assert_eq!(manifest.incidents.len(), 2);
    let report = audit::verify(&out).unwrap();
    assert_eq!(report.status, Status::Intact, "{report:?}");

    let from_dir: Vec<_> = Reader::open(&dir)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect();
    let bundle = Reader::open(&out).unwrap();
    let from_bundle: Vec<_> = bundle.records().map(|r| r.unwrap()).collect();
    assert_eq!(from_dir, from_bundle);
    let seek = bundle.seek(12_000).unwrap();
    assert_eq!(seek.frame.unwrap().1.jpeg, jpeg(3, 20_000));

    // Flip a byte inside the bundle's second segment.
    let mut bytes = std::fs::read(&out).unwrap();
    let needle = b"ISOAUDIT";
    let hits: Vec<usize> = bytes
        .windows(8)
        .enumerate()
        .filter(|(_, w)| w == needle)
        .map(|(i, _)| i)
        .collect();
    bytes[hits[1] + 2_000] ^= 1; // inside a frame's JPEG
    let bad = tmp.path().join("bad.tar");
    std::fs::write(&bad, &bytes).unwrap();
    let report = audit::verify(&bad).unwrap();
    assert_eq!(report.status, Status::Tampered);
    let p = report.problem.unwrap();
    assert_eq!(
        (p.kind, p.segment.as_str()),
        (ProblemKind::Edited, "000002.seg"),
        "{p}"
    );
}

/// Copies a recorded session into a fresh directory to tamper with.
fn fresh(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&config(tmp.path())).unwrap();
    let dir = record_session(&store, name, "eve", T0);
    (tmp, dir)
}

#[test]
fn flipped_byte_is_reported_as_edited_with_its_position() {
    let (_tmp, dir) = fresh("flip");
    let seg = &segments(&dir)[1];
    let mut bytes = std::fs::read(seg).unwrap();
    let spans = record_spans(&bytes);
    let (off, size) = spans[2];
    bytes[off + size / 2] ^= 0x40;
    std::fs::write(seg, &bytes).unwrap();
    let r = audit::verify_dir(&dir, None).unwrap();
    assert_eq!(r.status, Status::Tampered);
    let p = r.problem.unwrap();
    assert_eq!(
        (p.kind, p.segment.as_str(), p.offset),
        (ProblemKind::Edited, "000002.seg", off as u64),
        "{p}"
    );
    assert_eq!(p.record, r.records);
}

#[test]
fn dropped_and_swapped_records_break_the_chain_at_their_position() {
    for swap in [false, true] {
        let (_tmp, dir) = fresh(if swap { "swap" } else { "drop" });
        let seg = &segments(&dir)[0];
        let bytes = std::fs::read(seg).unwrap();
        let spans = record_spans(&bytes);
        let (a, b) = (spans[3], spans[4]);
        let mut out = bytes[..a.0].to_vec();
        if swap {
            out.extend_from_slice(&bytes[b.0..b.0 + b.1]);
            out.extend_from_slice(&bytes[a.0..a.0 + a.1]);
        }
        out.extend_from_slice(&bytes[b.0 + b.1..]);
        std::fs::write(seg, &out).unwrap();
        let r = audit::verify_dir(&dir, None).unwrap();
        let p = r.problem.unwrap();
        assert_eq!(r.status, Status::Tampered);
        assert_eq!(
            (p.kind, p.offset, p.record),
            (ProblemKind::ChainBreak, a.0 as u64, 3),
            "{p}"
        );
    }
}

#[test]
fn deleted_middle_segment_is_reported() {
    let (_tmp, dir) = fresh("gap");
    let segs = segments(&dir);
    assert!(segs.len() >= 3);
    std::fs::remove_file(&segs[1]).unwrap();
    let p = audit::verify_dir(&dir, None).unwrap().problem.unwrap();
    assert_eq!(
        (p.kind, p.segment.as_str(), p.offset),
        (ProblemKind::MissingSegment, "000003.seg", 0),
        "{p}"
    );
}

#[test]
fn truncation_is_a_tail_not_tampering_and_anchors_catch_cut_records() {
    let (tmp, dir) = fresh("cut");
    let segs = segments(&dir);
    let last = segs.last().unwrap();
    let bytes = std::fs::read(last).unwrap();
    let spans = record_spans(&bytes);
    // Cut inside the second-to-last record: a crash-like tail.
    let (off, size) = spans[spans.len() - 2];
    std::fs::write(last, &bytes[..off + size / 2]).unwrap();
    let r = audit::verify_dir(&dir, None).unwrap();
    assert_eq!(r.status, Status::TruncatedTail, "{r:?}");
    let p = r.problem.clone().unwrap();
    assert_eq!((p.kind, p.offset), (ProblemKind::Truncated, off as u64));
    // Cut exactly at a record boundary: looks unfinished, but the index anchor says otherwise.
    std::fs::write(last, &bytes[..off]).unwrap();
    let store = Store::open(&config(tmp.path())).unwrap();
    let row = store.index().session("cut").unwrap().unwrap();
    assert_eq!(
        audit::verify_dir(&dir, None).unwrap().status,
        Status::Unfinished
    );
    let r = audit::verify_dir(&dir, Some((row.records, row.head.as_deref().unwrap()))).unwrap();
    assert_eq!(r.status, Status::Tampered);
    assert_eq!(r.problem.unwrap().kind, ProblemKind::AnchorMismatch);
    // Cutting a middle segment is tampering, not a tail.
    let first = &segs[0];
    let b0 = std::fs::read(first).unwrap();
    std::fs::write(first, &b0[..b0.len() - 10]).unwrap();
    assert_eq!(
        audit::verify_dir(&dir, None).unwrap().status,
        Status::Tampered
    );
}

#[test]
fn cut_at_every_offset_verifies_up_to_the_last_complete_record_and_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.segment_max_bytes = 1 << 20;
    let mut rec = audit::Recorder::create(tmp.path(), &cfg, &info("crash", "c")).unwrap();
    for i in 0..8u64 {
        rec.record_at(
            i * 200,
            T0,
            Event::Frame(Frame {
                tab: 1,
                width: 8,
                height: 8,
                jpeg: jpeg(i as u32, 300),
            }),
        )
        .unwrap();
        rec.record_at(
            i * 200 + 1,
            T0,
            Event::Title {
                tab: 1,
                title: format!("t{i}"),
            },
        )
        .unwrap();
    }
    let dir = rec.dir().to_owned();
    let seg = dir.join("000001.seg");
    let full = std::fs::read(&seg).unwrap();
    std::mem::forget(rec); // a crash: no end record, no seal
    let spans = record_spans(&full);
    for cut in (1..full.len()).step_by(37) {
        std::fs::write(&seg, &full[..cut]).unwrap();
        let complete = spans.iter().filter(|(o, s)| o + s <= cut).count() as u64;
        let r = audit::verify_dir(&dir, None).unwrap();
        assert!(r.is_trustworthy(), "cut at {cut}: {r:?}");
        assert_eq!(r.records, complete, "cut at {cut}");
        let reader = Reader::open(&dir).unwrap();
        let read = reader.records().collect::<Result<Vec<_>, _>>().unwrap();
        // Header is skipped by the reader.
        assert_eq!(
            read.len() as u64,
            complete.saturating_sub(1),
            "cut at {cut}"
        );
    }
}

/// The child half of the kill test: records until killed.
#[test]
fn crash_child() {
    let Ok(root) = std::env::var("AUDIT_CRASH_ROOT") else {
        return;
    };
    let cfg = AuditConfig {
        dir: root.into(),
        sync_interval_ms: 10,
        ..AuditConfig::default()
    };
    let store = Store::open(&cfg).unwrap();
    let mut rec = store.start(&info("killed", "k")).unwrap();
    for i in 0.. {
        rec.frame(1, 64, 64, jpeg(i, 5_000 + (i as usize % 7) * 100))
            .unwrap();
        rec.input(1, Input::Key { key: "a" }, false).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn killed_recorder_process_leaves_a_verifiable_readable_recording() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture"])
        .env("AUDIT_CRASH_ROOT", tmp.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let seg = loop {
        let found = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|d| d.path().join("killed").join("000001.seg"))
            .find(|p| p.exists());
        if let Some(p) = found {
            if std::fs::metadata(&p).unwrap().len() > 200_000 {
                break p;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the child did not record"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL, mid-recording
    child.wait().unwrap();
    let dir = seg.parent().unwrap();
    let r = audit::verify_dir(dir, None).unwrap();
    assert!(
        matches!(r.status, Status::Unfinished | Status::TruncatedTail),
        "{r:?}"
    );
    assert!(r.records > 20);
    let reader = Reader::open(dir).unwrap();
    let n = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
        .len() as u64;
    assert_eq!(
        n,
        r.records - 1,
        "every verified record but the header reads back"
    );
}

#[test]
fn retention_deletes_oldest_and_logs_each_deletion_in_a_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.retention_days = 30;
    let store = Store::open(&cfg).unwrap();
    let day = 86_400_000;
    record_session(&store, "old", "a", T0 - 40 * day);
    record_session(&store, "mid", "a", T0 - 10 * day);
    record_session(&store, "new", "a", T0);
    let gone = store.apply_retention(T0).unwrap();
    assert_eq!(
        gone.iter().map(|e| e.session.as_str()).collect::<Vec<_>>(),
        ["old"]
    );
    assert!(store.index().session("old").unwrap().is_none());
    assert!(!tmp
        .path()
        .join(audit::recorder::utc_date(T0 - 40 * day))
        .exists());

    // Size cap: keep at most about one session.
    let one = store.index().session("new").unwrap().unwrap().bytes;
    drop(store);
    cfg.retention_max_bytes = one + one / 2;
    let store = Store::open(&cfg).unwrap();
    let gone = store.apply_retention(T0).unwrap();
    assert_eq!(
        gone.iter().map(|e| e.session.as_str()).collect::<Vec<_>>(),
        ["mid"]
    );
    assert!(store.index().session("new").unwrap().is_some());

    let log = tmp.path().join("retention.log");
    let entries = audit::verify_retention_log(&log).unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].head.is_some());
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replace("\"old\"", "\"olx\"")).unwrap();
    let err = audit::verify_retention_log(&log).unwrap_err().to_string();
    assert!(err.contains("line 1"), "{err}");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&log, format!("{}\n", lines[1])).unwrap();
    assert!(
        audit::verify_retention_log(&log).is_err(),
        "a removed deletion record shows"
    );
}

#[test]
fn bad_session_ids_and_duplicates_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&config(tmp.path())).unwrap();
    let err = store.start(&info("../etc", "x")).unwrap_err().to_string();
    assert!(err.contains("session id"), "{err}");
    let _rec = store.start(&info("dup", "x")).unwrap();
    assert!(store.start(&info("dup", "x")).is_err());
}

#[test]
fn frame_rate_cap_keeps_the_newest_frame_and_writes_it_when_due() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = AuditConfig {
        max_fps: 10,
        ..config(tmp.path())
    };
    let mut rec = audit::Recorder::create(tmp.path(), &cfg, &info("cap", "c")).unwrap();
    let small = |n: u32| {
        Event::Frame(Frame {
            tab: 1,
            width: 8,
            height: 8,
            jpeg: jpeg(n, 100),
        })
    };
    rec.record_at(0, T0, small(0)).unwrap();
    rec.record_at(30, T0, small(1)).unwrap(); // within 100 ms: held
    rec.record_at(60, T0, small(2)).unwrap(); // replaces the held frame
    rec.record_at(
        150,
        T0,
        Event::Title {
            tab: 1,
            title: "x".into(),
        },
    )
    .unwrap(); // due: written first
    let dir = rec.dir().to_owned();
    rec.end_at(200, T0, "done").unwrap();
    let frames: Vec<_> = Reader::open(&dir)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .filter_map(|r| match r.event {
            Event::Frame(f) => Some((r.mono_ms, f.jpeg)),
            _ => None,
        })
        .collect();
    assert_eq!(frames, vec![(0, jpeg(0, 100)), (100, jpeg(2, 100))]);
}
