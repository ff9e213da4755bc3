//! Helpers shared by the egress tests.

use chromiumoxide::cdp::browser_protocol::target::CreateTargetParams;
use chromiumoxide::{Browser, Page};
use isolator::egress::{browser_context_params, EgressProxy};

/// A blank page in a new BrowserContext whose traffic goes through `proxy`,
/// as a session's pages are set up.
pub async fn proxied_blank_page(browser: &Browser, proxy: &EgressProxy) -> Page {
    let ctx = browser
        .execute(browser_context_params(&proxy.proxy_server()))
        .await
        .expect("createBrowserContext with proxyServer")
        .result
        .browser_context_id;
    browser
        .new_page(
            CreateTargetParams::builder()
                .url("about:blank")
                .browser_context_id(ctx)
                .build()
                .unwrap(),
        )
        .await
        .expect("page in the proxied context")
}
