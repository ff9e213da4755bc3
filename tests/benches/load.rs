//! Load benchmark: many concurrent sessions on one server and one Chromium.
//!
//! `cargo bench -p isolator-e2e --bench load` (release). Prints one line per
//! step and a summary; the README's benchmark section holds a measured table.
//!
//! Each session is a scripted client speaking the web client's WebSocket
//! protocol (a browser per session would measure the client browser, not the
//! server). For a fixed time it loops: navigate to a text field, click it,
//! type keys one at a time measuring input-to-frame (the key sent until the
//! next frame arrives; the page has no caret blink or animation, so that frame
//! shows the key), navigate to a long page and scroll it with the wheel for a
//! second. The step count N goes 1, 2, 4, 8, 12, 16, 20 (`LOAD_STEPS=1,4,8`
//! overrides, `LOAD_SECS` sets the time per step, 20 s by default); each step
//! reports input-to-frame p50/p95, frames/s (all sessions together), the
//! frames of the session that got fewest next to the mean (its fair share), the
//! server process's RSS and Chromium's PSS (its whole process tree), peak
//! over the step. Then the largest N with p95 < 100 ms, and memory before the
//! first session, at peak, and after every session ended and its
//! BrowserContext was disposed.
//!
//! The server runs in this process (as in the other e2e benches), so "server
//! RSS" includes the scripted clients: a few hundred KB per socket.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use isolator_e2e::load_session::{
    chromium_pss_kb, load_average, mb, open, server_rss_kb, wait_disposed, Peak, PeakSampler,
    Session, KEY_TIMEOUT,
};
use isolator_e2e::procfs::{chromium_pid, percentile};
use isolator_e2e::{Isolator, TestSite};

/// What all sessions of one step measured.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    missed: usize,
    errors: Vec<String>,
    /// Per session, in the order they finished: (frames, keys sent, keys missed).
    sessions: Vec<(u64, usize, usize)>,
}

/// One session's script, looped until `until`.
async fn script(
    s: &mut Session,
    input: &str,
    scroll: &str,
    until: Instant,
    tally: &Mutex<Tally>,
) -> anyhow::Result<()> {
    let mut key = 0u32;
    let mut missed = 0usize;
    let result = keep_typing(s, input, scroll, until, tally, &mut key, &mut missed).await;
    let frames = s.frames;
    tally
        .lock()
        .unwrap()
        .sessions
        .push((frames, key as usize, missed));
    result
}

/// The loop of [`script`]; counts the keys sent and missed.
async fn keep_typing(
    s: &mut Session,
    input: &str,
    scroll: &str,
    until: Instant,
    tally: &Mutex<Tally>,
    key: &mut u32,
    missed: &mut usize,
) -> anyhow::Result<()> {
    while Instant::now() < until {
        s.navigate(input).await?;
        s.click(100, 40).await?;
        s.settle(Duration::from_millis(150), Duration::from_secs(2))
            .await?;
        for _ in 0..15 {
            if Instant::now() >= until {
                break;
            }
            let took = s.key(*key).await?;
            *key += 1;
            {
                let mut t = tally.lock().unwrap();
                if took >= KEY_TIMEOUT {
                    t.missed += 1;
                    *missed += 1;
                }
                t.latencies_ms.push(took.as_secs_f64() * 1e3);
            }
            // Let the key's trailing frames pass, so the next key's frame is its own.
            s.settle(Duration::from_millis(100), Duration::from_secs(1))
                .await?;
        }
        if Instant::now() >= until {
            break;
        }
        s.navigate(scroll).await?;
        for i in 0..30 {
            s.wheel(if i < 15 { 80 } else { -80 }).await?;
            s.drain(Duration::from_millis(33)).await?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let steps: Vec<usize> = std::env::var("LOAD_STEPS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 4, 8, 12, 16, 20]);
    let step_secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let most = steps.iter().copied().max().unwrap_or(1);

    let rss_start = server_rss_kb();
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| {
        c.sessions.max = most + 2;
        // Each loop loads two pages every few seconds; stay clear of the limit.
        c.sessions.max_navigations_per_minute = 600;
    })
    .await;
    let input = site.url("/bench/input");
    let scroll = site.url("/scroll");
    println!(
        "isolator load benchmark: 1280x720, JPEG q70, max 30 fps, {step_secs} s per step, load average {}",
        load_average()
    );

    // Launch the browser with one session, then measure it with none.
    open(&iso, &input)
        .await
        .expect("warm-up session")
        .close()
        .await;
    wait_disposed(&iso).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = chromium_pid(&iso).await;
    let base = Peak {
        rss_kb: server_rss_kb(),
        pss_kb: chromium_pss_kb(pid),
    };
    println!(
        "before the first session: server RSS {:.0} MB (at start, before the browser: {:.0} MB), Chromium PSS {:.0} MB (browser alone)",
        mb(base.rss_kb),
        mb(rss_start),
        mb(base.pss_kb)
    );
    println!(
        "{:>3} | {:>9} | {:>9} | {:>6} | {:>8} | {:>13} | {:>8} | {:>7} | {:>6} | load",
        "N",
        "i2f p50",
        "i2f p95",
        "keys",
        "frames/s",
        "fewest / mean",
        "srv RSS",
        "Cr PSS",
        "errors"
    );

    let mut best = None;
    let mut overall = base;
    for &n in &steps {
        let load_before = load_average();
        let mut sessions = Vec::with_capacity(n);
        let mut open_errors = Vec::new();
        for _ in 0..n {
            match open(&iso, &input).await {
                Ok(s) => sessions.push(s),
                Err(e) => open_errors.push(format!("{e:#}")),
            }
        }
        let tally = Arc::new(Mutex::new(Tally {
            errors: open_errors,
            ..Tally::default()
        }));
        let sampler = PeakSampler::start(pid);
        let started = Instant::now();
        let until = started + Duration::from_secs(step_secs);
        let tasks: Vec<_> = sessions
            .into_iter()
            .map(|mut s| {
                let (tally, input, scroll) = (tally.clone(), input.clone(), scroll.clone());
                tokio::spawn(async move {
                    let at_start = s.frames;
                    if let Err(e) = script(&mut s, &input, &scroll, until, &tally).await {
                        tally.lock().unwrap().errors.push(format!("{e:#}"));
                    }
                    let frames = s.frames - at_start;
                    s.close().await;
                    frames
                })
            })
            .collect();
        let mut per_session = Vec::with_capacity(n);
        for t in tasks {
            per_session.push(t.await.unwrap_or(0));
        }
        let frames: u64 = per_session.iter().sum();
        // Every session runs the same script: its fair share is the mean.
        let fewest = per_session.iter().copied().min().unwrap_or(0);
        let mean = frames as f64 / per_session.len().max(1) as f64;
        let secs = started.elapsed().as_secs_f64();
        let peak = sampler.stop().await;
        overall.rss_kb = overall.rss_kb.max(peak.rss_kb);
        overall.pss_kb = overall.pss_kb.max(peak.pss_kb);
        let tally = std::mem::take(&mut *tally.lock().unwrap());
        let (p50, p95) = (
            percentile(&tally.latencies_ms, 0.5),
            percentile(&tally.latencies_ms, 0.95),
        );
        println!(
            "{n:>3} | {p50:>6.1} ms | {p95:>6.1} ms | {:>6} | {:>8.1} | {:>5} / {:>5.0} | {:>5.0} MB | {:>4.0} MB | {:>6} | {load_before} -> {}",
            format!("{}/{}", tally.latencies_ms.len() - tally.missed, tally.latencies_ms.len()),
            frames as f64 / secs,
            fewest,
            mean,
            mb(peak.rss_kb),
            mb(peak.pss_kb),
            tally.errors.len(),
            load_average()
        );
        if std::env::var_os("LOAD_VERBOSE").is_some() {
            let per: Vec<String> = tally
                .sessions
                .iter()
                .map(|(f, k, m)| format!("{f}f {}/{k}k", k - m))
                .collect();
            println!(
                "      per session (frames, keys answered/sent): {}",
                per.join(", ")
            );
        }
        for e in tally.errors.iter().take(3) {
            println!("      error: {e}");
        }
        if p95 < 100.0 && tally.errors.is_empty() {
            best = Some(n);
        }
        wait_disposed(&iso).await;
    }

    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = Peak {
        rss_kb: server_rss_kb(),
        pss_kb: chromium_pss_kb(chromium_pid(&iso).await),
    };
    match best {
        Some(n) => println!("largest N with input-to-frame p95 < 100 ms: {n}"),
        None => println!("no step had input-to-frame p95 < 100 ms"),
    }
    println!(
        "memory: server RSS {:.0} MB before, {:.0} MB peak, {:.0} MB after ({:+.0} MB); \
         Chromium PSS {:.0} MB before, {:.0} MB peak, {:.0} MB after ({:+.0} MB); load average {}",
        mb(base.rss_kb),
        mb(overall.rss_kb),
        mb(after.rss_kb),
        mb(after.rss_kb) - mb(base.rss_kb),
        mb(base.pss_kb),
        mb(overall.pss_kb),
        mb(after.pss_kb),
        mb(after.pss_kb) - mb(base.pss_kb),
        load_average()
    );
}
