//! Office-mix density benchmark: how many sessions one machine serves with
//! input-to-frame p95 <= 100 ms when users behave like office workers.
//!
//! `cargo bench -p isolator-e2e --bench office` (release). Each session is
//! a scripted client (the web client's WebSocket protocol) on the test
//! site's office pages (`site_office`: a mail client, a report with charts
//! and a table, a customer list). Each session loops, with its own fixed
//! seed, over: reading (2-6 s, frames acked as they come; 45%), a typing
//! burst (8-25 keys at 3-6 keys/s into the page's text box, each key's
//! input-to-frame timed; 30%), scrolling (6-12 wheel steps at 10/s; 17%)
//! and opening another page (8%). Steps of N sessions (`OFFICE_STEPS`,
//! default 4,8,12,16,20,24; `OFFICE_SECS` per step, default 30) report
//! input-to-frame p50/p95/p99, keys answered within 2 s, frames/s in all,
//! the screenshots the server asked Chromium for per second
//! (`isolator_screenshots_total`: after a burst of frames, and when a cast
//! starts) and the fewest frames a session got against the mean, Chromium's CPU and this
//! process's (the server and the scripted clients), in cores, and
//! Chromium's peak PSS per session. Then the largest N whose p95 is <= 100 ms
//! with every key answered and no error.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use isolator_e2e::load_session::{
    chromium_pss_kb, load_average, mb, open, wait_disposed, PeakSampler, Session, KEY_TIMEOUT,
};
use isolator_e2e::procfs::{chromium_pid, percentile, tree_cpu_ticks};
use isolator_e2e::site_office::PAGES;
use isolator_e2e::TestSite;

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// This process's CPU time (user + system, clock ticks), without its
/// children (Chromium).
fn own_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    missed: usize,
    errors: Vec<String>,
}

/// One typing burst: keys at a steady rate, each timed to its frame.
async fn burst(
    s: &mut Session,
    rng: &mut Rng,
    key: &mut u32,
    tally: &Mutex<Tally>,
) -> anyhow::Result<()> {
    s.click(300, 60).await?;
    s.settle(Duration::from_millis(150), Duration::from_secs(2))
        .await?;
    let keys = rng.between(8, 25);
    let per_second = rng.between(3, 6);
    let interval = Duration::from_millis(1000 / per_second);
    for _ in 0..keys {
        let started = Instant::now();
        let took = s.key(*key).await?;
        *key += 1;
        {
            let mut t = tally.lock().unwrap();
            if took >= KEY_TIMEOUT {
                t.missed += 1;
            }
            t.latencies_ms.push(took.as_secs_f64() * 1e3);
        }
        if let Some(left) = (started + interval).checked_duration_since(Instant::now()) {
            s.drain(left).await?;
        }
    }
    Ok(())
}

/// One session's day, looped until `until`.
async fn office_day(
    s: &mut Session,
    site: &str,
    seed: u64,
    until: Instant,
    tally: &Mutex<Tally>,
) -> anyhow::Result<()> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut key = 0u32;
    let mut page = (seed as usize) % PAGES.len();
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        match rng.between(0, 99) {
            0..=44 => {
                s.drain(Duration::from_millis(rng.between(2_000, 6_000)).min(left))
                    .await?
            }
            45..=74 => burst(s, &mut rng, &mut key, tally).await?,
            75..=91 => {
                let down = rng.next().is_multiple_of(2);
                for _ in 0..rng.between(6, 12) {
                    s.wheel(if down { 100 } else { -100 }).await?;
                    s.drain(Duration::from_millis(100)).await?;
                }
            }
            _ => {
                page = (page + 1) % PAGES.len();
                s.navigate(&format!("{site}{}", PAGES[page])).await?;
            }
        }
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let steps: Vec<usize> = std::env::var("OFFICE_STEPS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![4, 8, 12, 16, 20, 24]);
    let step_secs: u64 = std::env::var("OFFICE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let most = steps.iter().copied().max().unwrap_or(1);
    let site = TestSite::start().await;
    let iso = isolator_e2e::Isolator::for_site_with(&site, |c| {
        c.sessions.max = most + 2;
        c.sessions.max_navigations_per_minute = 600;
    })
    .await;
    let base = site.url("");
    let base = base.trim_end_matches('/').to_owned();
    let ticks_per_second = 100.0; // USER_HZ on Linux
    println!(
        "isolator office-mix benchmark: 1280x720, {step_secs} s per step, load average {}",
        load_average()
    );
    open(&iso, &format!("{base}{}", PAGES[0]))
        .await
        .expect("warm-up session")
        .close()
        .await;
    wait_disposed(&iso).await;
    let pid = chromium_pid(&iso).await;
    let idle_pss = chromium_pss_kb(pid);
    println!("Chromium PSS with no session: {:.0} MB", mb(idle_pss));
    println!(
        "{:>3} | {:>8} | {:>8} | {:>8} | {:>9} | {:>8} | {:>9} | {:>14} | {:>9} | {:>9} | {:>10} | {:>6} | load",
        "N",
        "i2f p50",
        "i2f p95",
        "i2f p99",
        "keys",
        "frames/s",
        "shots/s",
        "fewest / mean",
        "Cr cores",
        "srv cores",
        "PSS/sess",
        "errors"
    );
    let mut best = None;
    for &n in &steps {
        let load_before = load_average();
        let mut sessions = Vec::with_capacity(n);
        let tally = Arc::new(Mutex::new(Tally::default()));
        for i in 0..n {
            match open(&iso, &format!("{base}{}", PAGES[i % PAGES.len()])).await {
                Ok(s) => sessions.push(s),
                Err(e) => tally.lock().unwrap().errors.push(format!("{e:#}")),
            }
        }
        let sampler = PeakSampler::start(pid);
        let cpu_before = pid.map_or(0, tree_cpu_ticks);
        let own_before = own_cpu_ticks();
        let shots =
            || iso.state.metrics.screenshots("quiet") + iso.state.metrics.screenshots("cast_start");
        let shots_before = shots();
        let started = Instant::now();
        let until = started + Duration::from_secs(step_secs);
        let tasks: Vec<_> = sessions
            .into_iter()
            .enumerate()
            .map(|(i, mut s)| {
                let (tally, base) = (tally.clone(), base.clone());
                tokio::spawn(async move {
                    let at_start = s.frames;
                    if let Err(e) = office_day(&mut s, &base, i as u64 + 1, until, &tally).await {
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
        let secs = started.elapsed().as_secs_f64();
        let cores = (pid.map_or(0, tree_cpu_ticks).saturating_sub(cpu_before)) as f64
            / ticks_per_second
            / secs;
        let own_cores = own_cpu_ticks().saturating_sub(own_before) as f64 / ticks_per_second / secs;
        let shots_per_second = shots().saturating_sub(shots_before) as f64 / secs;
        let peak = sampler.stop().await.pss_kb;
        let tally = std::mem::take(&mut *tally.lock().unwrap());
        let total: u64 = per_session.iter().sum();
        let mean = total as f64 / n.max(1) as f64;
        let fewest = per_session.iter().copied().min().unwrap_or(0);
        let (p50, p95, p99) = (
            percentile(&tally.latencies_ms, 0.5),
            percentile(&tally.latencies_ms, 0.95),
            percentile(&tally.latencies_ms, 0.99),
        );
        println!(
            "{n:>3} | {p50:>5.1} ms | {p95:>5.1} ms | {p99:>5.1} ms | {:>9} | {:>8.1} | {:>9.1} | {:>6} / {:>5.0} | {:>9.2} | {:>9.2} | {:>7.0} MB | {:>6} | {load_before} -> {}",
            format!("{}/{}", tally.latencies_ms.len() - tally.missed, tally.latencies_ms.len()),
            total as f64 / secs,
            shots_per_second,
            fewest,
            mean,
            cores,
            own_cores,
            mb(peak.saturating_sub(idle_pss)) / n.max(1) as f64,
            tally.errors.len(),
            load_average()
        );
        for e in tally.errors.iter().take(3) {
            println!("      error: {e}");
        }
        if p95 <= 100.0 && tally.missed == 0 && tally.errors.is_empty() {
            best = Some(n);
        }
        wait_disposed(&iso).await;
    }
    match best {
        Some(n) => println!("largest N with input-to-frame p95 <= 100 ms, every key answered: {n}"),
        None => println!("no step had input-to-frame p95 <= 100 ms with every key answered"),
    }
}
