//! The session actor: one task that owns a session's BrowserContext, its tabs
//! and its attached client socket.
//!
//! It reacts to client messages (input, navigation, dialogs, tabs), to tab
//! events (frames, navigations, dialogs, page-script reports), to browser-wide
//! target events (popups, titles), to the browser process dying, and to
//! timers (idle timeout, reconnect grace). Frames are paced by acknowledging
//! Chromium no faster than `stream.max_fps`; the client side keeps only the
//! newest frame, so a slow client never builds a queue.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::page::{
    GetNavigationHistoryParams, HandleJavaScriptDialogParams, NavigateParams,
    NavigateToHistoryEntryParams, ReloadParams, StopLoadingParams,
};
use chromiumoxide::cdp::browser_protocol::target::{
    CloseTargetParams, EventTargetCrashed, EventTargetCreated, EventTargetDestroyed,
    EventTargetInfoChanged, TargetId,
};
use chromiumoxide::Page;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

mod copy;
mod files;
mod gate_reports;
mod gates;
mod keyboard;
mod limits;
mod page_content;
mod paste_image;
mod recording;

pub(super) use recording::Recording;

use super::input::{self, KeyAction};
use super::tab::{self, with_timeout, Tab, TabEvent, Viewport};
use super::{Attachment, FrameData, Registry, SessionCmd, SessionHandle};
use crate::browser::{BrowserError, Running};
use crate::config::Config;
use crate::egress::{self, EgressEvent, EgressProxy, Verdict};
use crate::enforce::link::{GateReport, Registration};
use crate::enforce::Enforcer;
use crate::protocol::{ClientMsg, EndReason, NoticeLevel, ServerMsg, TabAction, TabInfo};

/// Everything an actor starts from.
pub(super) struct ActorInit {
    pub handle: Arc<SessionHandle>,
    pub config: Arc<Config>,
    pub running: Arc<Running>,
    pub context_id: BrowserContextId,
    pub page: Page,
    pub viewport: Viewport,
    pub start_url: Option<String>,
    pub cmd_rx: mpsc::Receiver<SessionCmd>,
    pub shutdown: watch::Receiver<bool>,
    pub registry: Arc<Registry>,
    pub permit: super::SessionPermit,
    pub egress: EgressProxy,
    pub egress_events: tokio::sync::broadcast::Receiver<EgressEvent>,
    pub enforcer: Arc<Enforcer>,
    pub recording: Option<Recording>,
}

/// Browser-wide target events concerning this session's context.
enum TargetEvent {
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

pub(super) struct Actor {
    handle: Arc<SessionHandle>,
    config: Arc<Config>,
    running: Arc<Running>,
    context_id: BrowserContextId,
    timeout: Duration,
    tabs: Vec<Tab>,
    active: u16,
    next_tab: u16,
    viewport: Viewport,
    attachment: Option<Attachment>,
    detached_at: Option<Instant>,
    last_input: Instant,
    last_frame: Option<Arc<FrameData>>,
    send_first: bool,
    next_ack_at: Instant,
    dialogs: HashMap<u64, (u16, ServerMsg)>,
    next_dialog: u64,
    events_tx: mpsc::Sender<(u16, TabEvent)>,
    events_rx: mpsc::Receiver<(u16, TabEvent)>,
    targets_rx: mpsc::Receiver<TargetEvent>,
    popups_tx: mpsc::Sender<Result<Page, String>>,
    popups_rx: mpsc::Receiver<Result<Page, String>>,
    cmd_rx: mpsc::Receiver<SessionCmd>,
    shutdown: watch::Receiver<bool>,
    registry: Arc<Registry>,
    _permit: super::SessionPermit,
    target_task: tokio::task::JoinHandle<()>,
    egress: Option<EgressProxy>,
    egress_events: tokio::sync::broadcast::Receiver<EgressEvent>,
    enforcer: Arc<Enforcer>,
    kb: keyboard::KeyboardState,
    copies: copy::CopyState,
    limits: limits::LimitState,
    recording: Option<Recording>,
    gate_tx: mpsc::Sender<GateReport>,
    gate_rx: mpsc::Receiver<GateReport>,
    context_link: Registration,
    files: Option<super::files::FileState>,
}

impl Actor {
    /// Sets up the first tab and spawns the actor task.
    pub async fn start(init: ActorInit) -> Result<(), BrowserError> {
        let timeout = Duration::from_secs(init.config.chromium.command_timeout_secs);
        let (events_tx, events_rx) = mpsc::channel(256);
        let (popups_tx, popups_rx) = mpsc::channel(16);
        let (targets_tx, targets_rx) = mpsc::channel(256);
        let target_task = watch_targets(&init.running, init.context_id.clone(), targets_tx).await?;
        let first = match Tab::open(
            0,
            init.page.clone(),
            init.viewport,
            events_tx.clone(),
            timeout,
        )
        .await
        {
            Ok(tab) => tab,
            Err(e) => {
                target_task.abort();
                let _ = init
                    .running
                    .browser
                    .dispose_browser_context(init.context_id)
                    .await;
                return Err(e.into());
            }
        };
        let (gate_tx, gate_rx) = mpsc::channel(256);
        let context = init.enforcer.contexts().register(
            init.context_id.inner(),
            init.handle.user.clone(),
            gate_tx.clone(),
        );
        let files = super::files::FileState::start(
            &init.config,
            &init.handle.id,
            &init.running,
            &init.context_id,
            timeout,
        )
        .await
        .inspect_err(|e| warn!("uploads, downloads and print are off in this session: {e}"))
        .ok();
        let mut actor = Actor {
            files,
            handle: init.handle,
            config: init.config,
            running: init.running,
            context_id: init.context_id,
            timeout,
            tabs: vec![first],
            active: 0,
            next_tab: 1,
            viewport: init.viewport,
            attachment: None,
            detached_at: Some(Instant::now()),
            last_input: Instant::now(),
            last_frame: None,
            send_first: true,
            next_ack_at: Instant::now(),
            dialogs: HashMap::new(),
            next_dialog: 1,
            events_tx,
            events_rx,
            targets_rx,
            popups_tx,
            popups_rx,
            cmd_rx: init.cmd_rx,
            shutdown: init.shutdown,
            registry: init.registry,
            _permit: init.permit,
            target_task,
            egress: Some(init.egress),
            egress_events: init.egress_events,
            enforcer: init.enforcer,
            kb: Default::default(),
            copies: Default::default(),
            limits: Default::default(),
            recording: init.recording,
            gate_tx,
            gate_rx,
            context_link: context,
        };
        actor.note_oom_kills();
        actor.watch_page_content(0).await;
        actor.watch_files(0).await;
        if let Some(url) = init.start_url {
            actor.navigate_tab(0, url);
        }
        let span =
            tracing::info_span!("session", id = %actor.handle.id, user = %actor.handle.user.name);
        tokio::spawn(tracing::Instrument::instrument(actor.run(), span));
        Ok(())
    }

    async fn run(mut self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let running = self.running.clone();
        let reason = loop {
            tokio::select! {
                cmd = self.cmd_rx.recv() => match cmd {
                    Some(SessionCmd::Attach(a)) => self.attach(a).await,
                    Some(SessionCmd::Client(id, msg)) => {
                        if self.attachment.as_ref().is_some_and(|a| a.id == id) {
                            if let Some(reason) = self.on_client(msg).await {
                                break reason;
                            }
                        }
                    }
                    Some(SessionCmd::Detached(id)) => self.detach(id).await,
                    Some(SessionCmd::End(reason)) => break reason,
                    Some(SessionCmd::Files(cmd)) => self.on_files_cmd(cmd).await,
                    Some(SessionCmd::PasteImage(cmd)) => self.on_paste_image(*cmd),
                    Some(SessionCmd::UploadRefused { chooser, name, size, reason }) => {
                        self.upload_refused(chooser, &name, size, reason)
                    }
                    None => break EndReason::Closed,
                },
                Some((tab, ev)) = self.events_rx.recv() => {
                    if let Some(reason) = self.on_tab_event(tab, ev).await {
                        break reason;
                    }
                }
                Some(ev) = self.targets_rx.recv() => self.on_target_event(ev).await,
                Some(popup) = self.popups_rx.recv() => self.on_popup(popup).await,
                Some(ev) = async { self.files.as_mut()?.rx.recv().await } => self.on_file_event(ev).await,
                ev = self.egress_events.recv() => self.on_egress(ev),
                Some(report) = self.gate_rx.recv() => self.on_gate_report(report),
                _ = running.died() => break EndReason::BrowserCrashed,
                _ = self.shutdown.changed() => {
                    if *self.shutdown.borrow() {
                        break EndReason::Shutdown;
                    }
                }
                _ = tick.tick() => {
                    self.probe_pages();
                    if let Some(reason) = self.check_timers() {
                        break reason;
                    }
                }
            }
        };
        self.end(reason).await;
    }

    fn check_timers(&self) -> Option<EndReason> {
        let idle = Duration::from_secs(self.config.sessions.idle_timeout_secs);
        if self.last_input.elapsed() >= idle {
            return Some(EndReason::Idle);
        }
        let grace = Duration::from_secs(self.config.sessions.reconnect_grace_secs);
        if self.detached_at.is_some_and(|t| t.elapsed() >= grace) {
            return Some(EndReason::Closed);
        }
        None
    }

    async fn attach(&mut self, a: Attachment) {
        if let Some(old) = self.attachment.take() {
            let _ = old.out.try_send(ServerMsg::ended(EndReason::Replaced));
        }
        let _ = a
            .out
            .send(ServerMsg::Ready {
                protocol: crate::protocol::PROTOCOL_VERSION,
                session: self.handle.id.clone(),
                user: self.handle.user.name.clone(),
                resumed: a.resumed,
            })
            .await;
        self.attachment = Some(a);
        self.detached_at = None;
        self.last_input = Instant::now();
        self.send_tabs();
        self.send_state();
        for (_, msg) in self.dialogs.values() {
            self.send(msg.clone());
        }
        // Show the last picture at once; a fresh one follows from the screencast.
        self.send_first = true;
        if let Some(f) = &self.last_frame {
            let f = Arc::new(FrameData {
                tab: f.tab,
                first: true,
                width: f.width,
                height: f.height,
                jpeg: f.jpeg.clone(),
            });
            self.push_frame(f);
        }
        self.start_cast().await;
        self.update_live();
    }

    async fn detach(&mut self, id: u64) {
        if self.attachment.as_ref().is_some_and(|a| a.id == id) {
            self.attachment = None;
            self.detached_at = Some(Instant::now());
            // Nobody watches: stop encoding frames until a client re-attaches.
            let timeout = self.timeout;
            if let Some(tab) = self.tab_mut(self.active) {
                tab.stop_screencast(timeout).await;
            }
            self.update_live();
        }
    }

    async fn start_cast(&mut self) {
        let (viewport, quality, timeout) =
            (self.viewport, self.config.stream.jpeg_quality, self.timeout);
        let events = self.events_tx.clone();
        let active = self.active;
        let Some(tab) = self.tab_mut(active) else {
            return;
        };
        tab.casting = false;
        // While a navigation swaps the page's renderer, Chromium answers "Not
        // attached to an active page"; retry briefly, and `Navigated` retries too.
        for attempt in 0..10 {
            match tab.start_screencast(viewport, quality, timeout).await {
                Ok(()) => {
                    tab.snapshot(viewport, quality, events, timeout);
                    return;
                }
                Err(e) if attempt == 9 => warn!("screencast did not start: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn send(&self, msg: ServerMsg) {
        if let Some(a) = &self.attachment {
            if a.out.try_send(msg).is_err() {
                debug!("client is not reading; message dropped");
            }
        }
    }

    fn notice(&self, level: NoticeLevel, code: &str, message: impl Into<String>) {
        self.send(ServerMsg::Notice {
            level,
            code: code.into(),
            message: message.into(),
        });
    }

    fn push_frame(&self, frame: Arc<FrameData>) {
        if let Some(a) = &self.attachment {
            self.record_frame(&frame);
            let _ = a.frames.send(Some(frame));
        }
    }

    fn tab(&self, id: u16) -> Option<&Tab> {
        self.tabs.iter().find(|t| t.id == id)
    }

    fn tab_mut(&mut self, id: u16) -> Option<&mut Tab> {
        self.tabs.iter_mut().find(|t| t.id == id)
    }

    fn active_tab(&self) -> Option<&Tab> {
        self.tab(self.active)
    }

    fn send_state(&self) {
        if let Some(tab) = self.active_tab() {
            self.send(ServerMsg::State {
                tab: tab.id,
                url: tab.url.clone(),
                title: tab.title.clone(),
                loading: tab.loading,
                can_back: tab.can_back,
                can_forward: tab.can_forward,
            });
        }
    }

    /// Asks a tab for its history; the answer comes back as `TabEvent::History`.
    fn refresh_history(&self, tab_id: u16) {
        let Some(tab) = self.tab(tab_id) else { return };
        let page = tab.page.clone();
        let tx = self.events_tx.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            if let Ok(h) =
                with_timeout(timeout, page.execute(GetNavigationHistoryParams::default())).await
            {
                let idx = h.result.current_index;
                let len = h.result.entries.len() as i64;
                let title = usize::try_from(idx)
                    .ok()
                    .and_then(|i| h.result.entries.get(i))
                    .map(|e| e.title.clone())
                    .unwrap_or_default();
                let ev = TabEvent::History {
                    can_back: idx > 0,
                    can_forward: idx + 1 < len,
                    title,
                };
                let _ = tx.send((tab_id, ev)).await;
            }
        });
    }

    fn send_tabs(&self) {
        self.send(ServerMsg::Tabs {
            tabs: self
                .tabs
                .iter()
                .map(|t| TabInfo {
                    id: t.id,
                    url: t.url.clone(),
                    title: t.title.clone(),
                })
                .collect(),
            active: self.active,
        });
    }

    fn update_live(&self) {
        let mut live = self.handle.live.lock().expect("live lock");
        if let Some(tab) = self.active_tab() {
            live.url = tab.url.clone();
            live.title = tab.title.clone();
        }
        live.tabs = self.tabs.len();
        live.attached = self.attachment.is_some();
    }

    /// Starts a navigation without waiting for it (slow servers must not stall the actor).
    fn navigate_tab(&self, tab: u16, url: String) {
        let Some(t) = self.tab(tab) else { return };
        let page = t.page.clone();
        let tx = self.events_tx.clone();
        let timeout = self.timeout.max(Duration::from_secs(30));
        tokio::spawn(async move {
            match with_timeout(timeout, page.execute(NavigateParams::new(url))).await {
                Ok(r) => {
                    if let Some(err) = r.result.error_text.filter(|e| !e.is_empty()) {
                        let _ = tx
                            .send((tab, TabEvent::Report(nav_error_report(&err))))
                            .await;
                    }
                }
                Err(e) => debug!("navigation command failed: {e}"),
            }
        });
    }

    async fn on_client(&mut self, msg: ClientMsg) -> Option<EndReason> {
        let is_input = matches!(
            msg,
            ClientMsg::Key { .. }
                | ClientMsg::Text { .. }
                | ClientMsg::Mouse { .. }
                | ClientMsg::Touch { .. }
                | ClientMsg::Paste { .. }
                | ClientMsg::Navigate { .. }
        );
        if is_input {
            self.last_input = Instant::now();
        }
        self.record_input(&msg);
        match msg {
            ClientMsg::Resize { width, height, dpr } => {
                let vp = Viewport { width, height, dpr };
                if vp != self.viewport {
                    self.viewport = vp;
                    for t in &self.tabs {
                        if let Err(e) = tab::set_viewport(&t.page, vp, self.timeout).await {
                            debug!("resize failed: {e}");
                        }
                    }
                    if self.attachment.is_some() {
                        self.start_cast().await;
                    }
                }
            }
            ClientMsg::Navigate { url } => match egress::parse_address_bar(&url) {
                Ok(u) => self.navigate_tab(self.active, u.to_string()),
                Err(e) => self.notice(NoticeLevel::Warn, "bad_url", e.to_string()),
            },
            ClientMsg::Back {} | ClientMsg::Forward {} => {
                let back = matches!(msg, ClientMsg::Back {});
                if let Some(t) = self.active_tab() {
                    let page = t.page.clone();
                    let timeout = self.timeout;
                    tokio::spawn(async move {
                        if let Ok(h) = with_timeout(
                            timeout,
                            page.execute(GetNavigationHistoryParams::default()),
                        )
                        .await
                        {
                            let idx = h.result.current_index + if back { -1 } else { 1 };
                            if let Some(entry) = usize::try_from(idx)
                                .ok()
                                .and_then(|i| h.result.entries.get(i))
                            {
                                let _ = with_timeout(
                                    timeout,
                                    page.execute(NavigateToHistoryEntryParams::new(entry.id)),
                                )
                                .await;
                            }
                        }
                    });
                }
            }
            ClientMsg::Reload {} => {
                if let Some(t) = self.active_tab() {
                    let page = t.page.clone();
                    let timeout = self.timeout;
                    tokio::spawn(async move {
                        let _ = with_timeout(timeout, page.execute(ReloadParams::default())).await;
                    });
                }
            }
            ClientMsg::Stop {} => {
                if let Some(t) = self.active_tab() {
                    let _ =
                        with_timeout(self.timeout, t.page.execute(StopLoadingParams::default()))
                            .await;
                }
            }
            ClientMsg::Key {
                kind,
                key,
                code,
                key_code,
                mods,
                repeat,
                location,
            } => match input::key(kind, &key, &code, key_code, mods, repeat, location) {
                KeyAction::Dispatch(cmd) => {
                    if self.keyboard_allows_key(kind, &key, mods) {
                        if let Some(t) = self.active_tab() {
                            t.input(*cmd).await;
                        }
                    }
                }
                KeyAction::PasteShortcut => {}
                KeyAction::PrintShortcut if kind == crate::protocol::KeyKind::Down => {
                    self.print(self.active)
                }
                KeyAction::PrintShortcut => {}
            },
            ClientMsg::Text { text } => {
                if self.keyboard_allows_text(&text) {
                    if let Some(t) = self.active_tab() {
                        t.input(input::insert_text(&text)).await;
                    }
                }
            }
            ClientMsg::Paste { text } => self.paste(text).await,
            ClientMsg::Mouse {
                kind,
                x,
                y,
                button,
                buttons,
                clicks,
                mods,
                dx,
                dy,
            } => {
                let cmd = input::mouse(kind, x, y, button, buttons, clicks, mods, dx, dy);
                if let Some(t) = self.active_tab() {
                    if kind == crate::protocol::MouseKind::Move {
                        t.input_lossy(cmd);
                    } else {
                        t.input(cmd).await;
                    }
                }
            }
            ClientMsg::Touch { kind, points } => {
                if let Some(t) = self.active_tab() {
                    t.input(input::touch(kind, &points, 0)).await;
                }
            }
            ClientMsg::Dialog { id, accept, text } => {
                if let Some((tab, _)) = self.dialogs.remove(&id) {
                    if let Some(t) = self.tab(tab) {
                        let mut p = HandleJavaScriptDialogParams::new(accept);
                        p.prompt_text = text;
                        if let Err(e) = with_timeout(self.timeout, t.page.execute(p)).await {
                            debug!("dialog answer failed: {e}");
                        }
                    }
                }
            }
            ClientMsg::Tab { action, id } => match action {
                TabAction::Switch => self.switch_tab(id).await,
                TabAction::Close => {
                    if self.tabs.len() <= 1 {
                        self.notice(
                            NoticeLevel::Info,
                            "last_tab",
                            "The last tab cannot be closed; end the session instead.",
                        );
                    } else if let Some(t) = self.tab(id) {
                        let _ = with_timeout(
                            self.timeout,
                            t.page.execute(CloseTargetParams::new(t.target_id.clone())),
                        )
                        .await;
                    }
                }
            },
            ClientMsg::Close {} => return Some(EndReason::Closed),
            ClientMsg::Print {} => self.print(self.active),
            ClientMsg::FileChooserCancel { id } => self.cancel_chooser(id),
            // Answered by the socket task itself.
            ClientMsg::FrameAck { .. } | ClientMsg::Ping { .. } => {}
        }
        None
    }

    async fn switch_tab(&mut self, id: u16) {
        if id == self.active || self.tab(id).is_none() {
            return;
        }
        let timeout = self.timeout;
        if let Some(t) = self.tab_mut(self.active) {
            t.stop_screencast(timeout).await;
        }
        self.active = id;
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

    async fn on_tab_event(&mut self, tab_id: u16, ev: TabEvent) -> Option<EndReason> {
        match ev {
            TabEvent::Frame {
                jpeg,
                width,
                height,
                ack_id,
            } => {
                let t = self.tab(tab_id)?;
                // Pace Chromium: ack no sooner than one frame interval after the last ack.
                if let Some(ack_id) = ack_id {
                    let page = t.page.clone();
                    let interval =
                        Duration::from_secs_f64(1.0 / f64::from(self.config.stream.max_fps));
                    let now = Instant::now();
                    let at = self.next_ack_at.max(now);
                    self.next_ack_at = at + interval;
                    tokio::spawn(async move {
                        tokio::time::sleep_until(at.into()).await;
                        tab::ack_frame(&page, ack_id).await;
                    });
                }
                if tab_id == self.active && self.attachment.is_some() {
                    let frame = Arc::new(FrameData {
                        tab: tab_id,
                        first: std::mem::take(&mut self.send_first),
                        width: width.round().clamp(0.0, 65535.0) as u16,
                        height: height.round().clamp(0.0, 65535.0) as u16,
                        jpeg,
                    });
                    self.push_frame(frame.clone());
                    self.last_frame = Some(frame);
                }
            }
            TabEvent::Navigated { url, new_document } => {
                if new_document {
                    self.limit_navigation(tab_id).await;
                }
                if let Some(t) = self.tab_mut(tab_id) {
                    t.url = url;
                    if new_document {
                        t.title.clear();
                        t.title_from_page = false;
                    }
                }
                self.refresh_history(tab_id);
                let casting = self.tab(tab_id).is_some_and(|t| t.casting);
                if tab_id == self.active && self.attachment.is_some() && !casting {
                    self.start_cast().await;
                }
                self.after_tab_change(tab_id);
            }
            TabEvent::Loading(loading) => {
                if let Some(t) = self.tab_mut(tab_id) {
                    t.loading = loading;
                }
                if tab_id == self.active {
                    self.send_state();
                }
                self.refresh_history(tab_id);
            }
            TabEvent::History {
                can_back,
                can_forward,
                title,
            } => {
                let t = self.tab_mut(tab_id)?;
                // The page script's title wins; the history entry's fills in when the
                // script has not reported (back/forward cache restores, non-HTML documents).
                let title = if t.title_from_page || title.is_empty() {
                    t.title.clone()
                } else {
                    title
                };
                if (t.can_back, t.can_forward, &t.title) != (can_back, can_forward, &title) {
                    t.can_back = can_back;
                    t.can_forward = can_forward;
                    t.title = title;
                    self.after_tab_change(tab_id);
                }
            }
            TabEvent::DialogOpening {
                kind,
                message,
                default,
            } => {
                let id = self.next_dialog;
                self.next_dialog += 1;
                let msg = ServerMsg::Dialog {
                    id,
                    kind,
                    message,
                    default,
                };
                self.send(msg.clone());
                self.dialogs.insert(id, (tab_id, msg));
            }
            TabEvent::DialogClosed => {
                let closed: Vec<u64> = self
                    .dialogs
                    .iter()
                    .filter(|(_, (t, _))| *t == tab_id)
                    .map(|(id, _)| *id)
                    .collect();
                for id in closed {
                    self.dialogs.remove(&id);
                    self.send(ServerMsg::DialogClosed { id });
                }
            }
            TabEvent::Report(payload) => self.on_report(tab_id, &payload),
            TabEvent::Copy(payload) => self.copy(tab_id, &payload).await,
            TabEvent::Responsive(answered) => self.on_probe(tab_id, answered).await,
            TabEvent::Gone => return self.remove_tab(tab_id).await,
        }
        None
    }

    fn after_tab_change(&self, tab_id: u16) {
        self.record_tab(tab_id);
        self.send_tabs();
        if tab_id == self.active {
            self.send_state();
        }
        self.update_live();
    }

    fn on_report(&mut self, tab_id: u16, payload: &str) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(payload) else {
            return;
        };
        match v.get("k").and_then(|k| k.as_str()) {
            Some("field") => self.keyboard_field_report(tab_id, &v),
            Some("title") => {
                let title: String = v
                    .get("title")
                    .and_then(|c| c.as_str())
                    .unwrap_or("")
                    .chars()
                    .take(512)
                    .collect();
                if let Some(t) = self.tab_mut(tab_id) {
                    t.title_from_page = true;
                    if t.title != title {
                        t.title = title;
                        self.after_tab_change(tab_id);
                    }
                }
            }
            Some("cursor") => {
                let cursor = v
                    .get("cursor")
                    .and_then(|c| c.as_str())
                    .unwrap_or("default");
                let safe = cursor.len() <= 32
                    && cursor.chars().all(|c| c.is_ascii_lowercase() || c == '-');
                self.send(ServerMsg::Cursor {
                    cursor: if safe {
                        cursor.to_owned()
                    } else {
                        "default".into()
                    },
                });
            }
            Some("nav_error") => {
                let err = v
                    .get("error")
                    .and_then(|c| c.as_str())
                    .unwrap_or("unknown error");
                self.notice(
                    NoticeLevel::Warn,
                    "navigation_failed",
                    format!("The page could not be opened ({err})."),
                );
            }
            _ => {}
        }
    }

    async fn on_target_event(&mut self, ev: TargetEvent) {
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

    async fn on_popup(&mut self, popup: Result<Page, String>) {
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
        let id = self.next_tab;
        self.next_tab = self.next_tab.wrapping_add(1);
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

    async fn remove_tab(&mut self, id: u16) -> Option<EndReason> {
        let pos = self.tabs.iter().position(|t| t.id == id)?;
        debug!(tab = id, "tab closed");
        self.tabs.remove(pos);
        self.keyboard_tab_closed(id);
        let closed: Vec<u64> = self
            .dialogs
            .iter()
            .filter(|(_, (t, _))| *t == id)
            .map(|(d, _)| *d)
            .collect();
        for d in closed {
            self.dialogs.remove(&d);
            self.send(ServerMsg::DialogClosed { id: d });
        }
        if self.tabs.is_empty() {
            return Some(EndReason::Closed);
        }
        if id == self.active {
            let next = self.tabs[pos.saturating_sub(1).min(self.tabs.len() - 1)].id;
            self.active = u16::MAX;
            self.switch_tab(next).await;
        } else {
            self.send_tabs();
            self.update_live();
        }
        None
    }

    fn on_egress(&mut self, ev: Result<EgressEvent, tokio::sync::broadcast::error::RecvError>) {
        match ev {
            Ok(ev) if ev.verdict == Verdict::Blocked => {
                // The target is host:port only (never a URL: queries can carry secrets).
                info!(target = %ev.target, reason = %ev.reason, "egress blocked");
                self.notice(
                    NoticeLevel::Warn,
                    "egress_blocked",
                    format!(
                        "Blocked: {} cannot be reached from the isolated browser ({}).",
                        ev.target, ev.reason
                    ),
                );
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                debug!(skipped = n, "egress events lagged");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                // The proxy is gone; keep the actor running until it ends itself.
                let (_, rx) = tokio::sync::broadcast::channel(1);
                self.egress_events = rx;
            }
        }
    }

    async fn end(mut self, reason: EndReason) {
        info!(?reason, "session ending");
        if let Some(a) = self.attachment.take() {
            let _ = a.out.send(ServerMsg::ended(reason)).await;
        }
        self.target_task.abort();
        self.tabs.clear();
        // Uploads, downloads and PDFs of the session go with it.
        self.files = None;
        if !self.running.is_dead() {
            let dispose = self
                .running
                .browser
                .dispose_browser_context(self.context_id.clone());
            if let Err(e) = with_timeout(self.timeout, dispose).await {
                warn!("browser context was not disposed: {e}");
            }
        }
        if let Some(proxy) = self.egress.take() {
            proxy.shutdown(Duration::from_millis(500)).await;
        }
        self.end_recording(reason).await;
        self.registry
            .lock()
            .expect("registry lock")
            .remove(&self.handle.id);
        // The semaphore permit is released when `self` drops here.
    }
}

fn nav_error_report(err: &str) -> String {
    serde_json::json!({ "k": "nav_error", "error": err }).to_string()
}

/// Subscribes to browser-wide target events and forwards those of one context.
async fn watch_targets(
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
