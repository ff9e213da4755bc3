//! Resting screencasts: a watched page that stays still has its cast
//! stopped (Chromium frees its capture buffers), and whatever changes the
//! page afterwards reaches the user's screen all the same. Judged on the
//! user's screen (the web client's canvas in a real browser), for changes
//! no input caused: a script changing the DOM, a script drawing on a canvas
//! (no DOM change), a CSS animation with a delay (no script); and for input
//! after a rest.

use std::time::{Duration, Instant};

use isolator_e2e::site_rest::{BLUE, RED};
use isolator_e2e::{Client, Isolator, TestSite};

use crate::start_url;

/// Seconds of stillness before a cast rests, in these tests.
const REST_AFTER: u64 = 2;

fn near(p: [u8; 3], want: [u8; 3]) -> bool {
    p.iter().zip(want).all(|(a, b)| a.abs_diff(b) < 40)
}

async fn resting(iso: &Isolator) -> usize {
    iso.state.sessions.attached_count().2
}

/// Waits until the client's screen at the centre shows `want`; how long it took.
async fn screen_turns(client: &Client, want: [u8; 3], within: Duration, what: &str) -> Duration {
    let t0 = Instant::now();
    isolator_e2e::eventually(within, what, || async {
        near(client.pixel(640, 360).await, want).then_some(())
    })
    .await;
    t0.elapsed()
}

/// A site, an isolator whose casts rest after [`REST_AFTER`], and a client
/// at `path`.
async fn start(path: &str) -> (TestSite, Isolator, Client) {
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| c.stream.rest_after_secs = REST_AFTER).await;
    let client = Client::open(&start_url(&iso, &site.url(path))).await;
    client.wait_connected().await;
    (site, iso, client)
}

/// Unix time in ms, `ahead` from now, and the same moment as an `Instant`.
fn moment(ahead: Duration) -> (u128, Instant) {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    ((unix + ahead).as_millis(), Instant::now() + ahead)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_no_input_caused_reach_the_screen_after_the_cast_rests() {
    // The page turns red 12 s from now (its session and first frame take
    // a few); the cast rests after 2 s still. When the machine is so busy
    // that the cast has not rested 0.5 s before the change, nothing is
    // tested: that case runs again with the change 30 s ahead.
    for how in ["dom", "canvas", "animation"] {
        let mut tested = false;
        for ahead in [12, 30] {
            tested = rests_then_changes(how, Duration::from_secs(ahead)).await;
            if tested {
                break;
            }
        }
        assert!(
            tested,
            "{how}: never on screen and resting before the change"
        );
    }
}

/// One case of the test above; false when the page was not shown, or the
/// cast not rested, early enough before the change to test anything.
async fn rests_then_changes(how: &str, ahead: Duration) -> bool {
    // The moment is taken once the server runs (starting it and its
    // Chromium took 10 s when another test started at the same time).
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| c.stream.rest_after_secs = REST_AFTER).await;
    let (at_ms, at) = moment(ahead);
    let client = Client::open(&start_url(&iso, &site.url(&format!("/rest/{how}/{at_ms}")))).await;
    client.wait_connected().await;
    let shown = Instant::now();
    while !near(client.pixel(640, 360).await, BLUE) {
        if Instant::now() >= at || shown.elapsed() > Duration::from_secs(15) {
            eprintln!("{how}: the blue page was not on screen before the change ({ahead:?} ahead)");
            client.close().await;
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    isolator_e2e::eventually(Duration::from_secs(10), "the cast resting", || async {
        (resting(&iso).await == 1).then_some(())
    })
    .await;
    if Instant::now() + Duration::from_millis(500) >= at {
        eprintln!("{how}: rested too late to test anything ({ahead:?} ahead)");
        client.close().await;
        return false;
    }
    // Still blue while it rests (the cast is off, not the screen).
    assert!(near(client.pixel(640, 360).await, BLUE), "{how}");
    screen_turns(
        &client,
        RED,
        at.saturating_duration_since(Instant::now()) + Duration::from_secs(3),
        &format!("the red page ({how})"),
    )
    .await;
    let late = Instant::now().saturating_duration_since(at);
    eprintln!("{how}: the change reached the screen {late:?} after it happened");
    assert!(late < Duration::from_secs(2), "{how}: {late:?}");
    assert_eq!(resting(&iso).await, 0, "{how}: the change woke the cast");
    client.close().await;
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_after_a_rest_shows_at_once_and_the_cast_rests_again() {
    let (_site, iso, client) = start("/rest/stripes/0").await;
    for round in 0..2 {
        isolator_e2e::eventually(Duration::from_secs(8), "the cast resting", || async {
            (resting(&iso).await == 1).then_some(())
        })
        .await;
        let before = client.pixel(640, 360).await;
        let t0 = Instant::now();
        client.wheel(640.0, 360.0, 360.0).await;
        isolator_e2e::eventually(Duration::from_secs(2), "the scrolled page", || async {
            (client.pixel(640, 360).await != before).then_some(())
        })
        .await;
        eprintln!(
            "round {round}: a wheel after a rest reached the screen in {:?}",
            t0.elapsed()
        );
        assert_eq!(resting(&iso).await, 0);
    }
    client.close().await;
}

/// Is any pixel of row `y`, columns `x0..=x1`, of the client's screen dark?
async fn dark_between(client: &Client, x0: u32, x1: u32, y: u32) -> bool {
    for x in x0..=x1 {
        if client.pixel(x, y).await.iter().all(|&c| c < 110) {
            return true;
        }
    }
    false
}

async fn frames_drawn(client: &Client) -> u64 {
    client.state().await["framesDrawn"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_focused_field_shows_a_steady_caret_and_its_cast_rests() {
    steady_caret("/rest/field/0", None).await;
}

/// Opens `path` (waiting for the title `ready` when given), clicks into its
/// field and judges the caret on the user's screen, the frames sent and
/// the rest.
async fn steady_caret(path: &str, ready: Option<&str>) {
    // Chromium blinks a caret by drawing a frame every half second: a
    // session left with a field focused streamed two frames a second for
    // ever and its cast never rested.
    let (_site, iso, client) = start(path).await;
    if let Some(title) = ready {
        client
            .wait_state("the page ready", Duration::from_secs(20), |s| {
                s["title"] == title
            })
            .await;
    }
    assert!(
        !dark_between(&client, 196, 206, 360).await,
        "no caret before the field is focused"
    );
    client.click_viewer(500.0, 360.0).await;
    isolator_e2e::eventually(Duration::from_secs(5), "the caret on screen", || async {
        dark_between(&client, 196, 206, 360).await.then_some(())
    })
    .await;
    // Still, focused: at most a frame or two, not one every 500 ms.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = frames_drawn(&client).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = frames_drawn(&client).await - before;
    assert!(
        sent <= 1,
        "{sent} frames in 3 s of a still page with a focused field"
    );
    isolator_e2e::eventually(Duration::from_secs(10), "the cast resting", || async {
        (resting(&iso).await == 1).then_some(())
    })
    .await;
    // The caret stays drawn on the user's screen while the cast rests,
    // and typing after the rest shows at once.
    for _ in 0..4 {
        assert!(dark_between(&client, 196, 206, 360).await, "the caret went");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let t0 = Instant::now();
    client.type_text("WW").await;
    isolator_e2e::eventually(
        Duration::from_secs(3),
        "typed letters on screen",
        || async { dark_between(&client, 220, 300, 360).await.then_some(()) },
    )
    .await;
    eprintln!("keys after a rest reached the screen in {:?}", t0.elapsed());
    assert_eq!(resting(&iso).await, 0);
    client.close().await;
}

/// The same field in a cross-site frame: another renderer and another CDP
/// target, which the session's page script does not reach (the page-content
/// gate's hooks, which set the steady caret, do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_in_a_cross_site_frame_shows_a_steady_caret_too() {
    steady_caret("/rest/framed/0", Some("Framed field ready")).await;
}
