//! Recordings in S3-compatible object storage, against a real Garage server
//! (`support/garage.rs`): segments uploaded as they seal, the player,
//! export and `isolator audit verify` reading from the bucket, tampering in
//! the bucket detected, a bucket outage losing nothing, retention there.

#[path = "support/garage.rs"]
mod garage;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use garage::Garage;
use isolator::audit::{
    AuditConfig, Bucket, Event, Frame, ObjectStoreConfig, Reader, SessionInfo, Status, Store,
};

/// 2025-11-24: the day directory and key of every session here.
const START_MS: i64 = 1_764_000_000_000;
const DAY: &str = "2025-11-24";

fn config(root: &Path, os: ObjectStoreConfig) -> AuditConfig {
    AuditConfig {
        dir: root.to_owned(),
        segment_max_bytes: 64 << 10,
        max_fps: 50,
        object_store: Some(ObjectStoreConfig {
            sweep_interval_secs: 3600,
            ..os
        }),
        ..AuditConfig::default()
    }
}

/// Records `frames` distinct 30 kB frames (a segment seals every two or
/// three), calling `between` after each; ends the session. Returns its directory.
fn record(
    store: &Arc<Store>,
    id: &str,
    frames: u64,
    mut between: impl FnMut(u64),
) -> std::path::PathBuf {
    let info = SessionInfo {
        session: id.into(),
        user: "alice".into(),
        ..SessionInfo::default()
    };
    let mut rec = store.start_at(&info, START_MS).unwrap();
    for i in 0..frames {
        let jpeg: Vec<u8> = (0..30_000u32)
            .map(|j| (j as u8) ^ (i as u8).wrapping_mul(7))
            .collect();
        rec.record_at(
            i * 1000,
            START_MS + i as i64 * 1000,
            Event::Frame(Frame {
                tab: 0,
                width: 8,
                height: 8,
                jpeg: Arc::from(jpeg),
            }),
        )
        .unwrap();
        between(i);
    }
    let dir = rec.dir().to_owned();
    rec.end_at(frames * 1000, START_MS + frames as i64 * 1000, "logout")
        .unwrap();
    dir
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn names(bucket: &Bucket, key: &str) -> Vec<String> {
    bucket
        .list(key)
        .unwrap()
        .into_iter()
        .map(|o| o.key.rsplit('/').next().unwrap().to_owned())
        .collect()
}

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

/// A server config file naming the root and the bucket, for the CLI.
fn config_file(path: &Path, root: &Path, os: &ObjectStoreConfig) {
    let text = format!(
        "[audit]\ndir = {:?}\n[audit.object_store]\nendpoint = {:?}\nbucket = {:?}\n\
         prefix = {:?}\naccess_key_id = {:?}\nsecret_access_key_file = {:?}\ntimeout_secs = 5\n",
        root.display().to_string(),
        os.endpoint,
        os.bucket,
        os.prefix,
        os.access_key_id.as_deref().unwrap(),
        os.secret_access_key_file
            .as_ref()
            .unwrap()
            .display()
            .to_string(),
    );
    std::fs::write(path, text).unwrap();
}

#[test]
fn sealed_segments_reach_the_bucket_and_replay_and_verify_from_it() {
    let garage = Garage::start("recordings");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("node-a");
    let os = garage.object_store("rec");
    let store = Store::open(&config(&root, os.clone())).unwrap();
    let bucket = store.bucket().unwrap().clone();
    let key = format!("rec/{DAY}/s-1");

    // While recording: sealed segments are in the bucket, the open one is not.
    let mut seen_live = false;
    let dir = record(&store, "s-1", 12, |i| {
        if i == 6 {
            wait_until("sealed segments are uploaded while recording", || {
                names(&bucket, &key).iter().any(|n| n == "000002.seg")
            });
            let live = names(&bucket, &key);
            let local = std::fs::read_dir(root.join(DAY).join("s-1"))
                .unwrap()
                .count();
            seen_live = !live.is_empty() && live.len() < local;
        }
    });
    assert!(seen_live, "the open segment must not be uploaded");

    // Ended: everything uploaded, the local copy removed (keep_local = false).
    wait_until("the local copy is removed", || !dir.exists());
    let objects = names(&bucket, &key);
    let segments = objects.iter().filter(|n| n.ends_with(".seg")).count();
    assert!(segments >= 4, "{objects:?}");
    assert!(objects.contains(&"keyframes.idx".to_owned()), "{objects:?}");
    let health = store.bucket_health().unwrap();
    assert!(
        health.ok && health.uploaded as usize >= objects.len(),
        "{health:?}"
    );

    // The player reads it from the bucket and the chain verifies.
    let row = store.index().session("s-1").unwrap().unwrap();
    let copy = store.local_copy(&row).unwrap();
    let report = isolator::audit::verify_dir(
        copy.dir(),
        Some((row.records, row.head.as_deref().unwrap())),
    )
    .unwrap();
    assert_eq!(report.status, Status::Intact, "{report:?}");
    let reader = Reader::open(copy.dir()).unwrap();
    let frames = reader
        .records()
        .filter(|r| matches!(r.as_ref().unwrap().event, Event::Frame(_)))
        .count();
    assert_eq!(frames, 12);
    let seek = reader.seek(7_500).unwrap();
    assert_eq!(seek.frame.unwrap().0, 7_000);

    // Another node, whose index has the row, replays it from the bucket too.
    let other = Store::open(&config(&tmp.path().join("node-b"), os.clone())).unwrap();
    other.index().put_session(&row).unwrap();
    let copy_b = other.local_copy(&row).unwrap();
    assert_eq!(
        Reader::open(copy_b.dir()).unwrap().records().count(),
        frames + 2
    );

    // The CLI verifies and exports from the bucket.
    let cfg = tmp.path().join("server.toml");
    config_file(&cfg, &root, &os);
    let cfg_s = cfg.to_str().unwrap();
    let (code, out) = isolator(&["audit", "verify", "s-1", "--config", cfg_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
    let bundle = tmp.path().join("s-1.tar");
    let (code, out) = isolator(&[
        "audit",
        "export",
        "s-1",
        "-o",
        bundle.to_str().unwrap(),
        "--config",
        cfg_s,
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        isolator::audit::verify_bundle(&bundle).unwrap().status,
        Status::Intact
    );

    // One byte changed in the bucket: reported like a tampered local file.
    let seg_key = format!("{key}/000002.seg");
    let part = tmp.path().join("seg2");
    bucket.get_to_file(&seg_key, &part, 1 << 30).unwrap();
    let mut bytes = std::fs::read(&part).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    bucket.put(&seg_key, bytes).unwrap();
    let (code, out) = isolator(&["audit", "verify", "s-1", "--config", cfg_s]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("TAMPERED") && out.contains("000002.seg"),
        "{out}"
    );
    // The player's cache notices the object changed and verifies it as it is now.
    let copy = store.local_copy(&row).unwrap();
    let report = isolator::audit::verify_dir(copy.dir(), None).unwrap();
    assert_eq!(report.status, Status::Tampered, "{report:?}");
    assert_eq!(report.problem.unwrap().segment, "000002.seg");
}

#[test]
fn a_bucket_down_while_recording_loses_nothing() {
    let mut garage = Garage::start("outage");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rec");
    let store = Store::open(&config(&root, garage.object_store(""))).unwrap();
    let bucket = store.bucket().unwrap().clone();
    garage.stop();

    let started = Instant::now();
    let dir = record(&store, "down-1", 10, |_| {});
    // The recorder never waited on the bucket.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    wait_until("the failure shows in the health", || {
        !store.bucket_health().unwrap().ok
    });
    // Let the queued jobs all fail (the failure count stops moving).
    let mut last = 0;
    wait_until("the queued uploads have all failed", || {
        std::thread::sleep(Duration::from_millis(1500));
        let now = store.bucket_health().unwrap().failures;
        std::mem::replace(&mut last, now) == now
    });
    assert!(
        bucket.list(&format!("{DAY}/down-1")).is_err(),
        "the bucket is down"
    );
    let health = store.bucket_health().unwrap();
    assert!(
        health.failures > 0 && health.last_error.is_some(),
        "{health:?}"
    );
    assert!(dir.join("000001.seg").is_file(), "the local copy must stay");

    garage.restart();
    let swept = store.sweep_uploads().unwrap();
    assert!(swept.uploaded >= 5 && swept.removed == 1, "{swept:?}");
    assert!(!dir.exists());
    assert!(store.bucket_health().unwrap().ok);
    let objects = names(&bucket, &format!("{DAY}/down-1"));
    assert!(objects.contains(&"000001.seg".to_owned()), "{objects:?}");

    let row = store.index().session("down-1").unwrap().unwrap();
    let copy = store.local_copy(&row).unwrap();
    let report = isolator::audit::verify_dir(
        copy.dir(),
        Some((row.records, row.head.as_deref().unwrap())),
    )
    .unwrap();
    assert_eq!(report.status, Status::Intact, "{report:?}");
}

#[test]
fn retention_deletes_the_bucket_objects() {
    let garage = Garage::start("retention");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rec");
    // keep_local: the local copy stays, marked once wholly uploaded.
    let os = ObjectStoreConfig {
        keep_local: true,
        ..garage.object_store("r")
    };
    let cfg = AuditConfig {
        retention_days: 30,
        ..config(&root, os)
    };
    let store = Store::open(&cfg).unwrap();
    let bucket = store.bucket().unwrap().clone();
    let dir = record(&store, "old-1", 5, |_| {});
    wait_until("the recording is uploaded", || {
        dir.join(isolator::audit::upload::UPLOADED).exists()
    });
    assert!(dir.join("000001.seg").is_file());
    let key = format!("r/{DAY}/old-1");
    assert!(!names(&bucket, &key).is_empty());

    let deleted = store.apply_retention(START_MS + 31 * 86_400_000).unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].session, "old-1");
    assert!(names(&bucket, &key).is_empty(), "bucket objects must go");
    assert!(!dir.exists(), "and the local copy");
    assert!(store.index().session("old-1").unwrap().is_none());
    let log = isolator::audit::verify_retention_log(&root.join("retention.log")).unwrap();
    assert_eq!(log.len(), 1);
}
