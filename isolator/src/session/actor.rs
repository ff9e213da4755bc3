//! The session actor: one task that owns a session's BrowserContext, its tabs
//! and its attached client socket.
//!
//! It reacts to client messages (input, navigation, dialogs, tabs), to tab
//! events (frames, navigations, dialogs, page-script reports), to browser-wide
//! target events (popups, titles), to the browser process dying, and to
//! timers (idle timeout, reconnect grace). Frames are paced by acknowledging
//! Chromium no faster than `stream.max_fps`; the client side keeps only the
//! newest frame, so a slow client never builds a queue. The cast of a page
//! that stays still rests (`rest`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::Page;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

mod client;
mod downloads;
mod drags;
mod events;
mod files;
mod gates;
mod limits;
mod navigation;
mod paste_image;
mod print;
mod recording;
mod rest;
mod screen_net;
mod tab_set;
mod tabs;
mod uploads;

pub(super) use recording::Recording;
use tabs::{watch_targets, TargetEvent};

use super::tab::{with_timeout, Tab, TabEvent, Viewport};
use super::{Attachment, FrameData, Registry, SessionCmd, SessionHandle};
use crate::browser::{BrowserError, Running};
use crate::egress::{EgressEvent, EgressProxy};
use crate::enforce::Enforcer;
use crate::gates::submit::link::Registration;
use crate::gates::GateReport;
use crate::protocol::{EndReason, NoticeLevel, ServerMsg};
use crate::session::config::SessionSettings;

/// Everything an actor starts from.
pub(super) struct ActorInit {
    pub handle: Arc<SessionHandle>,
    pub config: Arc<SessionSettings>,
    pub contexts: Arc<crate::gates::submit::link::ContextRegistry>,
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

pub(super) struct Actor {
    handle: Arc<SessionHandle>,
    config: Arc<SessionSettings>,
    running: Arc<Running>,
    context_id: BrowserContextId,
    timeout: Duration,
    tabs: tab_set::TabSet<Tab>,
    viewport: Viewport,
    attachment: Option<Attachment>,
    detached_at: Option<Instant>,
    last_input: Instant,
    /// When the active tab last sent a frame, or its cast (re)started.
    last_frame_at: Instant,
    /// The active tab's cast is stopped because its page stayed still.
    resting: bool,
    last_frame: Option<Arc<FrameData>>,
    send_first: bool,
    next_ack_at: Instant,
    /// Frames received so far (to tell a quiet tab from a busy one).
    frame_seq: u64,
    /// A drag in progress in the page, carried by the session.
    drag: Option<drags::Drag>,
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
    keyboard: crate::gates::keyboard::KeyboardGate,
    copies: crate::gates::copy::CopyGate,
    limits: limits::Limits,
    recording: Option<Recording>,
    gate_tx: mpsc::Sender<GateReport>,
    gate_rx: mpsc::Receiver<GateReport>,
    context_link: Registration,
    files: Option<super::files::FileState>,
    /// The screen net, when frames need it.
    net: screen_net::NetLink,
}

impl Actor {
    /// Sets up the first tab and spawns the actor task.
    pub async fn start(init: ActorInit) -> Result<(), BrowserError> {
        let timeout = init.config.command_timeout;
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
        let context = init.contexts.register(
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
            tabs: tab_set::TabSet::new(first),
            viewport: init.viewport,
            attachment: None,
            detached_at: Some(Instant::now()),
            last_input: Instant::now(),
            last_frame_at: Instant::now(),
            resting: false,
            last_frame: None,
            send_first: true,
            next_ack_at: Instant::now(),
            frame_seq: 0,
            drag: None,
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
            keyboard: Default::default(),
            copies: Default::default(),
            limits: Default::default(),
            recording: init.recording,
            gate_tx,
            gate_rx,
            context_link: context,
            net: Default::default(),
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
                    Some(SessionCmd::Notice(level, code, message)) => self.notice(level, code, message),
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
                Some(report) = self.gate_rx.recv() => self.report_gate(report),
                Some(out) = self.net.out_rx.recv() => self.net_frame(out),
                _ = running.died() => break EndReason::BrowserCrashed,
                _ = self.shutdown.changed() => {
                    if *self.shutdown.borrow() {
                        break EndReason::Shutdown;
                    }
                }
                _ = tick.tick() => {
                    self.probe_pages();
                    self.rest_if_still().await;
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
            if let Some(tab) = self.tab_mut(self.tabs.active()) {
                tab.stop_screencast(timeout).await;
            }
            self.cast_stopped();
            self.update_live();
        }
    }

    async fn start_cast(&mut self) {
        let (viewport, quality, timeout) =
            (self.viewport, self.config.stream.jpeg_quality, self.timeout);
        let events = self.events_tx.clone();
        let active = self.tabs.active();
        let metrics = self.enforcer.metrics().clone();
        self.cast_started();
        let Some(tab) = self.tab_mut(active) else {
            return;
        };
        tab.casting = false;
        // While a navigation swaps the page's renderer, Chromium answers "Not
        // attached to an active page"; retry briefly, and `Navigated` retries too.
        for attempt in 0..10 {
            match tab.start_screencast(viewport, quality, timeout).await {
                Ok(()) => {
                    metrics.screenshot_taken("cast_start");
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
        let label = serde_json::to_value(reason).ok();
        let label = label.as_ref().and_then(|v| v.as_str()).unwrap_or("error");
        self.enforcer.metrics().session_ended(label);
        // The semaphore permit is released when `self` drops here.
    }
}
