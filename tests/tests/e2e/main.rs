//! End-to-end tests: a real headless Chromium (the "user's browser") opens the
//! web client, which drives the isolated Chromium on the server against a test
//! site on 127.0.0.1. One test binary; modules by area.

mod admin;
mod browsing;
mod client_copy;
mod clipboard;
mod drag;
mod editors;
mod egress_scan;
mod egress_tls;
mod example_policy;
mod faults;
mod fingerprints;
mod gatesfile;
mod gatesnet;
mod health;
mod http_boundary;
mod imagepaste;
mod keyboard_leaks;
mod labels;
mod limits;
mod local_user;
mod login;
mod memory;
mod pagecontent;
mod pagecontent_tricks;
mod polyglot;
mod recording;
mod resilience;
mod rest;
mod screen_net;
mod security;

use isolator_e2e::{Client, Isolator, TestSite};

/// The web client URL that starts a session at `target`.
pub fn start_url(iso: &Isolator, target: &str) -> String {
    let enc: String = url_encode(target);
    iso.url(&format!("/?url={enc}"))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Starts a site, an isolator and a client at `path` of the site.
pub async fn setup(path: &str) -> (TestSite, Isolator, Client) {
    let site = TestSite::start().await;
    let iso = Isolator::for_site(&site).await;
    let client = Client::open(&start_url(&iso, &site.url(path))).await;
    (site, iso, client)
}
