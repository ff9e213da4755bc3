//! The extraction worker pool against the real `isolator extract-worker`:
//! reuse, and each way a worker can fail (wall time, CPU limit, memory limit,
//! killed from outside, not a worker at all). The file is unscannable with a
//! reason, the worker is replaced, and the next file is extracted.

use std::io::Write;
use std::time::Duration;

use enforcer::extract::{Extraction, Limits, WorkerConfig, WorkerPool};

fn config(workers: usize) -> WorkerConfig {
    let mut cfg = WorkerConfig::new(env!("CARGO_BIN_EXE_isolator"), ["extract-worker"]);
    cfg.workers = workers;
    cfg
}

fn unscannable(extraction: Extraction) -> String {
    match extraction {
        Extraction::Unscannable { reason } => reason,
        other => panic!("expected unscannable, got {other:?}"),
    }
}

/// Still works: a small JSON file with a planted value.
fn assert_healthy(pool: &WorkerPool) {
    let text = pool
        .extract("ok.json", br#"{"card": "4111 1111 1111 1111"}"#)
        .joined_text();
    assert!(text.contains("card: 4111 1111 1111 1111"), "{text}");
}

/// A 24-bit BMP of blocky noise: very slow for tesseract's layout analysis.
fn noise_bmp(w: u32, h: u32) -> Vec<u8> {
    let row = (w * 3).div_ceil(4) * 4;
    let size = 54 + row * h;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(w as i32).to_le_bytes());
    out.extend_from_slice(&(h as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 24]);
    let mut seed = 0x2545_f491_u32;
    let mut cells = vec![0u8; ((w / 3 + 1) * (h / 3 + 1)) as usize];
    for c in cells.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        *c = if seed.is_multiple_of(3) { 0 } else { 255 };
    }
    for y in 0..h {
        for x in 0..w {
            let v = cells[((y / 3) * (w / 3 + 1) + x / 3) as usize];
            out.extend_from_slice(&[v, v, v]);
        }
        out.extend(std::iter::repeat_n(0u8, (row - w * 3) as usize));
    }
    out
}

#[test]
fn pool_extracts_and_reuses_warm_workers() {
    let pool = WorkerPool::new(config(2)).expect("pool starts");
    let mut before = pool.idle_pids();
    before.sort_unstable();
    assert_eq!(before.len(), 2);
    for _ in 0..5 {
        assert_healthy(&pool);
    }
    let mut after = pool.idle_pids();
    after.sort_unstable();
    assert_eq!(before, after, "workers are reused, not restarted");

    // Concurrent callers share the pool.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_healthy(&pool));
        }
    });
}

#[test]
fn wall_time_overrun_kills_and_replaces_the_worker() {
    let mut cfg = config(1);
    cfg.limits = Limits {
        max_wall_time_ms: 300,
        ..Limits::default()
    };
    cfg.kill_grace = Duration::from_millis(0);
    let pool = WorkerPool::new(cfg).expect("pool starts");
    let old = pool.idle_pids();
    let reason = unscannable(pool.extract("noise.bmp", &noise_bmp(2400, 2400)));
    assert!(
        reason.contains("timed out") && reason.contains("killed"),
        "{reason}"
    );
    let new = pool.idle_pids();
    assert_eq!(new.len(), 1);
    assert_ne!(old, new, "a fresh worker replaced the killed one");
    assert_eq!(pool.restarts(), 1, "the replacement is counted");
    assert_healthy(&pool);
}

#[test]
fn cpu_limit_ends_a_runaway_worker() {
    let mut cfg = config(1);
    cfg.cpu_seconds_per_file = 1;
    cfg.limits = Limits {
        max_wall_time_ms: 120_000,
        ..Limits::default()
    };
    let pool = WorkerPool::new(cfg).expect("pool starts");
    let reason = unscannable(pool.extract("noise.bmp", &noise_bmp(3000, 3000)));
    assert!(reason.contains("CPU time limit"), "{reason}");
    assert_healthy(&pool);
}

#[test]
fn memory_limit_ends_a_worker_and_the_pool_survives() {
    // 64 MiB of zeros, gzipped, the member repeated: 1.5 GiB once inflated.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&vec![0u8; 64 << 20]).expect("gz");
    let member = gz.finish().expect("gz");
    let bomb = member.repeat(24);
    let mut cfg = config(1);
    cfg.memory_bytes = 1 << 30;
    // Limits that would let the bomb through: only RLIMIT_AS stops it.
    cfg.limits = Limits {
        max_expanded_bytes: 8 << 30,
        max_expansion_ratio: 1 << 40,
        ..Limits::default()
    };
    let pool = WorkerPool::new(cfg).expect("pool starts");
    let reason = unscannable(pool.extract("bomb.gz", &bomb));
    // The allocation fails inside the worker: reported as a memory limit
    // (or, if the allocator aborts instead, as a dead worker).
    assert!(
        reason.contains("memory") || reason.contains("extraction worker"),
        "{reason}"
    );
    assert_healthy(&pool);
}

#[test]
fn a_worker_killed_from_outside_is_replaced() {
    let pool = WorkerPool::new(config(1)).expect("pool starts");
    let pid = pool.idle_pids()[0];
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(pool.restarts(), 0);
    assert_healthy(&pool);
    assert_ne!(pool.idle_pids(), vec![pid]);
    assert_eq!(
        pool.restarts(),
        1,
        "the dead worker's replacement is counted"
    );
}

#[test]
fn a_program_that_is_not_a_worker_is_refused_at_start() {
    let err = WorkerPool::new(WorkerConfig::new("/bin/true", Vec::<String>::new()))
        .expect_err("not a worker");
    assert!(err.to_string().contains("/bin/true"), "{err}");
    let err = WorkerPool::new(WorkerConfig::new(
        "/nonexistent/isolator",
        ["extract-worker"],
    ))
    .expect_err("missing");
    assert!(err.to_string().contains("/nonexistent/isolator"), "{err}");
}

#[test]
fn a_file_is_streamed_from_disk_to_the_worker_and_extracted_like_bytes() {
    let pool = WorkerPool::new(config(1)).expect("pool starts");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    // Several pipe buffers' worth, so the stream really comes in chunks.
    let text: String = (0..40_000)
        .map(|i| format!("line {i}: nothing to see\n"))
        .chain(std::iter::once("card 4111 1111 1111 1111\n".to_owned()))
        .collect();
    std::fs::write(&path, &text).unwrap();
    let from_file = pool.extract_file("notes.txt", std::fs::File::open(&path).unwrap());
    let from_bytes = pool.extract("notes.txt", text.as_bytes());
    assert_eq!(from_file.joined_text(), from_bytes.joined_text());
    assert!(from_file.joined_text().contains("4111 1111 1111 1111"));
    // Over the input cap: refused before a byte is sent, the worker untouched.
    let limits = Limits {
        max_input_bytes: 1000,
        ..Limits::default()
    };
    let why = unscannable(pool.extract_file_with(
        "notes.txt",
        std::fs::File::open(&path).unwrap(),
        &limits,
    ));
    assert!(why.contains("exceeds the limit"), "{why}");
    // A directory is no file to scan.
    let why = unscannable(pool.extract_file("d", std::fs::File::open(dir.path()).unwrap()));
    assert!(why.contains("not a regular file"), "{why}");
    assert_healthy(&pool);
}

/// The `Uid:`, `CapEff:` and `NoNewPrivs:` lines of every running
/// `isolator extract-worker --user UID:GID` that is a child of this process
/// (other tests' pools run their workers without `--user`).
fn worker_credentials(user: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_worker = args.contains(&&b"extract-worker"[..]) && args.contains(&user.as_bytes());
        let child = status
            .lines()
            .any(|l| l.strip_prefix("PPid:").is_some_and(|p| p.trim() == me));
        if is_worker && child {
            out.push(
                status
                    .lines()
                    .filter(|l| {
                        l.starts_with("Uid:")
                            || l.starts_with("CapEff:")
                            || l.starts_with("NoNewPrivs:")
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    out
}

/// Hostile files are parsed by an unprivileged user: the server (root, as
/// in `make test`) starts its workers through the same configuration the
/// server uses, and every worker runs as `isolator-extract` with no
/// capabilities and `no_new_privs`, while still extracting.
#[test]
fn workers_of_a_root_server_run_as_the_unprivileged_worker_user() {
    assert!(
        isolator::os::is_root(),
        "make test runs as root; this test checks the privilege drop"
    );
    let (uid, _) = isolator::os::lookup_user(isolator::enforce::worker_user::DEFAULT_USER)
        .expect("install-deps.sh creates the worker user");
    let mut cfg = isolator::enforce::worker_user::worker_config(
        Some(env!("CARGO_BIN_EXE_isolator").into()),
        isolator::enforce::worker_user::DEFAULT_USER,
    )
    .unwrap();
    cfg.workers = 2;
    let user_arg = cfg
        .args
        .iter()
        .position(|a| a == "--user")
        .expect("a --user argument");
    let cfg_user = cfg.args[user_arg + 1].to_str().unwrap().to_owned();
    let cfg_user = cfg_user.as_str();
    let pool = WorkerPool::new(cfg).unwrap();
    assert_healthy(&pool);
    let creds = worker_credentials(cfg_user);
    assert!(!creds.is_empty(), "no worker found");
    for c in &creds {
        let uids: Vec<&str> = c
            .split_whitespace()
            .skip_while(|w| *w != "Uid:")
            .skip(1)
            .take(4)
            .collect();
        assert!(uids.iter().all(|u| *u == uid.to_string()), "{c}");
        assert!(
            c.contains("CapEff:\t0000000000000000") || c.contains("CapEff: 0000000000000000"),
            "{c}"
        );
        assert!(
            c.contains("NoNewPrivs:\t1") || c.contains("NoNewPrivs: 1"),
            "{c}"
        );
    }
    // A worker told to become root refuses to start.
    let bad = WorkerConfig::new(
        env!("CARGO_BIN_EXE_isolator"),
        ["extract-worker", "--user", "0:0"],
    );
    assert!(WorkerPool::new(bad).is_err());
}
