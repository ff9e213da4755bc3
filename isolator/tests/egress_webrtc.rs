//! WebRTC cannot send UDP around the egress proxy: with
//! `webrtc-ip-handling-policy=disable_non_proxied_udp` (from
//! `chromium_hardening_args`), ICE gathering against a STUN server on a
//! local UDP socket sends nothing; the same page in a Chromium without the
//! flag does reach it (the control that shows the test can fail).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chromiumoxide::{Browser, BrowserConfig};
use futures::StreamExt;
use isolator::egress::{
    chromium_hardening_args, EgressPolicy, EgressProxy, PeerFilter, SystemResolver,
};
use tokio::net::UdpSocket;

async fn udp_packets_from_stun_page(hardened: bool) -> usize {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let counter = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while sock.recv_from(&mut buf).await.is_ok() {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut builder = BrowserConfig::builder()
        .chrome_executable("/usr/lib/chromium/chromium")
        .no_sandbox()
        .arg("disable-gpu");
    if hardened {
        for a in chromium_hardening_args() {
            builder = builder.arg(a);
        }
    }
    let (mut browser, mut handler) = Browser::launch(builder.build().unwrap()).await.unwrap();
    let h = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let (proxy, _rx) = EgressProxy::start(
        Arc::new(EgressPolicy::default()),
        Arc::new(SystemResolver),
        PeerFilter::anyone(),
    )
    .await
    .unwrap();
    let page = common::proxied_blank_page(&browser, &proxy).await;
    let js = format!(
        "(async () => {{ const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{port}'}}]}});
           pc.createDataChannel('x'); await pc.setLocalDescription(await pc.createOffer());
           await new Promise(r => setTimeout(r, 3000)); return pc.iceGatheringState; }})()"
    );
    page.evaluate(js.as_str()).await.unwrap();
    let n = count.load(Ordering::SeqCst);
    let _ = browser.close().await;
    let _ = browser.wait().await;
    h.abort();
    counter.abort();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webrtc_sends_no_udp_around_the_proxy() {
    let control = udp_packets_from_stun_page(false).await;
    let hardened = udp_packets_from_stun_page(true).await;
    eprintln!("STUN packets: control {control}, hardened {hardened}");
    assert!(
        control > 0,
        "control: Chromium without the flag sent no STUN packet, the test proves nothing"
    );
    assert_eq!(hardened, 0, "WebRTC sent UDP around the proxy");
}
