//! Submit gate cost: the latency the browser-level request interception adds
//! to requests the policy does not scan.
//!
//! `cargo bench -p isolator-e2e --bench submit`. A session of the real server
//! (policy: request bodies to `/gn/open/` are allowed, so they are decided
//! without a scan) runs, inside the isolated page, 300 sequential `fetch`
//! GETs (no body: continued at once) and 300 POSTs with a small JSON body
//! (session lookup and policy decision, no scan), timing each with
//! `performance.now()`. The same loops then run with interception turned
//! off (`Fetch.disable` on the same browser); the difference of the p50s is
//! the added latency.

use std::time::Duration;

use isolator_e2e::{Isolator, TestSite};
use serde_json::Value;

const POLICY: &str = r#"
[[apps]]
name = "open"
hosts = ["127.0.0.1/gn/open"]

[[rules]]
name = "open-app"
apps = ["open"]
submit = "allow"

[[rules]]
name = "dlp"
submit = { mode = "scan", profiles = ["financial"] }
"#;

const LOOPS: &str = r#"(async () => {
  const time = async (n, f) => { const out = []; for (let i = 0; i < n; i++) { const t = performance.now(); await f(i); out.push(performance.now() - t); } return out; };
  await time(30, () => fetch('/page2', { cache: 'no-store' }).then(r => r.text()));
  const get = await time(300, () => fetch('/page2', { cache: 'no-store' }).then(r => r.text()));
  const post = await time(300, (i) => fetch('/gn/open/sink', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ i, note: 'hello' }) }).then(r => r.text()));
  return { get, post };
})()"#;

fn p(v: &Value, key: &str, q: f64) -> f64 {
    let mut xs: Vec<f64> = v[key]
        .as_array()
        .expect("timings")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    xs.sort_by(|a, b| a.partial_cmp(b).expect("numbers"));
    xs[((xs.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| c.policies.file = Some(policy)).await;
    let res = reqwest::Client::new()
        .post(iso.url("/api/sessions"))
        .header("x-isolator-request", "1")
        .json(&serde_json::json!({ "url": site.url("/page2"), "width": 1280, "height": 720, "dpr": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "session created");
    let running = iso
        .state
        .sessions
        .browser()
        .peek()
        .await
        .expect("a browser");
    let page = isolator_e2e::eventually(Duration::from_secs(30), "the session's page", || async {
        for page in running.browser.pages().await.ok()? {
            if page
                .url()
                .await
                .ok()
                .flatten()
                .is_some_and(|u| u.ends_with("/page2"))
            {
                return Some(page);
            }
        }
        None
    })
    .await;
    let on: Value = page.evaluate(LOOPS).await.unwrap().into_value().unwrap();
    running
        .browser
        .execute(chromiumoxide::cdp::browser_protocol::fetch::DisableParams::default())
        .await
        .unwrap();
    let off: Value = page.evaluate(LOOPS).await.unwrap().into_value().unwrap();
    for (key, what) in [
        ("get", "GET, no body"),
        ("post", "POST, JSON body, not scanned"),
    ] {
        let (a, b) = (p(&on, key, 0.5), p(&off, key, 0.5));
        println!(
            "{what}: intercepted p50 {a:.2} ms p95 {:.2} ms; not intercepted p50 {b:.2} ms p95 {:.2} ms; added p50 {:.2} ms",
            p(&on, key, 0.95),
            p(&off, key, 0.95),
            a - b
        );
    }
    assert!(
        site.posts_to("/gn/open/sink").len() >= 600,
        "every POST arrived"
    );
}
