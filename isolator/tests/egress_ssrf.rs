//! The SSRF matrix through a real Chromium: a BrowserContext behind the
//! session's egress proxy, with the process-wide hardening flags, tries to
//! reach a "forbidden" listener on loopback in every spelling and through
//! every path (navigation, redirect, iframe, popup, worker, fetch,
//! WebSocket, https CONNECT), plus metadata and private addresses. Every
//! attempt must be refused by the proxy and the forbidden listener must
//! receive nothing, while the explicitly allowed test site still works.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt;
use isolator::browser::args::disabled_features;
use isolator::egress::{
    chromium_hardening_args, EgressConfig, EgressEvent, EgressPolicy, EgressProxy, PeerFilter,
    SystemResolver, Verdict,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

/// The allowed test site: `/redirect?to=URL` answers 302, everything else a
/// small page titled `allowed`.
async fn allowed_site(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&got);
            let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
            let resp = if let Some(to) = path.strip_prefix("/redirect?to=") {
                format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
            } else {
                let body = "<!doctype html><title>allowed</title><p>ok</p>";
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}

/// Counts every connection on every address it could bind.
async fn forbidden_listener(addrs: &[SocketAddr], hits: Arc<AtomicUsize>) -> usize {
    let mut bound = 0;
    for addr in addrs {
        let Ok(l) = TcpListener::bind(addr).await else {
            continue;
        };
        bound += 1;
        let hits = hits.clone();
        tokio::spawn(async move {
            while let Ok((s, peer)) = l.accept().await {
                eprintln!("FORBIDDEN LISTENER REACHED from {peer}");
                hits.fetch_add(1, Ordering::SeqCst);
                drop(s);
            }
        });
    }
    bound
}

async fn launch() -> (Browser, tokio::task::JoinHandle<()>) {
    let mut builder = BrowserConfig::builder()
        .chrome_executable("/usr/lib/chromium/chromium")
        .no_sandbox()
        .respect_https_errors()
        .request_timeout(Duration::from_secs(10))
        .arg("disable-gpu");
    for a in chromium_hardening_args() {
        builder = builder.arg(a);
    }
    builder = builder.arg(format!(
        "disable-features={}",
        disabled_features().join(",")
    ));
    let (browser, mut handler) = Browser::launch(builder.build().unwrap()).await.unwrap();
    let task = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, task)
}

/// One attempt of the matrix.
enum Action {
    /// Navigate the page's top frame.
    Goto(String),
    /// Load the allowed site, then run this script there (with a user gesture).
    Script(String),
}

struct Case {
    name: &'static str,
    action: Action,
    /// A substring of the blocked event's target.
    target: String,
}

fn cases(site: &str, pf: u16) -> Vec<Case> {
    let goto = |name, url: String, target: String| Case {
        name,
        action: Action::Goto(url),
        target,
    };
    let script = |name, js: String, target: String| Case {
        name,
        action: Action::Script(js),
        target,
    };
    let lo = format!("127.0.0.1:{pf}");
    let port = format!(":{pf}");
    let t = |s: &str| s.to_owned();
    vec![
        goto("loopback", format!("http://127.0.0.1:{pf}/"), lo.clone()),
        goto("localhost", format!("http://localhost:{pf}/"), format!("localhost:{pf}")),
        goto("LOCALHOST. uppercase + dot", format!("http://LOCALHOST.:{pf}/"), port.clone()),
        goto("sub.localhost", format!("http://a.localhost:{pf}/"), port.clone()),
        goto("decimal", format!("http://2130706433:{pf}/"), lo.clone()),
        goto("hex", format!("http://0x7f000001:{pf}/"), lo.clone()),
        goto("hex short", format!("http://0x7f.1:{pf}/"), lo.clone()),
        goto("hex dotted", format!("http://0x7f.0x0.0x0.0x1:{pf}/"), lo.clone()),
        goto("octal", format!("http://0177.0.0.1:{pf}/"), lo.clone()),
        goto("octal long", format!("http://017700000001:{pf}/"), lo.clone()),
        goto("short 127.1", format!("http://127.1:{pf}/"), lo.clone()),
        goto("trailing dot", format!("http://127.0.0.1.:{pf}/"), lo.clone()),
        goto("percent-encoded", format!("http://%31%32%37.0.0.1:{pf}/"), lo.clone()),
        goto("userinfo trick", format!("http://allowed.example@127.0.0.1:{pf}/"), lo.clone()),
        goto("127.0.0.2", format!("http://127.0.0.2:{pf}/"), format!("127.0.0.2:{pf}")),
        goto("0.0.0.0", format!("http://0.0.0.0:{pf}/"), format!("0.0.0.0:{pf}")),
        goto("0", format!("http://0:{pf}/"), format!("0.0.0.0:{pf}")),
        goto("[::1]", format!("http://[::1]:{pf}/"), format!("[::1]:{pf}")),
        goto("[::]", format!("http://[::]:{pf}/"), format!("[::]:{pf}")),
        goto("[::ffff:127.0.0.1]", format!("http://[::ffff:127.0.0.1]:{pf}/"), port.clone()),
        goto("[::ffff:7f00:1]", format!("http://[::ffff:7f00:1]:{pf}/"), port.clone()),
        goto("NAT64 [64:ff9b::7f00:1]", format!("http://[64:ff9b::7f00:1]:{pf}/"), port.clone()),
        goto("6to4 [2002:7f00:1::]", format!("http://[2002:7f00:1::]:{pf}/"), port.clone()),
        goto("DNS name -> 127.0.0.1", format!("http://internal.test:{pf}/"), format!("internal.test:{pf}")),
        goto("https CONNECT loopback", format!("https://127.0.0.1:{pf}/"), lo.clone()),
        goto("metadata", t("http://169.254.169.254/latest/meta-data/"), t("169.254.169.254:80")),
        goto("metadata decimal", t("http://2852039166/latest/"), t("169.254.169.254:80")),
        goto("metadata mapped", t("http://[::ffff:a9fe:a9fe]/"), t("[::ffff:169.254.169.254]:80")),
        goto("10/8", t("http://10.0.0.1/"), t("10.0.0.1:80")),
        goto("172.16/12", t("http://172.16.0.1/"), t("172.16.0.1:80")),
        goto("192.168/16 hex", t("http://0xc0a80101/"), t("192.168.1.1:80")),
        goto("CGNAT", t("http://100.64.0.1/"), t("100.64.0.1:80")),
        goto("fc00::/7", t("http://[fd00::1]/"), t("[fd00::1]:80")),
        goto(
            "redirect to loopback",
            format!("{site}/redirect?to=http://127.0.0.1:{pf}/"),
            lo.clone(),
        ),
        goto(
            "redirect to metadata",
            format!("{site}/redirect?to=http://169.254.169.254/"),
            t("169.254.169.254:80"),
        ),
        script(
            "fetch()",
            format!("fetch('http://127.0.0.1:{pf}/x').catch(() => 0); 1"),
            lo.clone(),
        ),
        script(
            "iframe",
            format!("let f = document.createElement('iframe'); f.src = 'http://127.0.0.1:{pf}/f'; document.body.append(f); 1"),
            lo.clone(),
        ),
        script(
            "popup window.open",
            format!("window.open('http://127.0.0.1:{pf}/popup'); 1"),
            lo.clone(),
        ),
        script(
            "worker fetch",
            format!("new Worker(URL.createObjectURL(new Blob([\"fetch('http://127.0.0.1:{pf}/w').catch(() => 0)\"], {{type: 'text/javascript'}}))); 1"),
            lo.clone(),
        ),
        script(
            "WebSocket ws://",
            format!("new WebSocket('ws://127.0.0.1:{pf}/ws'); 1"),
            lo.clone(),
        ),
        script(
            "WebSocket wss://",
            format!("new WebSocket('wss://127.0.0.1:{pf}/ws'); 1"),
            lo.clone(),
        ),
        script(
            "img to metadata",
            t("let i = new Image(); i.src = 'http://169.254.169.254/x.png'; 1"),
            t("169.254.169.254:80"),
        ),
    ]
}

/// Waits up to `wait` for a blocked event whose target contains `want`.
async fn blocked_event(
    rx: &mut broadcast::Receiver<EgressEvent>,
    want: &str,
    wait: Duration,
) -> Option<EgressEvent> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(ev)) if ev.verdict == Verdict::Blocked && ev.target.contains(want) => {
                return Some(ev)
            }
            Ok(Ok(_)) => continue,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            _ => return None,
        }
    }
}

async fn run(page: &Page, site: &str, action: &Action) {
    match action {
        Action::Goto(url) => {
            let _ = tokio::time::timeout(Duration::from_secs(10), page.goto(url.as_str())).await;
        }
        Action::Script(js) => {
            let _ = tokio::time::timeout(Duration::from_secs(10), page.goto(site)).await;
            let params = EvaluateParams::builder()
                .expression(js.as_str())
                .user_gesture(true)
                .build()
                .unwrap();
            let r = page.evaluate(params).await;
            assert!(r.is_ok(), "script failed: {js}: {r:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_matrix_through_real_chromium() {
    let site_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pa = site_listener.local_addr().unwrap().port();
    tokio::spawn(allowed_site(site_listener));
    let site = format!("http://127.0.0.1:{pa}");

    // The forbidden port, on every loopback form we can bind.
    let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pf = probe.local_addr().unwrap().port();
    drop(probe);
    let hits = Arc::new(AtomicUsize::new(0));
    let addrs: Vec<SocketAddr> = ["127.0.0.1", "127.0.0.2", "::1"]
        .iter()
        .map(|ip| SocketAddr::new(ip.parse::<IpAddr>().unwrap(), pf))
        .collect();
    assert!(forbidden_listener(&addrs, hits.clone()).await >= 2);

    // The forbidden port is a permitted port: only the address ranges stop it.
    let config: EgressConfig = toml::from_str(&format!(
        r#"
        allow = ["127.0.0.1:{pa}"]
        ports = [80, 443, {pf}]
        resolve = {{ "internal.test" = ["127.0.0.1"] }}
        [limits]
        connect_timeout_ms = 2000
        "#
    ))
    .unwrap();
    let policy = Arc::new(EgressPolicy::new(config).unwrap());
    let (proxy, mut rx) =
        EgressProxy::start(policy, Arc::new(SystemResolver), PeerFilter::anyone())
            .await
            .unwrap();

    let (browser, handler) = launch().await;
    let page = common::proxied_blank_page(&browser, &proxy).await;

    // The allowed site works, through the proxy.
    page.goto(site.as_str()).await.expect("allowed site loads");
    let title = page
        .evaluate("document.title")
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    assert_eq!(title, "allowed");
    let fetched = page
        .evaluate(format!("fetch('{site}/again').then(r => r.text())").as_str())
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    assert!(fetched.contains("ok"));
    let mut saw_allowed = false;
    while let Ok(ev) = rx.try_recv() {
        saw_allowed |= ev.verdict == Verdict::Allowed && ev.target == format!("127.0.0.1:{pa}");
    }
    assert!(saw_allowed, "the allowed site did not go through the proxy");

    let matrix = cases(&site, pf);
    assert!(matrix.len() >= 30);
    let mut failures = Vec::new();
    for case in &matrix {
        while rx.try_recv().is_ok() {}
        let before = hits.load(Ordering::SeqCst);
        run(&page, &site, &case.action).await;
        let mut ev = blocked_event(&mut rx, &case.target, Duration::from_secs(8)).await;
        // Under heavy load a navigation can be abandoned by its timeout before
        // Chromium reaches the proxy (seen for `a.localhost` during full `make
        // test` runs, never alone); try the case up to twice more, from a blank
        // page, waiting longer for the event (a navigation the page gave up on
        // still reaches the proxy, late: seen in a full run where three 8 s
        // waits missed it). The bar is unchanged: a blocked event, and no
        // connection to the forbidden listener on any attempt.
        for attempt in 1..=2 {
            if ev.is_some() {
                break;
            }
            eprintln!("RETRY {:<27} no event on attempt {attempt}", case.name);
            let _ = tokio::time::timeout(Duration::from_secs(10), page.goto("about:blank")).await;
            while rx.try_recv().is_ok() {}
            run(&page, &site, &case.action).await;
            ev = blocked_event(&mut rx, &case.target, Duration::from_secs(25)).await;
        }
        let leaked = hits.load(Ordering::SeqCst) - before;
        // `*.localhost` names are loopback to Chromium itself (RFC 6761): in
        // some full runs it failed the navigation to `a.localhost` before
        // asking the proxy, three times in a row, without ever reaching the
        // forbidden listener. For those names the bar is that nothing was
        // reached; every other case must also show the proxy's refusal.
        let chromium_refused = ev.is_none() && leaked == 0 && case.name == "sub.localhost";
        if chromium_refused {
            eprintln!(
                "ok   {:<28} refused by Chromium itself, nothing reached",
                case.name
            );
        }
        match &ev {
            Some(ev) => eprintln!("ok   {:<28} {} -> {}", case.name, ev.target, ev.reason),
            None => eprintln!(
                "MISS {:<28} no blocked event for `{}`",
                case.name, case.target
            ),
        }
        if (ev.is_none() && !chromium_refused) || leaked > 0 {
            failures.push(format!(
                "{}: event {:?}, forbidden hits {leaked}",
                case.name,
                ev.map(|e| e.target)
            ));
        }
    }
    // A blocked plain-HTTP navigation shows the block page.
    let _ = page.goto(format!("http://127.0.0.1:{pf}/").as_str()).await;
    let text = page
        .evaluate("document.body ? document.body.innerText : ''")
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    assert!(text.contains("Blocked by isolator"), "block page: {text}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the forbidden listener was reached"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        matrix.len(),
        failures.join("\n")
    );

    // And the allowed site still works afterwards.
    page.goto(site.as_str())
        .await
        .expect("allowed site loads again");
    drop(page);
    let mut browser = browser;
    let _ = browser.close().await;
    let _ = browser.wait().await;
    handler.abort();
    proxy.shutdown(Duration::from_secs(2)).await;
}
