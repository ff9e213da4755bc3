//! What the client asks of its session: input (through the gates), navigation,
//! dialogs answers, tabs, printing and the end of the session.

use chromiumoxide::cdp::browser_protocol::page::HandleJavaScriptDialogParams;
use chromiumoxide::cdp::browser_protocol::target::CloseTargetParams;
use std::time::Instant;

use tracing::debug;

use super::Actor;
use crate::egress;
use crate::gates::copy::CopyHow;
use crate::protocol::{ClientMsg, EndReason, KeyKind, NoticeLevel, TabAction};
use crate::session::input::{self, KeyAction};
use crate::session::page_msg::CopyMsg;
use crate::session::tab::{self, with_timeout, Viewport};

impl Actor {
    pub(super) async fn on_client(&mut self, msg: ClientMsg) -> Option<EndReason> {
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
        // Whatever the user does next may change the page: its frames must
        // flow (a session that ends needs none).
        if !matches!(msg, ClientMsg::Close {}) {
            self.wake("the client").await;
        }
        self.record_pointer(&msg);
        match msg {
            ClientMsg::Resize { width, height, dpr } => {
                let vp = Viewport { width, height, dpr };
                if vp != self.viewport {
                    self.viewport = vp;
                    for t in self.tabs.iter() {
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
                Ok(u) => self.navigate_tab(self.tabs.active(), u.to_string()),
                Err(e) => self.notice(NoticeLevel::Warn, "bad_url", e.to_string()),
            },
            ClientMsg::Back {} => self.history_step(true),
            ClientMsg::Forward {} => self.history_step(false),
            ClientMsg::Reload {} => self.reload(),
            ClientMsg::Stop {} => self.stop_loading().await,
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
                    if self.gate_key(kind, &key, mods) {
                        if let Some(t) = self.active_tab() {
                            t.input(*cmd).await;
                        }
                    }
                }
                // Shortcuts are recorded as key presses, never as their key.
                KeyAction::PasteShortcut => {
                    if kind == KeyKind::Down {
                        self.record_key(self.tabs.active(), &key, false);
                    }
                }
                KeyAction::PrintShortcut if kind == KeyKind::Down => {
                    self.record_key(self.tabs.active(), &key, false);
                    self.print(self.tabs.active())
                }
                KeyAction::PrintShortcut => {}
            },
            ClientMsg::Text { text } => self.gate_text(text).await,
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
                if kind == crate::protocol::MouseKind::Down {
                    self.keyboard.pointer_pressed(self.tabs.active());
                }
                if self.drag_mouse(kind, (x, y), mods, &cmd).await {
                    return None;
                }
                if let Some(t) = self.active_tab() {
                    if kind == crate::protocol::MouseKind::Move {
                        t.input_lossy(cmd);
                    } else {
                        t.input(cmd).await;
                    }
                }
            }
            ClientMsg::Touch { kind, points } => {
                if kind == crate::protocol::TouchKind::Start {
                    self.keyboard.pointer_pressed(self.tabs.active());
                }
                if let Some(t) = self.active_tab() {
                    t.input(input::touch(kind, &points, 0)).await;
                }
            }
            ClientMsg::Dialog { id, accept, text } => {
                if let Some((tab, _)) = self.dialogs.remove(&id) {
                    // What the user typed into a prompt() passes the keyboard
                    // gate like any typing; refused, the prompt is dismissed.
                    let text = match text.filter(|t| accept && !t.is_empty()) {
                        Some(t) if !self.gate_prompt_answer(tab, &t).await => {
                            self.answer_dialog(tab, false, None).await;
                            return None;
                        }
                        other => other,
                    };
                    self.answer_dialog(tab, accept, text).await;
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
            ClientMsg::Print {} => self.print(self.tabs.active()),
            ClientMsg::FileChooserCancel { id } => self.cancel_chooser(id),
            ClientMsg::CopyText { text } => {
                let tab = self.tabs.active();
                self.copy(
                    tab,
                    CopyMsg {
                        text,
                        how: CopyHow::Client,
                    },
                )
                .await
            }
            // Answered by the socket task itself.
            ClientMsg::FrameAck { .. } | ClientMsg::Ping { .. } => {}
        }
        None
    }
}

impl Actor {
    /// Answers tab `tab`'s JavaScript dialog.
    async fn answer_dialog(&self, tab: u16, accept: bool, text: Option<String>) {
        if let Some(t) = self.tab(tab) {
            let mut p = HandleJavaScriptDialogParams::new(accept);
            p.prompt_text = text;
            if let Err(e) = with_timeout(self.timeout, t.page.execute(p)).await {
                debug!("dialog answer failed: {e}");
            }
        }
    }
}
