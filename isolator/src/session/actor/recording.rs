//! The session actor's side of the audit recording: what the user saw
//! (frames as streamed to the client), where they went (navigations,
//! titles), what they did (input, redacted unless a policy keeps typed text),
//! every gate decision, and how the session ended.
//!
//! Everything goes to the session's [`LiveRecorder`], which writes on its own
//! thread: nothing here waits on a disk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::Actor;
use crate::audit::{Input, LiveRecorder, SessionInfo};
use crate::enforce::{redact_url, GateEvent};
use crate::protocol::{ClientMsg, EndReason, MouseButton, MouseKind};
use crate::session::{FrameData, SessionHandle, SessionOrigin};

/// A session's recording and the tab state it last recorded.
pub(in crate::session) struct Recording {
    rec: LiveRecorder,
    /// Per tab: the (URL, title) last recorded, to record changes only.
    seen: Mutex<HashMap<u16, (String, String)>>,
}

impl Recording {
    /// Starts recording `handle`'s session, if the server records sessions.
    pub fn start(
        audit: &Arc<crate::audit::AuditService>,
        handle: &SessionHandle,
        origin: &SessionOrigin,
    ) -> Option<Recording> {
        let info = SessionInfo {
            session: handle.id.clone(),
            user: handle.user.name.clone(),
            groups: handle.user.groups.clone(),
            client_addr: origin.addr.clone(),
            user_agent: origin.user_agent.clone(),
            app: None,
        };
        let rec = audit.start_session(info)?;
        Some(Recording {
            rec,
            seen: Mutex::default(),
        })
    }
}

impl AsRef<[u8]> for FrameData {
    fn as_ref(&self) -> &[u8] {
        &self.jpeg
    }
}

impl Actor {
    /// Records a frame the client is shown (no copy here: the writer thread copies).
    pub(super) fn record_frame(&self, frame: &Arc<FrameData>) {
        if let Some(r) = &self.recording {
            let jpeg: Arc<dyn AsRef<[u8]> + Send + Sync> = frame.clone();
            r.rec.frame(
                u32::from(frame.tab),
                u32::from(frame.width),
                u32::from(frame.height),
                jpeg,
            );
        }
    }

    /// Records a tab's URL (without query, fragment or credentials) and
    /// title when they changed.
    pub(super) fn record_tab(&self, tab_id: u16) {
        let (Some(r), Some(tab)) = (&self.recording, self.tab(tab_id)) else {
            return;
        };
        // A new tab's about:blank is not somewhere the user went.
        let url = if tab.url.is_empty() || tab.url == "about:blank" {
            String::new()
        } else {
            redact_url(&tab.url)
        };
        let mut seen = r.seen.lock().unwrap_or_else(|p| p.into_inner());
        let last = seen.entry(tab_id).or_default();
        if !url.is_empty() && last.0 != url {
            r.rec.navigation(u32::from(tab_id), &url);
            last.0 = url;
        }
        if last.1 != tab.title {
            r.rec.title(u32::from(tab_id), &tab.title);
            last.1 = tab.title.clone();
        }
    }

    /// Records a key press in tab `tab`; `keep`: the key itself, else only
    /// that a key was pressed (the keyboard gate's decision says which).
    pub(super) fn record_key(&self, tab: u16, key: &str, keep: bool) {
        if let Some(r) = &self.recording {
            r.rec.input(u32::from(tab), Input::Key { key }, keep);
        }
    }

    /// Records typed (or, `pasted`, pasted) text in tab `tab`; `keep`: the
    /// text, else only its length (the gate's decision says which).
    pub(super) fn record_text(&self, tab: u16, text: &str, pasted: bool, keep: bool) {
        if let Some(r) = &self.recording {
            let input = if pasted {
                Input::Paste(text)
            } else {
                Input::Text(text)
            };
            r.rec.input(u32::from(tab), input, keep);
        }
    }

    /// Records pointer input (clicks, wheel) in the active tab; keys and
    /// text are recorded by their gates ([`Actor::record_key`],
    /// [`Actor::record_text`]).
    pub(super) fn record_pointer(&self, msg: &ClientMsg) {
        let (Some(r), Some(tab)) = (&self.recording, self.active_tab()) else {
            return;
        };
        let t = u32::from(tab.id);
        match msg {
            ClientMsg::Mouse {
                kind: MouseKind::Down,
                x,
                y,
                button,
                ..
            } => r.rec.input(
                t,
                Input::MouseClick {
                    x: *x,
                    y: *y,
                    button: match button {
                        MouseButton::Middle => 1,
                        MouseButton::Right => 2,
                        MouseButton::Back => 3,
                        MouseButton::Forward => 4,
                        MouseButton::Left | MouseButton::None => 0,
                    },
                },
                false,
            ),
            ClientMsg::Mouse {
                kind: MouseKind::Wheel,
                x,
                y,
                dx,
                dy,
                ..
            } => r.rec.input(
                t,
                Input::Wheel {
                    x: *x,
                    y: *y,
                    dx: *dx,
                    dy: *dy,
                },
                false,
            ),
            _ => {}
        }
    }

    /// Records a gate decision (the store indexes incidents).
    pub(super) fn record_decision(&self, event: &GateEvent) {
        if let Some(r) = &self.recording {
            r.rec.decision(event.to_audit());
        }
    }

    /// Ends the recording with the session's end reason; waits for the seal
    /// on a blocking thread.
    pub(super) async fn end_recording(&mut self, reason: EndReason) {
        if let Some(r) = self.recording.take() {
            let reason = serde_json::to_value(reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{reason:?}"));
            let _ = tokio::task::spawn_blocking(move || r.rec.end(&reason)).await;
        }
    }
}
