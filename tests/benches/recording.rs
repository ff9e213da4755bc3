//! Recording cost of ordinary browsing: prints the README's "Audit" figures.
//!
//! `cargo bench -p isolator-e2e --bench recording`
//!
//! A real session (the web client in a headless Chromium, the isolated
//! Chromium on the server, the test site) runs a scripted minute, twice over:
//! 10 s reading a page with a blinking caret, 10 s typing (5 characters/s),
//! 10 s scrolling a long page (a wheel step every 200 ms). Recording is at
//! the default `audit.max_fps = 5`. Printed:
//! - bytes of recording per minute (all segment files, from the index);
//! - frames recorded and frames dropped (the disk slower than the screen);
//! - CPU of the recording thread (hashing, writing) per minute of session,
//!   as a share of one core: the whole recording cost, since the session
//!   actor only hands frames over (no copy) on a channel.
//!
//! Then seeking in the player: a synthetic hour (3600 distinct frames taken
//! from that real session, one a second, and 14 400 input events) is written
//! to the store, the replay page opens it in a real browser, and the
//! timeline is clicked at 20 random points; printed: the time from click to
//! the frame of that moment being shown (chunk request through the keyframe
//! index, JSON, decode), p50 and worst.

use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::input::{
    DispatchMouseEventParams, DispatchMouseEventType, MouseButton,
};
use isolator::audit::{Event, Frame, Input, InputEvent, Reader, SessionInfo};
use isolator_e2e::{Client, Isolator, TestSite};

fn enc(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn phase_read(for_: Duration) {
    tokio::time::sleep(for_).await;
}

async fn phase_type(client: &Client, for_: Duration) {
    client.click_viewer(200.0, 320.0).await;
    let end = Instant::now() + for_;
    let mut i = 0u32;
    while Instant::now() < end {
        let c = char::from(b'a' + (i % 26) as u8);
        client.type_text(&c.to_string()).await;
        i += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Clear what was typed so the next round types into an empty field.
    client.press("a", 2).await;
    client.press("Backspace", 0).await;
}

async fn phase_scroll(client: &Client, for_: Duration) {
    let end = Instant::now() + for_;
    let mut dy = 120.0;
    let mut n = 0;
    while Instant::now() < end {
        client.wheel(400.0, 300.0, dy).await;
        n += 1;
        if n % 20 == 0 {
            dy = -dy;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn navigate(client: &Client, url: &str, title: &'static str) {
    client.click_ui("[data-role=address]").await;
    client.press("a", 2).await;
    client.type_text(url).await;
    client.press("Enter", 0).await;
    client
        .wait_state(title, Duration::from_secs(30), |s| s["title"] == title)
        .await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let site = TestSite::start().await;
    let iso = Isolator::for_site(&site).await;
    let client = Client::open(&iso.url(&format!("/?url={}", enc(&site.url("/"))))).await;
    client.wait_connected().await;
    client
        .wait_state("home", Duration::from_secs(30), |s| {
            s["title"] == "Test Home"
        })
        .await;
    let audit = iso.state.audit.clone();
    let cpu0 = audit.health().writer_cpu_us;
    let t0 = Instant::now();
    let phase = Duration::from_secs(10);
    for _ in 0..2 {
        navigate(&client, &site.url("/"), "Test Home").await;
        phase_read(phase).await;
        phase_type(&client, phase).await;
        navigate(&client, &site.url("/scroll"), "Long page").await;
        phase_scroll(&client, phase).await;
    }
    let elapsed = t0.elapsed();
    client.click_ui("[data-action=menu]").await;
    client.click_ui("[data-action=end]").await;
    let store = audit.store().expect("recording is on").clone();
    let row = loop {
        let rows = store.index().sessions(&Default::default()).unwrap();
        if let Some(r) = rows.into_iter().find(|r| r.end_ms.is_some()) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let health = audit.health();
    let reader = Reader::open(&row.path).unwrap();
    let (mut frames, mut repeats, mut events) = (0u64, 0u64, 0u64);
    for r in reader.records() {
        let r = r.unwrap();
        match r.event {
            Event::Frame(_) if r.repeat => repeats += 1,
            Event::Frame(_) => frames += 1,
            _ => events += 1,
        }
    }
    let minutes = (row.end_ms.unwrap() - row.start_ms) as f64 / 60_000.0;
    let cpu_ms = (health.writer_cpu_us - cpu0) as f64 / 1000.0;
    println!(
        "recording of ordinary browsing ({:.1} s scripted, session {:.2} min)",
        elapsed.as_secs_f64(),
        minutes
    );
    println!(
        "  bytes per minute         {:.2} MB/min ({} bytes total)",
        row.bytes as f64 / minutes / 1e6,
        row.bytes
    );
    println!(
        "  frames recorded          {frames} distinct + {repeats} repeats, {} dropped",
        health.frames_dropped
    );
    println!("  other records            {events}");
    println!(
        "  recorder CPU             {:.0} ms per minute of session ({:.2}% of one core)",
        cpu_ms / minutes,
        cpu_ms / (minutes * 60_000.0) * 100.0
    );
    client.close().await;

    // Seeking in a synthetic hour.
    let jpegs: Vec<Frame> = reader
        .records()
        .filter_map(|r| match r.unwrap().event {
            Event::Frame(f) => Some(f),
            _ => None,
        })
        .collect();
    let hour_ms: u64 = 3_600_000;
    let start = isolator::audit::recorder::now_wall_ms() - hour_ms as i64;
    let info = SessionInfo {
        session: "synthetic-hour".into(),
        user: "bench".into(),
        ..Default::default()
    };
    let t = Instant::now();
    let mut rec = store.start_at(&info, start).unwrap();
    for s in 0..3600u64 {
        let mut f = jpegs[s as usize % jpegs.len()].clone();
        // Distinct bytes after the JPEG's end marker: every frame is stored in full.
        let mut bytes = f.jpeg.to_vec();
        bytes.extend_from_slice(&s.to_le_bytes());
        f.jpeg = bytes.into();
        rec.record_at(s * 1000, start + (s * 1000) as i64, Event::Frame(f))
            .unwrap();
        for k in 0..4u64 {
            let at = s * 1000 + 100 + k * 200;
            let ev = InputEvent::new(0, Input::Key { key: "a" }, false);
            rec.record_at(at, start + at as i64, Event::Input(ev))
                .unwrap();
        }
    }
    let summary = rec
        .end_at(hour_ms, start + hour_ms as i64, "closed")
        .unwrap();
    println!(
        "synthetic hour: {} records, {:.0} MB, written in {:.1} s",
        summary.records,
        summary.bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let player = Client::open(&iso.url("/admin/sessions/synthetic-hour")).await;
    let t = Instant::now();
    loop {
        let loaded: Option<bool> = player
            .try_eval("!!(window.__replay && window.__replay.loaded)")
            .await;
        if loaded == Some(true) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the player did not load"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "  player opens the hour (verify + event list) in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let bx: serde_json::Value = player
        .eval("(() => { const r = document.getElementById('timeline').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
        .await;
    let (left, top, width, height) = (
        bx[0].as_f64().unwrap(),
        bx[1].as_f64().unwrap(),
        bx[2].as_f64().unwrap(),
        bx[3].as_f64().unwrap(),
    );
    let mut times = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let frac = (x % 10_000) as f64 / 10_000.0;
        let before: u64 = player.eval("window.__replay.seeks || 0").await;
        let t = Instant::now();
        for kind in [
            DispatchMouseEventType::MousePressed,
            DispatchMouseEventType::MouseReleased,
        ] {
            let mut p =
                DispatchMouseEventParams::new(kind, left + frac * width, top + height / 2.0);
            p.button = Some(MouseButton::Left);
            p.buttons = Some(1);
            p.click_count = Some(1);
            player.page.execute(p).await.unwrap();
        }
        // The press seeks; wait until that seek has drawn its frame.
        loop {
            let s: serde_json::Value = player
                .eval("({ seeks: window.__replay.seeks || 0, t: window.__replay.t, frameT: window.__replay.frameT, w: document.getElementById('screen').naturalWidth })")
                .await;
            if s["seeks"].as_u64().unwrap() > before {
                let (t_ms, frame_t) = (s["t"].as_f64().unwrap(), s["frameT"].as_f64().unwrap());
                assert!(
                    frame_t <= t_ms && t_ms - frame_t <= 1000.0,
                    "the frame of that second: {s}"
                );
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "seek never finished");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "  seek by clicking the timeline (20 random points): p50 {:.0} ms, worst {:.0} ms",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    player.close().await;
}
