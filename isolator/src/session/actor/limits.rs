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

/// Per-session state of the limits: an owned part that decides; the actor
/// carries out what it says (stop loading, tell the user, crash a renderer).
#[derive(Default)]
pub(super) struct Limits {
    navigations: VecDeque<Instant>,
    nav_notice_at: Option<Instant>,
    probes: HashMap<u16, Probe>,
    /// Tabs whose renderer was crashed on purpose (no second notice).
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

/// What a page load does to the navigation limit.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Navigation {
    /// Within the limit.
    Allowed,
    /// Over it: loading stops; `notify` says to tell the user (at most
    /// once every ten seconds).
    Stop {
        /// Tell the user now.
        notify: bool,
    },
}

/// What a probe's answer means.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Busy {
    /// The page answers, or has not been busy long.
    Fine,
    /// Busy for a third of the limit: tell the user it will be stopped in
    /// `left`.
    Warn {
        /// Time left before it is stopped.
        left: Duration,
    },
    /// Busy for the whole limit: stop it.
    Stop {
        /// How long it was busy.
        busy: Duration,
    },
}

impl Limits {
    /// Counts a page load at `now` against `max` per minute.
    pub fn navigated(&mut self, now: Instant, max: usize) -> Navigation {
        let window = Duration::from_secs(60);
        while self
            .navigations
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            self.navigations.pop_front();
        }
        self.navigations.push_back(now);
        if self.navigations.len() <= max {
            return Navigation::Allowed;
        }
        let notify = self
            .nav_notice_at
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(10));
        if notify {
            self.nav_notice_at = Some(now);
        }
        Navigation::Stop { notify }
    }

    /// The tabs to probe now, of `tabs` (id, and whether the page waits for
    /// the user: a dialog or a file chooser is open, which is not a busy
    /// script). Forgets tabs no longer listed.
    pub fn probes_due(&mut self, now: Instant, tabs: &[(u16, bool)]) -> Vec<u16> {
        let mut due = Vec::new();
        for &(id, waiting) in tabs {
            let probe = self.probes.entry(id).or_default();
            if waiting {
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
            due.push(id);
        }
        self.probes
            .retain(|id, _| tabs.iter().any(|(t, _)| t == id));
        due
    }

    /// A probe of `tab` answered (or not) at `now`; `kill_after` is the
    /// busy limit.
    pub fn probe_answer(
        &mut self,
        tab: u16,
        answered: bool,
        now: Instant,
        kill_after: Duration,
    ) -> Busy {
        let Some(probe) = self.probes.get_mut(&tab) else {
            return Busy::Fine;
        };
        probe.in_flight = false;
        if answered {
            if probe.busy_since.take().is_some() {
                info!(tab, "page responsive again");
            }
            probe.warned = false;
            return Busy::Fine;
        }
        let since = *probe
            .busy_since
            .get_or_insert(now.checked_sub(PROBE_TIMEOUT).unwrap_or(now));
        let busy = now.duration_since(since);
        if busy >= kill_after {
            probe.busy_since = None;
            probe.warned = false;
            self.crashing.insert(tab);
            Busy::Stop { busy }
        } else if busy >= kill_after / 3 && !probe.warned {
            probe.warned = true;
            Busy::Warn {
                left: kill_after - busy,
            }
        } else {
            Busy::Fine
        }
    }

    /// Remembers the browser's OOM kill count.
    pub fn note_oom_kills(&mut self, kills: u64) {
        self.oom_kills_seen = Some(kills);
    }

    /// `tab`'s renderer ended; `Some(out_of_memory)` when the user is to be
    /// told, `None` when it was crashed on purpose (and the user told).
    pub fn crashed(&mut self, tab: u16, status: &str, kills: u64) -> Option<bool> {
        if self.crashing.remove(&tab) {
            return None;
        }
        let seen = self.oom_kills_seen.replace(kills).unwrap_or(0);
        Some(status == "oom" || kills > seen)
    }
}

impl Actor {
    /// Counts a page load; past the per-minute limit, loading stops.
    pub(super) async fn limit_navigation(&mut self, tab_id: u16) {
        let max = self.config.sessions.max_navigations_per_minute as usize;
        let Navigation::Stop { notify } = self.limits.navigated(Instant::now(), max) else {
            return;
        };
        if let Some(t) = self.tab(tab_id) {
            let _ = with_timeout(self.timeout, t.page.execute(StopLoadingParams::default())).await;
        }
        if notify {
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
        let tabs: Vec<(u16, bool)> = self
            .tabs
            .iter()
            .map(|t| {
                let chooser_open = self
                    .files
                    .as_ref()
                    .is_some_and(|f| f.choosers.values().any(|c| c.tab == t.id));
                let dialog_open = self.dialogs.values().any(|(d, _)| *d == t.id);
                (t.id, chooser_open || dialog_open)
            })
            .collect();
        for id in self.limits.probes_due(Instant::now(), &tabs) {
            let Some(tab) = self.tab(id) else { continue };
            let page = tab.page.clone();
            let events = self.events_tx.clone();
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
    }

    /// A probe's answer.
    pub(super) async fn on_probe(&mut self, tab_id: u16, answered: bool) {
        let kill_after = Duration::from_secs(self.config.sessions.busy_page_kill_secs);
        match self
            .limits
            .probe_answer(tab_id, answered, Instant::now(), kill_after)
        {
            Busy::Fine => {}
            Busy::Warn { left } => {
                warn!(tab = tab_id, "page not responding");
                self.notice(
                    NoticeLevel::Warn,
                    "page_busy",
                    format!(
                        "This page is not responding (a script keeps it busy). It will be stopped in {} s unless it recovers.",
                        left.as_secs().max(1)
                    ),
                );
            }
            Busy::Stop { busy } => self.stop_busy_page(tab_id, busy).await,
        }
    }

    async fn stop_busy_page(&mut self, tab_id: u16, busy: Duration) {
        let Some(t) = self.tab(tab_id) else { return };
        let page = t.page.clone();
        warn!(tab = tab_id, secs = busy.as_secs(), url = %crate::enforce::redact_url(&t.url), "stopping a page that kept its renderer busy");
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

    /// Remembers the browser's OOM kill count, so that a later crash can tell
    /// whether the kernel stopped a renderer for memory since.
    pub(super) fn note_oom_kills(&mut self) {
        self.limits.note_oom_kills(self.running.oom_kills());
    }

    /// A tab's renderer ended abnormally (`Target.targetCrashed`).
    pub(super) async fn on_renderer_crashed(&mut self, tab_id: u16, status: &str, error_code: i64) {
        let kills = self.running.oom_kills();
        let Some(out_of_memory) = self.limits.crashed(tab_id, status, kills) else {
            // Stopped by `stop_busy_page`, which told the user already.
            return;
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_loads_past_the_limit_stop_and_tell_once_in_ten_seconds() {
        let mut l = Limits::default();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(
                l.navigated(t0 + Duration::from_millis(i), 3),
                Navigation::Allowed
            );
        }
        assert_eq!(l.navigated(t0, 3), Navigation::Stop { notify: true });
        assert_eq!(l.navigated(t0, 3), Navigation::Stop { notify: false });
        // A minute later the window has emptied.
        assert_eq!(
            l.navigated(t0 + Duration::from_secs(61), 3),
            Navigation::Allowed
        );
    }

    #[test]
    fn a_busy_page_is_warned_then_stopped_and_its_crash_not_reported_twice() {
        let mut l = Limits::default();
        let t0 = Instant::now();
        let kill = Duration::from_secs(30);
        assert_eq!(l.probes_due(t0, &[(1, false), (2, true)]), vec![1]);
        // Not due again while in flight, nor within the probe interval.
        assert!(l
            .probes_due(t0 + Duration::from_secs(1), &[(1, false)])
            .is_empty());
        assert_eq!(
            l.probe_answer(1, false, t0 + Duration::from_secs(2), kill),
            Busy::Fine
        );
        let warned = l.probe_answer(1, false, t0 + Duration::from_secs(12), kill);
        assert!(matches!(warned, Busy::Warn { .. }), "{warned:?}");
        assert_eq!(
            l.probe_answer(1, false, t0 + Duration::from_secs(14), kill),
            Busy::Fine
        );
        let stop = l.probe_answer(1, false, t0 + Duration::from_secs(40), kill);
        assert!(matches!(stop, Busy::Stop { .. }), "{stop:?}");
        // The renderer it crashed on purpose is not reported again...
        assert_eq!(l.crashed(1, "crashed", 0), None);
        // ...but a crash of its own is, and a new OOM kill says memory.
        l.note_oom_kills(4);
        assert_eq!(l.crashed(1, "crashed", 4), Some(false));
        assert_eq!(l.crashed(1, "crashed", 5), Some(true));
        assert_eq!(l.crashed(2, "oom", 5), Some(true));
    }

    #[test]
    fn an_answer_clears_the_busy_state() {
        let mut l = Limits::default();
        let t0 = Instant::now();
        let kill = Duration::from_secs(30);
        l.probes_due(t0, &[(1, false)]);
        l.probe_answer(1, false, t0 + Duration::from_secs(12), kill);
        assert_eq!(
            l.probe_answer(1, true, t0 + Duration::from_secs(13), kill),
            Busy::Fine
        );
        // Busy again later starts from zero.
        assert_eq!(
            l.probe_answer(1, false, t0 + Duration::from_secs(20), kill),
            Busy::Fine
        );
    }
}
