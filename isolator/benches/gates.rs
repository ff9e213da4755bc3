//! Figures for the clipboard and keyboard gates, measured on their real
//! path with a policy like the example's catch-all rule (typing and pastes
//! scanned with the financial, credentials and national-id profiles; the
//! example's 256 KiB clipboard cap is lifted so that 1 MB is scanned):
//!
//! - keystroke decision: `Enforcer::decide` + the field model's incremental
//!   scan (`FieldModel::try_edit`), per keystroke, typing into a field that
//!   grows to 10 KB;
//! - paste of 1 MB of text: `Enforcer::decide` + `check_text` (the scan on a
//!   blocking thread, within its budget), clean and with a card number at
//!   the end; and the engine alone on the same text (`scan_selection`), so
//!   that the gate's own overhead shows.
//!
//! Run: `cargo bench -p isolator --bench gates`

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use isolator::auth::User;
use isolator::enforce::config::EnforceConfig;
use isolator::enforce::Enforcer;
use isolator::gates::keyboard::field::{Edit, FieldModel, Tried};
use policies::{Action, PolicyStore};

const POLICY: &str = r#"
[[rules]]
name = "catch-all-dlp"
profiles = ["financial", "credentials", "national_ids"]
paste = "scan"
keyboard = "scan"
max_clipboard_bytes = "4 MiB"
"#;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn prose(bytes: usize, seed: u64) -> String {
    const WORDS: &[&str] = &[
        "the",
        "quarterly",
        "report",
        "shows",
        "revenue",
        "growth",
        "in",
        "all",
        "regions",
        "and",
        "our",
        "customers",
        "asked",
        "for",
        "delivery",
        "dates",
        "order",
        "12345",
        "meeting",
        "notes",
        "from",
        "Tuesday",
        "with",
        "the",
        "finance",
        "team",
        "about",
        "invoice",
        "2024-03",
        "totals",
        "of",
        "1,250.00",
        "euros",
        "per",
        "month.",
    ];
    let mut s = String::with_capacity(bytes + 16);
    let mut x = seed;
    while s.len() < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
        s.push(' ');
    }
    s.truncate(bytes);
    s
}

fn main() {
    let policy =
        policies::compile_str(POLICY, Path::new("bench policy")).expect("the policy compiles");
    let store = Arc::new(PolicyStore::new(policy, "bench"));
    let workers = enforcer::extract::worker::WorkerConfig::new("/bin/false", ["unused"]);
    let enforcer = Enforcer::new(store, EnforceConfig::default(), workers);
    let user = User {
        name: "sam".into(),
        groups: vec!["staff".into()],
        admin: false,
    };
    let url = "https://intranet.example.net/forms/expenses";

    // Keystrokes: type 10 KB of prose, one character at a time.
    let d = enforcer.decide(&user, url, Action::Keyboard);
    assert_eq!(
        d.mode,
        policies::Mode::Scan,
        "the catch-all rule scans typing"
    );
    let mut model = FieldModel::new(d.engine.field_scanner(d.selection.as_ref().unwrap()), 1);
    let text = prose(10 * 1024, 7);
    let mut times = Vec::with_capacity(text.len());
    let mut refused = 0;
    let now = Instant::now();
    for c in text.chars() {
        let mut buf = [0u8; 4];
        let key = c.encode_utf8(&mut buf);
        let t = Instant::now();
        let d = enforcer.decide(&user, url, Action::Keyboard);
        let tried = model.try_edit(
            Edit::Insert(key),
            d.on_match == policies::OnMatch::Audit,
            now,
        );
        times.push(t.elapsed());
        if matches!(tried, Tried::Completes(_)) {
            refused += 1;
        }
    }
    times.sort();
    println!(
        "keystroke decision (decide + incremental scan), {} keys into a field growing to {} KB: p50 {:.1} us, p99 {:.1} us, max {:.1} us ({} refused)",
        times.len(),
        model.text().len() / 1024,
        percentile(&times, 0.50).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().unwrap().as_secs_f64() * 1e6,
        refused
    );

    // Pastes of 1 MB.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clean = prose(1 << 20, 11);
    let mut dirty = prose((1 << 20) - 40, 13);
    dirty.push_str(" card 4111 1111 1111 1111 exp 09/29");
    for (name, text, expect_pass) in [
        ("clean", &clean, true),
        ("with a card number", &dirty, false),
    ] {
        let mut times = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let v = rt.block_on(async {
                let d = enforcer.decide(&user, url, Action::Paste);
                enforcer
                    .check_text(&d, text.clone(), Duration::from_secs(2))
                    .await
            });
            times.push(t.elapsed());
            assert_eq!(v.passes(), expect_pass, "{}", v.reason);
        }
        times.sort();
        // The engine alone on the same text: the rest is the gate's overhead
        // (decision, copy, blocking-thread hop, budget timer, verdict).
        let d = enforcer.decide(&user, url, Action::Paste);
        let sel = d.selection.clone().expect("a scan selection");
        let mut engine_times = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let report = d.engine.scan_selection(text, &sel);
            engine_times.push(t.elapsed());
            std::hint::black_box(report);
        }
        engine_times.sort();
        let (gate, engine) = (
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&engine_times, 0.5).as_secs_f64() * 1e3,
        );
        println!(
            "paste of 1 MB, {name}: decided in p50 {gate:.1} ms, p99 {:.1} ms (target <= 20 ms); engine alone p50 {engine:.1} ms, gate overhead p50 {:.2} ms",
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            gate - engine
        );
    }
}
