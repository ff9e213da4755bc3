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

impl Recording {
    /// Records a frame the client is shown (no copy here: the writer thread copies).
    pub fn frame(&self, frame: &Arc<FrameData>) {
        let jpeg: Arc<dyn AsRef<[u8]> + Send + Sync> = frame.clone();
        self.rec.frame(
            u32::from(frame.tab),
            u32::from(frame.width),
            u32::from(frame.height),
            jpeg,
        );
    }

    /// Records a tab's URL (without query, fragment or credentials) and
    /// title when they changed.
    pub fn tab(&self, tab_id: u16, url: &str, title: &str) {
        // A new tab's about:blank is not somewhere the user went.
        let url = if url.is_empty() || url == "about:blank" {
            String::new()
        } else {
            redact_url(url)
        };
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let last = seen.entry(tab_id).or_default();
        if !url.is_empty() && last.0 != url {
            self.rec.navigation(u32::from(tab_id), &url);
            last.0 = url;
        }
        if last.1 != title {
            self.rec.title(u32::from(tab_id), title);
            last.1 = title.to_owned();
        }
    }

    /// Records a key press in tab `tab`; `keep`: the key itself, else only
    /// that a key was pressed (the keyboard gate's decision says which).
    pub fn key(&self, tab: u16, key: &str, keep: bool) {
        self.rec.input(u32::from(tab), Input::Key { key }, keep);
    }

    /// Records typed (or, `pasted`, pasted) text in tab `tab`; `keep`: the
    /// text, else only its length (the gate's decision says which).
    pub fn text(&self, tab: u16, text: &str, pasted: bool, keep: bool) {
        let input = if pasted {
            Input::Paste(text)
        } else {
            Input::Text(text)
        };
        self.rec.input(u32::from(tab), input, keep);
    }

    /// Records pointer input (clicks, wheel) in tab `tab`; keys and text
    /// are recorded by their gates.
    pub fn pointer(&self, tab: u16, msg: &ClientMsg) {
        let t = u32::from(tab);
        match msg {
            ClientMsg::Mouse {
                kind: MouseKind::Down,
                x,
                y,
                button,
                ..
            } => self.rec.input(
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
            } => self.rec.input(
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
    pub fn decision(&self, event: &GateEvent) {
        self.rec.decision(event.to_audit());
    }

    /// Ends the recording with the session's end reason; waits for the seal
    /// on a blocking thread.
    pub async fn end(self, reason: EndReason) {
        let reason = serde_json::to_value(reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{reason:?}"));
        let _ = tokio::task::spawn_blocking(move || self.rec.end(&reason)).await;
    }
}

/// The actor's hooks: each hands its part to the recording, if any.
impl Actor {
    pub(super) fn record_frame(&self, frame: &Arc<FrameData>) {
        if let Some(r) = &self.recording {
            r.frame(frame);
        }
    }

    pub(super) fn record_tab(&self, tab_id: u16) {
        if let (Some(r), Some(t)) = (&self.recording, self.tab(tab_id)) {
            r.tab(tab_id, &t.url, &t.title);
        }
    }

    pub(super) fn record_key(&self, tab: u16, key: &str, keep: bool) {
        if let Some(r) = &self.recording {
            r.key(tab, key, keep);
        }
    }

    pub(super) fn record_text(&self, tab: u16, text: &str, pasted: bool, keep: bool) {
        if let Some(r) = &self.recording {
            r.text(tab, text, pasted, keep);
        }
    }

    pub(super) fn record_pointer(&self, msg: &ClientMsg) {
        if let Some(r) = &self.recording {
            r.pointer(self.tabs.active(), msg);
        }
    }

    pub(super) fn record_decision(&self, event: &GateEvent) {
        if let Some(r) = &self.recording {
            r.decision(event);
        }
    }

    pub(super) async fn end_recording(&mut self, reason: EndReason) {
        if let Some(r) = self.recording.take() {
            r.end(reason).await;
        }
    }
}
