//! The record model: what a recording holds.
//!
//! [`Event`] is serde-serializable (tagged `"type"`, frames as base64) so the
//! search API and the player can ship events as JSON unchanged. On disk, frames
//! use a compact binary payload and everything else JSON (see [`super::format`]).
//!
//! Redaction happens here, at construction: [`InputEvent::new`] reduces typed
//! or pasted text to its length unless the caller passes `keep = true`, and a
//! single printable key is recorded as "a character", never which one.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The session began.
    SessionStart {
        /// Session id.
        session: String,
        /// User name.
        user: String,
        /// The user's groups.
        groups: Vec<String>,
        /// The client's address (as the server saw it).
        client_addr: String,
        /// The client's User-Agent header.
        user_agent: String,
    },
    /// The session ended.
    SessionEnd {
        /// Why (e.g. "logout", "idle timeout", "server shutdown").
        reason: String,
    },
    /// A screen frame, stored exactly as streamed.
    Frame(Frame),
    /// A tab navigated.
    Navigation {
        /// Tab id.
        tab: u32,
        /// The new URL.
        url: String,
    },
    /// A tab's title changed.
    Title {
        /// Tab id.
        tab: u32,
        /// The new title.
        title: String,
    },
    /// Client input, redacted.
    Input(InputEvent),
    /// An enforcement decision.
    Decision(DecisionEvent),
}

impl Event {
    /// A short name of the event's type (`"frame"`, `"navigation"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::SessionStart { .. } => "session_start",
            Event::SessionEnd { .. } => "session_end",
            Event::Frame(_) => "frame",
            Event::Navigation { .. } => "navigation",
            Event::Title { .. } => "title",
            Event::Input(_) => "input",
            Event::Decision(_) => "decision",
        }
    }
}

/// A JPEG frame of one tab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// Tab id.
    pub tab: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The JPEG bytes (shared: frames are large and fan out to several readers).
    #[serde(with = "b64")]
    pub jpeg: Arc<[u8]>,
}

/// What kind of input the client sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A key press.
    Key,
    /// Typed text (IME, composed input).
    Text,
    /// A paste.
    Paste,
    /// A mouse click.
    MouseClick,
    /// A wheel scroll.
    Wheel,
}

/// Input as the caller has it, before redaction.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// A key press with its DOM `key` value (`"a"`, `"Enter"`).
    Key {
        /// The DOM key value.
        key: &'a str,
    },
    /// Typed text.
    Text(&'a str),
    /// Pasted text.
    Paste(&'a str),
    /// A click at page coordinates.
    MouseClick {
        /// X in CSS pixels.
        x: f64,
        /// Y in CSS pixels.
        y: f64,
        /// Button (0 left, 1 middle, 2 right).
        button: u8,
    },
    /// A wheel scroll at page coordinates.
    Wheel {
        /// X in CSS pixels.
        x: f64,
        /// Y in CSS pixels.
        y: f64,
        /// Horizontal delta.
        dx: f64,
        /// Vertical delta.
        dy: f64,
    },
}

/// A recorded (redacted) input event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputEvent {
    /// Tab id.
    pub tab: u32,
    /// The kind.
    pub kind: InputKind,
    /// For keys: the key name if it is a named key (`"Enter"`, `"Backspace"`);
    /// `"<char>"` for a printable character unless kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For text and paste: the length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_len: Option<usize>,
    /// For text and paste: the text itself, only when kept explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Pointer position (clicks and wheel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<(f64, f64)>,
    /// Click button or wheel deltas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<u8>,
    /// Wheel deltas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<(f64, f64)>,
}

impl InputEvent {
    /// Builds a recorded input event, redacting text and printable keys
    /// unless `keep` is set (a policy allowed keeping typed text).
    pub fn new(tab: u32, input: Input<'_>, keep: bool) -> InputEvent {
        let mut ev = InputEvent {
            tab,
            kind: InputKind::Key,
            key: None,
            text_len: None,
            text: None,
            at: None,
            button: None,
            delta: None,
        };
        match input {
            Input::Key { key } => {
                let printable = key.chars().count() == 1;
                ev.key = Some(if printable && !keep {
                    "<char>".to_owned()
                } else {
                    key.chars().take(32).collect()
                });
            }
            Input::Text(text) | Input::Paste(text) => {
                ev.kind = if matches!(input, Input::Text(_)) {
                    InputKind::Text
                } else {
                    InputKind::Paste
                };
                ev.text_len = Some(text.chars().count());
                if keep {
                    ev.text = Some(text.to_owned());
                }
            }
            Input::MouseClick { x, y, button } => {
                ev.kind = InputKind::MouseClick;
                ev.at = Some((x, y));
                ev.button = Some(button);
            }
            Input::Wheel { x, y, dx, dy } => {
                ev.kind = InputKind::Wheel;
                ev.at = Some((x, y));
                ev.delta = Some((dx, dy));
            }
        }
        ev
    }
}

/// The outcome of an enforcement decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Let through.
    Allow,
    /// Stopped.
    Block,
    /// Let through and flagged for audit.
    Audit,
}

impl Decision {
    /// The decision's name as stored in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Block => "block",
            Decision::Audit => "audit",
        }
    }
}

/// An enforcement decision, as the enforcement hooks report it.
///
/// `evidence` must already be redacted by the caller (the enforcer's masked
/// snippets); the store never sees raw matched data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionEvent {
    /// Tab id, if the action belongs to a tab.
    #[serde(default)]
    pub tab: Option<u32>,
    /// The gate: `keyboard`, `paste`, `copy`, `upload`, `download`, `submit`, `print`.
    pub gate: String,
    /// What was attempted (e.g. "upload report.pdf").
    pub action: String,
    /// The outcome.
    pub decision: Decision,
    /// The rule that decided, if any.
    #[serde(default)]
    pub rule: Option<String>,
    /// The application (site) the action happened on.
    #[serde(default)]
    pub app: Option<String>,
    /// The page URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Detector ids that matched.
    #[serde(default)]
    pub detectors: Vec<String>,
    /// Redacted evidence snippets.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Human-readable reason.
    #[serde(default)]
    pub reason: String,
}

impl DecisionEvent {
    /// Whether this decision is an incident (indexed for search): anything
    /// blocked or audited, or any allow on which a detector fired.
    pub fn is_incident(&self) -> bool {
        self.decision != Decision::Allow || !self.detectors.is_empty()
    }
}

mod b64 {
    use std::sync::Arc;

    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Arc<[u8]>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[u8]>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Arc::from)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_is_redacted_unless_kept() {
        let ev = InputEvent::new(1, Input::Text("hunter2"), false);
        assert_eq!(ev.text_len, Some(7));
        assert_eq!(ev.text, None);
        let json = serde_json::to_string(&Event::Input(ev)).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        let kept = InputEvent::new(1, Input::Paste("hello"), true);
        assert_eq!(kept.text.as_deref(), Some("hello"));
        assert_eq!(kept.kind, InputKind::Paste);
    }

    #[test]
    fn printable_keys_are_redacted_named_keys_kept() {
        assert_eq!(
            InputEvent::new(1, Input::Key { key: "x" }, false)
                .key
                .as_deref(),
            Some("<char>")
        );
        assert_eq!(
            InputEvent::new(1, Input::Key { key: "Enter" }, false)
                .key
                .as_deref(),
            Some("Enter")
        );
    }

    #[test]
    fn frame_serializes_as_base64() {
        let ev = Event::Frame(Frame {
            tab: 1,
            width: 2,
            height: 3,
            jpeg: Arc::from(&b"\xff\xd8abc"[..]),
        });
        let json = serde_json::to_string(&ev).unwrap();
        assert!(json.contains("\"type\":\"frame\""), "{json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ev);
    }
}
