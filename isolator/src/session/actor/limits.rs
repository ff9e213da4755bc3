//! Per-session limits on what a page may make the browser do: how fast it
//! may load pages, and how long it may keep its renderer busy.
//!
//! A busy renderer is found by probing each tab every few seconds with a
//! trivial evaluation: a page whose main thread is stuck in a script cannot
//! answer. After a third of `sessions.busy_page_kill_secs` the user is told;
//! at the limit the renderer is crashed (`Page.crash` works on a stuck page,
//! from the IO thread) and the tab is sent to a blank page. Each session's
//! BrowserContext has its own renderer processes, so nothing else stops.
//!
//! A renderer that ends on its own (it crashed, or the kernel stopped it when
//! Chromium's cgroup reached `chromium.memory_limit_mb`: see
//! [`crate::browser::cgroup`]) is reported to this session only, through the
//! browser-wide `Target.targetCrashed` event of its tab. "Out of memory" is
//! said when Chromium reports it (`oom`) or when the browser's cgroup counted
//! a new OOM kill since the session last looked; the tab then gets a blank
//! page and a fresh renderer.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::page::{CrashParams, NavigateParams, StopLoadingParams};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use tracing::{info, warn};

use super::Actor;
use crate::protocol::NoticeLevel;
use crate::session::tab::{with_timeout, TabEvent};

/// How often each tab is probed.
const PROBE_EVERY: Duration = Duration::from_secs(3);
/// How long a probe may take before the page counts as busy.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Per-session state of the limits.
#[derive(Default)]
pub(super) struct LimitState {
    navigations: VecDeque<Instant>,
    nav_notice_at: Option<Instant>,
    probes: HashMap<u16, Probe>,
    /// Tabs whose renderer this module crashed on purpose (no second notice).
    crashing: HashSet<u16>,
    /// The browser cgroup's OOM kill count when this session last looked.
    oom_kills_seen: Option<u64>,
}

#[derive(Default)]
struct Probe {
    last_sent: Option<Instant>,
    in_flight: bool,
    busy_since: Option<Instant>,
    warned: bool,
}

impl Actor {
    /// Counts a page load; past the per-minute limit, loading stops.
    pub(super) async fn limit_navigation(&mut self, tab_id: u16) {
        let now = Instant::now();
        let window = Duration::from_secs(60);
        let navs = &mut self.limits.navigations;
        while navs
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            navs.pop_front();
        }
        navs.push_back(now);
        let max = self.config.sessions.max_navigations_per_minute as usize;
        if navs.len() <= max {
            return;
        }
        if let Some(t) = self.tab(tab_id) {
            let _ = with_timeout(self.timeout, t.page.execute(StopLoadingParams::default())).await;
        }
        if self
            .limits
            .nav_notice_at
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(10))
        {
            self.limits.nav_notice_at = Some(now);
            warn!(
                tab = tab_id,
                max, "navigation rate limit reached; loading stopped"
            );
            self.notice(
                NoticeLevel::Warn,
                "navigation_limit",
                format!(
                    "This page kept reloading or redirecting ({max} page loads in a minute), so loading was stopped. Wait a moment before going on."
                ),
            );
        }
    }

    /// Probes every tab that is due (called from the actor's one-second tick).
    pub(super) fn probe_pages(&mut self) {
        let now = Instant::now();
        for tab in self.tabs.iter() {
            let probe = self.limits.probes.entry(tab.id).or_default();
            // A page showing a dialog or a file chooser waits for the user,
            // not in a script.
            let chooser_open = self
                .files
                .as_ref()
                .is_some_and(|f| f.choosers.values().any(|c| c.tab == tab.id));
            if chooser_open || self.dialogs.values().any(|(t, _)| *t == tab.id) {
                probe.busy_since = None;
                probe.warned = false;
                continue;
            }
            if probe.in_flight
                || probe
                    .last_sent
                    .is_some_and(|t| now.duration_since(t) < PROBE_EVERY)
            {
                continue;
            }
            probe.in_flight = true;
            probe.last_sent = Some(now);
            let page = tab.page.clone();
            let events = self.events_tx.clone();
            let id = tab.id;
            tokio::spawn(async move {
                // A raw Runtime.evaluate: answered by the renderer's main thread,
                // with no wait for an execution context on our side.
                let answered = !matches!(
                    with_timeout(PROBE_TIMEOUT, page.execute(EvaluateParams::new("1"))).await,
                    Err(chromiumoxide::error::CdpError::Timeout)
                );
                let _ = events.send((id, TabEvent::Responsive(answered))).await;
            });
        }
        self.limits
            .probes
            .retain(|id, _| self.tabs.iter().any(|t| t.id == *id));
    }

    /// A probe's answer.
    pub(super) async fn on_probe(&mut self, tab_id: u16, answered: bool) {
        let now = Instant::now();
        let kill_after = Duration::from_secs(self.config.sessions.busy_page_kill_secs);
        let Some(probe) = self.limits.probes.get_mut(&tab_id) else {
            return;
        };
        probe.in_flight = false;
        if answered {
            if probe.busy_since.take().is_some() {
                info!(tab = tab_id, "page responsive again");
            }
            probe.warned = false;
            return;
        }
        let since = *probe.busy_since.get_or_insert(now - PROBE_TIMEOUT);
        let busy = now.duration_since(since);
        if busy >= kill_after {
            probe.busy_since = None;
            probe.warned = false;
            self.stop_busy_page(tab_id, busy).await;
        } else if busy >= kill_after / 3 && !probe.warned {
            probe.warned = true;
            warn!(tab = tab_id, secs = busy.as_secs(), "page not responding");
            self.notice(
                NoticeLevel::Warn,
                "page_busy",
                format!(
                    "This page is not responding (a script keeps it busy). It will be stopped in {} s unless it recovers.",
                    (kill_after - busy).as_secs().max(1)
                ),
            );
        }
    }

    async fn stop_busy_page(&mut self, tab_id: u16, busy: Duration) {
        let Some(t) = self.tab(tab_id) else { return };
        let page = t.page.clone();
        warn!(tab = tab_id, secs = busy.as_secs(), url = %crate::enforce::redact_url(&t.url), "stopping a page that kept its renderer busy");
        self.limits.crashing.insert(tab_id);
        if let Err(e) = with_timeout(self.timeout, page.execute(CrashParams::default())).await {
            // The renderer may already be gone; the navigation below replaces it anyway.
            info!("crashing the busy renderer: {e}");
        }
        // A fresh document gets a fresh renderer.
        let _ = with_timeout(
            self.timeout,
            page.execute(NavigateParams::new("about:blank")),
        )
        .await;
        self.notice(
            NoticeLevel::Block,
            "page_stopped",
            format!(
                "The page kept the browser busy for {} s and was stopped. Other tabs and sessions were not affected.",
                busy.as_secs()
            ),
        );
    }
}

impl Actor {
    /// Remembers the browser's OOM kill count, so that a later crash can tell
    /// whether the kernel stopped a renderer for memory since.
    pub(super) fn note_oom_kills(&mut self) {
        self.limits.oom_kills_seen = Some(self.running.oom_kills());
    }

    /// A tab's renderer ended abnormally (`Target.targetCrashed`).
    pub(super) async fn on_renderer_crashed(&mut self, tab_id: u16, status: &str, error_code: i64) {
        if self.limits.crashing.remove(&tab_id) {
            // Stopped by `stop_busy_page`, which told the user already.
            return;
        }
        let kills = self.running.oom_kills();
        let seen = self.limits.oom_kills_seen.replace(kills).unwrap_or(0);
        let out_of_memory = status == "oom" || kills > seen;
        let Some(t) = self.tab(tab_id) else { return };
        let page = t.page.clone();
        warn!(
            tab = tab_id,
            status,
            error_code,
            out_of_memory,
            cgroup_oom_kills = kills,
            url = %crate::enforce::redact_url(&t.url),
            "a page's renderer ended abnormally"
        );
        let message = if out_of_memory {
            "This page used too much memory and was stopped. Other tabs and sessions were not affected."
                .to_owned()
        } else {
            format!(
                "This page crashed ({status}) and was stopped. Other tabs and sessions were not affected."
            )
        };
        self.notice(
            NoticeLevel::Block,
            if out_of_memory {
                "page_out_of_memory"
            } else {
                "page_crashed"
            },
            message,
        );
        // A fresh document gets a fresh renderer; the user can go back or reload.
        let _ = with_timeout(
            self.timeout,
            page.execute(NavigateParams::new("about:blank")),
        )
        .await;
    }
}
