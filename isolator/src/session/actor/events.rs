//! What the browser tells the session: frames (paced towards Chromium),
//! navigations, loading, history, dialogs, page-script reports, copies,
//! renderer probes and closed tabs; and blocked egress.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, info};

use super::Actor;
use crate::egress::{EgressEvent, Verdict};
use crate::protocol::{EndReason, NoticeLevel, ServerMsg};
use crate::session::page_msg::PageMsg;
use crate::session::tab::{self, TabEvent};
use crate::session::FrameData;

/// How long after a frame's ack a tab must stay without frames before the
/// session takes a screenshot of it (see [`TabEvent::Quiet`]).
const QUIET_AFTER_ACK: Duration = Duration::from_millis(300);

impl Actor {
    pub(super) async fn on_tab_event(&mut self, tab_id: u16, ev: TabEvent) -> Option<EndReason> {
        match ev {
            TabEvent::Frame {
                jpeg,
                width,
                height,
                ack_id,
            } => {
                self.frame_seq += 1;
                if tab_id == self.tabs.active() {
                    self.last_frame_at = Instant::now();
                }
                let t = self.tab(tab_id)?;
                // Pace Chromium: ack no sooner than one frame interval after the last ack.
                if let Some(ack_id) = ack_id {
                    let page = t.page.clone();
                    let interval =
                        Duration::from_secs_f64(1.0 / f64::from(self.config.stream.max_fps));
                    let now = Instant::now();
                    let at = self.next_ack_at.max(now);
                    self.next_ack_at = at + interval;
                    let (events, seq) = (self.events_tx.clone(), self.frame_seq);
                    tokio::spawn(async move {
                        tokio::time::sleep_until(at.into()).await;
                        tab::ack_frame(&page, ack_id).await;
                        tokio::time::sleep(QUIET_AFTER_ACK).await;
                        let _ = events.send((tab_id, TabEvent::Quiet { seq })).await;
                    });
                }
                if tab_id == self.tabs.active() && self.attachment.is_some() {
                    let frame = Arc::new(FrameData {
                        tab: tab_id,
                        first: std::mem::take(&mut self.send_first),
                        width: width.round().clamp(0.0, 65535.0) as u16,
                        height: height.round().clamp(0.0, 65535.0) as u16,
                        jpeg,
                    });
                    self.show_frame(tab_id, self.frame_seq, frame);
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
                if tab_id == self.tabs.active() && self.attachment.is_some() && !casting {
                    self.start_cast().await;
                }
                self.after_tab_change(tab_id);
            }
            TabEvent::Loading(loading) => {
                if let Some(t) = self.tab_mut(tab_id) {
                    t.loading = loading;
                }
                if tab_id == self.tabs.active() {
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
                // The client draws the dialog: masked like the page's text.
                let url = self.tab(tab_id).map(|t| t.url.clone()).unwrap_or_default();
                let [message, default] = self.drawn(&url, [&message, &default]);
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
            TabEvent::Page(PageMsg::Changed) => {
                if tab_id == self.tabs.active() {
                    self.wake("the page changed").await;
                }
            }
            TabEvent::Page(msg) => self.on_page_msg(tab_id, msg),
            TabEvent::Copy(msg) => self.copy(tab_id, msg).await,
            TabEvent::NavError(err) => self.notice(
                NoticeLevel::Warn,
                "navigation_failed",
                format!("The page could not be opened ({err})."),
            ),
            TabEvent::Responsive(answered) => self.on_probe(tab_id, answered).await,
            TabEvent::DragStarted(data) => self.drag_started(tab_id, data),
            TabEvent::Quiet { seq } => {
                // Still the last frame: show the page as it is now, once.
                let watched = tab_id == self.tabs.active() && self.attachment.is_some();
                if seq == self.frame_seq && watched {
                    let (viewport, quality) = (self.viewport, self.config.stream.jpeg_quality);
                    if let Some(t) = self.tab(tab_id).filter(|t| t.casting) {
                        self.enforcer.metrics().screenshot_taken("quiet");
                        t.snapshot(viewport, quality, self.events_tx.clone(), self.timeout);
                    }
                }
            }
            TabEvent::Gone => return self.remove_tab(tab_id).await,
        }
        None
    }

    pub(super) fn on_page_msg(&mut self, tab_id: u16, msg: PageMsg) {
        match msg {
            PageMsg::Field(report) => self.keyboard.field_report(tab_id, report),
            PageMsg::Title(title) => {
                if let Some(t) = self.tab_mut(tab_id) {
                    t.title_from_page = true;
                    if t.title != title {
                        t.title = title;
                        self.after_tab_change(tab_id);
                    }
                }
            }
            PageMsg::Cursor(cursor) => self.send(ServerMsg::Cursor { cursor }),
            PageMsg::Changed => {}
        }
    }

    pub(super) fn on_egress(
        &mut self,
        ev: Result<EgressEvent, tokio::sync::broadcast::error::RecvError>,
    ) {
        if let Ok(ev) = &ev {
            self.enforcer.metrics().egress_request(match ev.verdict {
                Verdict::Allowed => "allowed",
                Verdict::Blocked => "blocked",
                Verdict::Failed => "failed",
            });
        }
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
}
