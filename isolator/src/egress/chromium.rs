//! Chromium settings that keep the isolated browser's traffic in the egress
//! proxy and off the network.

use chromiumoxide::cdp::browser_protocol::target::CreateBrowserContextParams;

/// The `proxyBypassList` for every session context. Chromium never sends
/// `localhost`, `*.localhost`, `127.0.0.1/8` and `[::1]` to a proxy unless
/// the bypass list contains `<-loopback>`; with it, loopback goes through
/// the proxy like everything else, where the policy blocks it. Nothing is
/// bypassed.
pub const PROXY_BYPASS_LIST: &str = "<-loopback>";

/// `Target.createBrowserContext` parameters for a session whose egress proxy
/// is `proxy_server` (from [`super::EgressProxy::proxy_server`]).
pub fn browser_context_params(proxy_server: &str) -> CreateBrowserContextParams {
    CreateBrowserContextParams::builder()
        .dispose_on_detach(true)
        .proxy_server(proxy_server)
        .proxy_bypass_list(PROXY_BYPASS_LIST)
        .build()
}

/// Process-wide Chromium switches (without the leading `--`, the way
/// chromiumoxide's `.arg()` wants them) that keep traffic in the per-context
/// proxies. Feature toggles are not here: Chromium honours only the last
/// `--disable-features`, so merge [`chromium_disabled_features`] into the one
/// list the launcher passes.
pub fn chromium_hardening_args() -> Vec<String> {
    [
        // No process-wide `proxy-server`: Chromium lets the command-line
        // proxy override every context's `proxyServer` (measured: a dead
        // proxy here makes session contexts fail with
        // ERR_PROXY_CONNECTION_FAILED). The default context must therefore
        // never be used for browsing; it has no proxy.
        // Chromium resolves nothing itself: a proxied request carries the
        // name to the proxy. Should any path bypass the proxy, its lookup
        // fails instead of leaking the name or reaching an internal address.
        "host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_owned(),
        // QUIC is UDP, which an HTTP proxy cannot carry.
        "disable-quic".to_owned(),
        // WebRTC may only use UDP through a proxy, i.e. never: no direct UDP
        // to internal hosts via STUN/TURN/ICE, no local IP disclosure.
        "webrtc-ip-handling-policy=disable_non_proxied_udp".to_owned(),
        // No update checks, variations, safe-browsing list fetches or other
        // traffic the user did not cause.
        "disable-background-networking".to_owned(),
        "disable-component-update".to_owned(),
        "disable-domain-reliability".to_owned(),
        "disable-sync".to_owned(),
        "disable-default-apps".to_owned(),
        "disable-field-trial-config".to_owned(),
        "no-default-browser-check".to_owned(),
        "no-first-run".to_owned(),
        "disable-breakpad".to_owned(),
        "metrics-recording-only".to_owned(),
        // No hyperlink-auditing pings (`<a ping>`) to third parties.
        "no-pings".to_owned(),
    ]
    .into()
}

/// Features to add to the launcher's single `--disable-features` list.
pub fn chromium_disabled_features() -> Vec<&'static str> {
    vec![
        // Cast discovery: mDNS and SSDP multicast on the local network.
        "MediaRouter",
        "DialMediaRouteProvider",
        // Background calls to Google services.
        "OptimizationHints",
        "Translate",
        "AutofillServerCommunication",
        "CertificateTransparencyComponentUpdater",
        "InterestFeedContentSuggestions",
    ]
}
