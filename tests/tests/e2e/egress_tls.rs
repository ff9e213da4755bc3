//! `https://` and `wss://` are scanned like plain HTTP (issue 17): the
//! egress proxy ends the isolated browser's TLS with a certificate only that
//! browser trusts, verifies the site's own certificate, and judges every
//! request line, body and WebSocket frame in between. The site here is the
//! egress test site behind a real TLS front (rustls, its own test
//! authority). Judged by what the site received, not by what the isolator
//! says, and each case has a clean or allowed control that must arrive.

use isolator_e2e::site_tls::TlsFront;
use isolator_e2e::TestSite;

use crate::egress_scan::{post, send_by, setup_on, setup_with, type_address, websocket, CARD, T};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_urls_bodies_and_wss_frames_with_a_card_never_arrive_and_clean_ones_do() {
    let s = setup_with(true).await;
    assert!(s.origin.starts_with("https://"), "{}", s.origin);
    assert_eq!(s.run("return location.protocol;").await, "https:");
    let card = CARD.replace(' ', "%20");
    // The query string, by several page APIs.
    for how in [
        "fetch",
        "image",
        "form-get",
        "worker",
        "beacon",
        "service-worker",
    ] {
        let blocked = format!("tls-url-{how}-card");
        let got = s
            .run(&send_by(how, &format!("/eg/sink?case={blocked}&cc={card}")))
            .await;
        let clean = format!("tls-url-{how}-clean");
        s.run(&send_by(how, &format!("/eg/sink?case={clean}&cc=hello")))
            .await;
        s.wait_arrived(&clean).await;
        assert!(s.arrived(&blocked).is_empty(), "{how}: {got}");
        let open = format!("tls-url-{how}-open");
        s.run(&send_by(
            how,
            &format!("/eg/open/sink?case={open}&cc={card}"),
        ))
        .await;
        let got = s.wait_arrived(&open).await;
        assert!(got[0].uri.contains("4111"), "{got:?}");
    }
    // Bodies, plain and encoded.
    let card_json = format!("JSON.stringify({{card: '{CARD}'}})");
    let clean_json = "JSON.stringify({card: 'hello world'})";
    for (name, body, headers) in [
        ("plain", "text", "'Content-Type': 'application/json'"),
        ("base64", "b64(text)", "'Content-Type': 'text/plain'"),
        (
            "gzip",
            "squeeze(text, 'gzip')",
            "'Content-Type': 'application/json', 'Content-Encoding': 'gzip'",
        ),
    ] {
        let case = format!("tls-body-{name}-card");
        let got = s
            .run(&post("/eg/sink", &case, &card_json, body, headers))
            .await;
        assert_ne!(got, "200", "{name}");
        let clean = format!("tls-body-{name}-clean");
        let got = s
            .run(&post("/eg/sink", &clean, clean_json, body, headers))
            .await;
        assert_eq!(got, "200", "{name}");
        assert_eq!(s.arrived(&clean).len(), 1, "{name}");
        assert!(s.arrived(&case).is_empty(), "{name}");
    }
    // WebSocket frames over wss.
    let card_msg = format!("'card {CARD}'");
    let got = s
        .run(&websocket("/eg/ws", "tls-ws-card", &["'hello'", &card_msg]))
        .await;
    assert_eq!(got, "closed", "the socket is closed at the card");
    assert!(s.arrived("tls-ws-card").is_empty());
    let got = s
        .run(&websocket("/eg/ws", "tls-ws-clean", &["'hello over wss'"]))
        .await;
    assert_eq!(got, "sent");
    s.wait_arrived("tls-ws-clean").await;
    // A 12 MB body with the card at its very end, and the same without it.
    let (got, _) = s.big("tls-big-card", 12, &format!(" card {CARD}")).await;
    assert_ne!(got, "200");
    assert!(s.arrived("tls-big-card").is_empty());
    let (got, took) = s.big("tls-big-clean", 12, " nothing").await;
    assert_eq!(got, "200");
    let arrived = s.arrived("tls-big-clean");
    assert_eq!(arrived.len(), 1);
    assert_eq!(
        arrived[0].body,
        format!("{} bytes, card false", 12 * 1024 * 1024 + 8)
    );
    eprintln!("12 MB over https, scanned: {took:?}");
    s.no_card_anywhere_but_open();
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_whose_certificate_is_not_trusted_shows_why_and_receives_nothing() {
    let site = TestSite::start().await;
    // The same site behind a front whose authority nobody trusts.
    let untrusted = TlsFront::start(site.addr).await;
    let port = untrusted.addr.port();
    let s = setup_on(site, true, |c| {
        c.egress.allow.push(format!("127.0.0.1:{port}"));
    })
    .await;
    type_address(&s.client, &untrusted.url("/eg/sink?case=tls-untrusted")).await;
    s.client
        .wait_state("the certificate page", T, |st| {
            st["title"] == "Certificate not trusted"
        })
        .await;
    let text = s
        .run_at(&untrusted.url("/eg/"), "return document.body.innerText;")
        .await;
    let text = text.as_str().unwrap_or_default();
    assert!(
        text.contains("authority the isolator does not trust"),
        "{text}"
    );
    assert!(s.arrived("tls-untrusted").is_empty());
    s.client.close().await;
}
