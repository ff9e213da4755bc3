//! The session's tabs: the main page and its popups, which one is shown,
//! and what the client and the live listing know of them. Popups come from
//! browser-wide target events of this session's context ([`watch_targets`]);
//! a session holds at most `sessions.max_tabs`.

use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::target::{
    CloseTargetParams, EventTargetCrashed, EventTargetCreated, EventTargetDestroyed,
    EventTargetInfoChanged, TargetId,
};
use chromiumoxide::Page;
use futures::StreamExt;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::tab_set::Closed;
use super::Actor;
use crate::browser::{BrowserError, Running};
use crate::protocol::{EndReason, NoticeLevel, ServerMsg, TabInfo};
use crate::session::tab::{self, with_timeout, Tab, TabEvent};

impl Actor {
    pub(super) fn tab(&self, id: u16) -> Option<&Tab> {
        self.tabs.get(id)
    }

    pub(super) fn tab_mut(&mut self, id: u16) -> Option<&mut Tab> {
        self.tabs.get_mut(id)
    }

    pub(super) fn active_tab(&self) -> Option<&Tab> {
        self.tabs.get(self.tabs.active())
    }

    /// Page-controlled texts the client draws itself (URL and title, a
    /// dialog's message and default) for the page at `url`, masked as its
    /// rule masks the page: one decision for both.
    pub(super) fn drawn(&self, url: &str, texts: [&str; 2]) -> [String; 2] {
        let d = crate::gates::page::decision(&self.enforcer, &self.handle.user, url);
        texts.map(|t| crate::gates::page::scan::mask_drawn_text(&d, t))
    }

    pub(super) fn send_state(&self) {
        if let Some(tab) = self.active_tab() {
            let [url, title] = self.drawn(&tab.url, [&tab.url, &tab.title]);
            self.send(ServerMsg::State {
                tab: tab.id,
                url,
                title,
                loading: tab.loading,
                can_back: tab.can_back,
                can_forward: tab.can_forward,
            });
        }
    }

    pub(super) fn send_tabs(&self) {
        self.send(ServerMsg::Tabs {
            tabs: self
                .tabs
                .iter()
                .map(|t| {
                    let [url, title] = self.drawn(&t.url, [&t.url, &t.title]);
                    TabInfo {
                        id: t.id,
                        url,
                        title,
                    }
                })
                .collect(),
            active: self.tabs.active(),
        });
    }

    pub(super) fn update_live(&self) {
        let mut live = self.handle.live.lock().expect("live lock");
        if let Some(tab) = self.active_tab() {
            live.url = tab.url.clone();
            live.title = tab.title.clone();
        }
        live.tabs = self.tabs.len();
        live.attached = self.attachment.is_some();
    }

    pub(super) async fn switch_tab(&mut self, id: u16) {
        if id == self.tabs.active() || self.tab(id).is_none() {
            return;
        }
        self.cancel_drag().await;
        let timeout = self.timeout;
        if let Some(t) = self.tab_mut(self.tabs.active()) {
            t.stop_screencast(timeout).await;
        }
        self.tabs.show(id);
        if let Some(t) = self.tab(id) {
            let _ = tab::set_viewport(&t.page, self.viewport, timeout).await;
        }
        self.send_first = true;
        if self.attachment.is_some() {
            self.start_cast().await;
        }
        self.send_tabs();
        self.send_state();
        self.update_live();
    }

    pub(super) fn after_tab_change(&self, tab_id: u16) {
        self.record_tab(tab_id);
        self.send_tabs();
        if tab_id == self.tabs.active() {
            self.send_state();
        }
        self.update_live();
    }

    pub(super) async fn on_target_event(&mut self, ev: TargetEvent) {
        match ev {
            TargetEvent::Created { target_id, url } => {
                if self.tabs.iter().any(|t| t.target_id == target_id) {
                    return;
                }
                if self.tabs.len() >= self.config.sessions.max_tabs {
                    let _ = with_timeout(
                        self.timeout,
                        self.running
                            .browser
                            .execute(CloseTargetParams::new(target_id)),
                    )
                    .await;
                    self.notice(
                        NoticeLevel::Warn,
                        "too_many_tabs",
                        format!(
                            "A page tried to open more than {} tabs; the new one was closed.",
                            self.config.sessions.max_tabs
                        ),
                    );
                    return;
                }
                debug!(%url, "popup opened");
                // chromiumoxide attaches to new targets on its own; wait for the page handle.
                let running = self.running.clone();
                let tx = self.popups_tx.clone();
                tokio::spawn(async move {
                    for _ in 0..60 {
                        if let Ok(page) = running.browser.get_page(target_id.clone()).await {
                            let _ = tx.send(Ok(page)).await;
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    let _ = tx
                        .send(Err(format!("popup {target_id:?} never attached")))
                        .await;
                });
            }
            TargetEvent::Changed {
                target_id,
                url,
                title,
            } => {
                let Some(t) = self.tabs.iter_mut().find(|t| t.target_id == target_id) else {
                    return;
                };
                // Target info names a page by its URL until <title> is parsed; the
                // page script's report wins for the current document.
                let title = if t.title_from_page {
                    t.title.clone()
                } else {
                    title
                };
                let changed = t.title != title || (!url.is_empty() && t.url != url);
                t.title = title;
                if !url.is_empty() {
                    t.url = url;
                }
                let id = t.id;
                if changed {
                    self.after_tab_change(id);
                }
            }
            TargetEvent::Destroyed(target_id) => {
                if let Some(id) = self
                    .tabs
                    .iter()
                    .find(|t| t.target_id == target_id)
                    .map(|t| t.id)
                {
                    // `Gone` from the tab's own streams may come too; removal is idempotent.
                    let _ = self.events_tx.try_send((id, TabEvent::Gone));
                }
            }
            TargetEvent::Crashed {
                target_id,
                status,
                error_code,
            } => {
                if let Some(id) = self
                    .tabs
                    .iter()
                    .find(|t| t.target_id == target_id)
                    .map(|t| t.id)
                {
                    self.on_renderer_crashed(id, &status, error_code).await;
                }
            }
        }
    }

    pub(super) async fn on_popup(&mut self, popup: Result<Page, String>) {
        let page = match popup {
            Ok(p) => p,
            Err(e) => {
                warn!("{e}");
                return;
            }
        };
        if self.tabs.iter().any(|t| t.target_id == *page.target_id()) {
            return;
        }
        let id = self.tabs.next_id();
        match Tab::open(
            id,
            page,
            self.viewport,
            self.events_tx.clone(),
            self.timeout,
        )
        .await
        {
            Ok(mut t) => {
                t.url = t.page.url().await.ok().flatten().unwrap_or_default();
                self.tabs.push(t);
                self.watch_page_content(id).await;
                self.watch_files(id).await;
                info!(tab = id, "popup opened as a tab");
                self.switch_tab(id).await;
            }
            Err(e) => warn!("popup could not be set up: {e}"),
        }
    }

    pub(super) async fn remove_tab(&mut self, id: u16) -> Option<EndReason> {
        let closed = self.tabs.close(id);
        if closed == Closed::Unknown {
            return None;
        }
        debug!(tab = id, "tab closed");
        self.keyboard.tab_closed(id);
        let dialogs: Vec<u64> = self
            .dialogs
            .iter()
            .filter(|(_, (t, _))| *t == id)
            .map(|(d, _)| *d)
            .collect();
        for d in dialogs {
            self.dialogs.remove(&d);
            self.send(ServerMsg::DialogClosed { id: d });
        }
        match closed {
            Closed::Last => return Some(EndReason::Closed),
            Closed::ShowNext(next) => self.switch_tab(next).await,
            Closed::Other | Closed::Unknown => {
                self.send_tabs();
                self.update_live();
            }
        }
        None
    }
}

/// Browser-wide target events concerning this session's context.
pub(super) enum TargetEvent {
    Created {
        target_id: TargetId,
        url: String,
    },
    Changed {
        target_id: TargetId,
        url: String,
        title: String,
    },
    Destroyed(TargetId),
    /// A target's renderer process ended abnormally (crash, killed, out of memory).
    Crashed {
        target_id: TargetId,
        status: String,
        error_code: i64,
    },
}

/// Subscribes to browser-wide target events and forwards those of one context.
pub(super) async fn watch_targets(
    running: &Running,
    context: BrowserContextId,
    tx: mpsc::Sender<TargetEvent>,
) -> Result<tokio::task::JoinHandle<()>, BrowserError> {
    let created = running
        .browser
        .event_listener::<EventTargetCreated>()
        .await?;
    let changed = running
        .browser
        .event_listener::<EventTargetInfoChanged>()
        .await?;
    let destroyed = running
        .browser
        .event_listener::<EventTargetDestroyed>()
        .await?;
    let crashed = running
        .browser
        .event_listener::<EventTargetCrashed>()
        .await?;
    let ctx = context.clone();
    let created = created.filter_map(move |ev| {
        let ctx = ctx.clone();
        async move {
            let info = &ev.target_info;
            (info.r#type == "page" && info.browser_context_id.as_ref() == Some(&ctx)).then(|| {
                TargetEvent::Created {
                    target_id: info.target_id.clone(),
                    url: info.url.clone(),
                }
            })
        }
    });
    let ctx = context;
    let changed = changed.filter_map(move |ev| {
        let ctx = ctx.clone();
        async move {
            let info = &ev.target_info;
            (info.r#type == "page" && info.browser_context_id.as_ref() == Some(&ctx)).then(|| {
                TargetEvent::Changed {
                    target_id: info.target_id.clone(),
                    url: info.url.clone(),
                    title: info.title.clone(),
                }
            })
        }
    });
    let destroyed = destroyed.map(|ev| TargetEvent::Destroyed(ev.target_id.clone()));
    let crashed = crashed.map(|ev| TargetEvent::Crashed {
        target_id: ev.target_id.clone(),
        status: ev.status.clone(),
        error_code: ev.error_code,
    });
    let mut all = futures::stream::select_all([
        created.boxed(),
        changed.boxed(),
        destroyed.boxed(),
        crashed.boxed(),
    ]);
    Ok(tokio::spawn(async move {
        while let Some(ev) = all.next().await {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }))
}

impl Actor {
    /// Installs the page-content gate in a tab.
    pub(super) async fn watch_page_content(&mut self, tab_id: u16) {
        let Some(tab) = self.tab(tab_id) else { return };
        crate::gates::page::install(
            tab.page.clone(),
            self.enforcer.clone(),
            self.handle.user.clone(),
            self.gate_tx.clone(),
            self.timeout,
        )
        .await;
    }
}
