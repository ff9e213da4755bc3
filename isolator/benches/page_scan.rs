//! Page-content gate cost: the server-side scan of a 1 MB page's text with
//! the `page` decision (the authoritative scan the page script's report gets),
//! including finding the values to mask.
//!
//! The text is synthetic page copy (words, prices, order numbers, dates) with
//! ten card numbers and ten Social Security numbers spread through it; the
//! policy scans `financial` and `national_ids` and masks `credit_card` and
//! `us_ssn`, like the example policy's catch-all rule.
//!
//! Run: `cargo bench -p isolator --bench page_scan`. Prints p50/p95/max of
//! 30 scans after 3 warm-ups, and the engine alone on the same text.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use isolator::auth::User;
use isolator::enforce::config::EnforceConfig;
use isolator::enforce::Enforcer;
use policies::{Action, PolicyStore};

const POLICY: &str = r#"
[[rules]]
name = "catch-all"
page = { mode = "scan", profiles = ["financial", "national_ids"], on_match = "audit" }
mask = ["credit_card", "us_ssn"]
"#;

/// About `size` bytes of page text with a few sensitive values.
fn page_text(size: usize) -> String {
    let words = [
        "order",
        "shipped",
        "customer",
        "invoice",
        "total",
        "delivery",
        "account",
        "the",
        "and",
        "for",
        "status",
        "pending",
        "review",
        "quarterly",
        "report",
        "update",
    ];
    let mut text = String::with_capacity(size + 256);
    let mut i: usize = 0;
    let mut planted = 0;
    while text.len() < size {
        let line = i % 997;
        if line == 500 && planted < 20 {
            if planted % 2 == 0 {
                text.push_str("Card on file 4111 1111 1111 1111\n");
            } else {
                text.push_str("SSN 536-22-8745\n");
            }
            planted += 1;
        }
        for w in 0..12 {
            text.push_str(words[(i * 7 + w * 3) % words.len()]);
            text.push(' ');
        }
        text.push_str(&format!(
            "#{} ${}.{:02} 2024-03-{:02}\n",
            100_000 + i,
            i % 900,
            i % 100,
            1 + i % 28
        ));
        i += 1;
    }
    text
}

fn main() {
    let policy =
        policies::compile_str(POLICY, Path::new("bench-policy.toml")).expect("bench policy");
    let store = Arc::new(PolicyStore::new(policy, "bench"));
    let workers = enforcer::extract::worker::WorkerConfig::current_exe().expect("worker config");
    let enforcer = Enforcer::new(store, EnforceConfig::default(), workers);
    let user = User::anonymous();
    let url = "https://intranet.example.com/orders";
    let text = page_text(1 << 20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let decision = enforcer.decide(&user, url, Action::Page);
    let budget = Duration::from_secs(10);
    let mut times = Vec::new();
    let mut masked = 0;
    for round in 0..33 {
        let t = text.clone();
        let started = Instant::now();
        let check = rt.block_on(isolator::gates::page::scan::check_page_with(
            &decision, None, t, budget,
        ));
        let took = started.elapsed();
        let verdict = check.verdict.expect("the page is scanned");
        assert!(
            verdict.detectors.iter().any(|d| d == "credit_card"),
            "{verdict:?}"
        );
        masked = check.mask_values.len();
        if round >= 3 {
            times.push(took);
        }
    }
    times.sort();
    // The engine alone on the same text: the rest is the gate's overhead.
    let selection = decision.selection.clone().expect("a scan selection");
    let mut engine_times = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        let report = decision.engine.scan_selection(&text, &selection);
        engine_times.push(started.elapsed());
        std::hint::black_box(report);
    }
    engine_times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "engine alone (scan_selection) on the same text: p50 {:.1} ms; gate overhead p50 {:.2} ms",
        ms(engine_times[engine_times.len() / 2]),
        ms(times[times.len() / 2]) - ms(engine_times[engine_times.len() / 2])
    );
    println!(
        "page-text scan of {} bytes: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} distinct values to mask)",
        text.len(),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1]),
        masked
    );
}
