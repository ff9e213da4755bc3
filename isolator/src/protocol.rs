//! The client protocol, version 1 (`docs/protocol.md` is the contract).
//!
//! Client messages are decoded strictly: unknown types, unknown fields,
//! wrong types and out-of-range values are refused with a message that says
//! what was wrong, never a panic. Frames go out as binary messages with a
//! 16-byte header.

use serde::{Deserialize, Serialize};

/// The protocol version spoken by this server.
pub const PROTOCOL_VERSION: u32 = 1;
/// The WebSocket sub-protocol naming it.
pub const SUBPROTOCOL: &str = "isolator.v1";
/// Prefix of the sub-protocol entry carrying the session token.
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "isolator.token.";
/// Largest client message accepted, in bytes.
pub const MAX_CLIENT_MESSAGE: usize = 4 << 20;
/// Size of the binary frame header.
pub const FRAME_HEADER_LEN: usize = 16;

/// A message from the client.
#[derive(Clone, Debug, PartialEq, Deserialize)]
// Field-less messages are empty struct variants (`Back {}`) so that
// `deny_unknown_fields` applies to them too.
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// The viewport changed.
    Resize {
        /// CSS pixels.
        width: u32,
        /// CSS pixels.
        height: u32,
        /// Device pixel ratio.
        dpr: f64,
    },
    /// Address bar input.
    Navigate {
        /// What the user typed.
        url: String,
    },
    /// History back.
    Back {},
    /// History forward.
    Forward {},
    /// Reload the page.
    Reload {},
    /// Stop loading.
    Stop {},
    /// A key went down or up.
    Key {
        /// `down` or `up`.
        #[serde(rename = "type")]
        kind: KeyKind,
        /// DOM `key`.
        key: String,
        /// DOM `code`.
        #[serde(default)]
        code: String,
        /// DOM `keyCode` (a Windows virtual key code).
        #[serde(default)]
        key_code: u32,
        /// Modifier bits: 1 Alt, 2 Ctrl, 4 Meta, 8 Shift.
        #[serde(default)]
        mods: u8,
        /// Auto-repeat.
        #[serde(default)]
        repeat: bool,
        /// DOM `location` (0 standard, 1 left, 2 right, 3 numpad).
        #[serde(default)]
        location: u8,
    },
    /// Committed text (IME).
    Text {
        /// The text.
        text: String,
    },
    /// Pointer input.
    Mouse {
        /// What happened.
        #[serde(rename = "type")]
        kind: MouseKind,
        /// CSS px from the viewport's left.
        x: f64,
        /// CSS px from the viewport's top.
        y: f64,
        /// The button that changed.
        #[serde(default)]
        button: MouseButton,
        /// Buttons held (DOM `buttons` bits).
        #[serde(default)]
        buttons: u8,
        /// Click count (DOM `detail`).
        #[serde(default)]
        clicks: u8,
        /// Modifier bits.
        #[serde(default)]
        mods: u8,
        /// Wheel delta, px.
        #[serde(default)]
        dx: f64,
        /// Wheel delta, px.
        #[serde(default)]
        dy: f64,
    },
    /// Touch input.
    Touch {
        /// What happened.
        #[serde(rename = "type")]
        kind: TouchKind,
        /// Active touch points.
        points: Vec<TouchPoint>,
    },
    /// Local clipboard text to paste.
    Paste {
        /// The text.
        text: String,
    },
    /// A frame was drawn.
    FrameAck {
        /// Its sequence number.
        seq: u32,
    },
    /// Answer to a page dialog.
    Dialog {
        /// The dialog's id.
        id: u64,
        /// OK (true) or Cancel (false).
        accept: bool,
        /// Prompt answer.
        #[serde(default)]
        text: Option<String>,
    },
    /// Tab control.
    Tab {
        /// `switch` or `close`.
        action: TabAction,
        /// The tab.
        id: u16,
    },
    /// End the session.
    Close {},
    /// Keep-alive.
    Ping {
        /// Echoed back.
        #[serde(default)]
        id: u64,
    },
    /// Print the active tab (toolbar button; Ctrl/Cmd+P arrives as a key).
    Print {},
    /// The user cancelled the file picker of a `file_chooser`.
    FileChooserCancel {
        /// The chooser's id.
        id: u64,
    },
    /// The user copied page text the client draws itself (a dialog's
    /// message, the address, a tab title, a notice): the copy gate decides
    /// and answers with `copy` when it passes.
    CopyText {
        /// The selected text.
        text: String,
    },
}

/// Key event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Pressed.
    Down,
    /// Released.
    Up,
}

/// Mouse event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MouseKind {
    /// Moved.
    Move,
    /// Button pressed.
    Down,
    /// Button released.
    Up,
    /// Wheel scrolled.
    Wheel,
}

/// Mouse button.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MouseButton {
    /// No button.
    #[default]
    None,
    /// Primary.
    Left,
    /// Auxiliary.
    Middle,
    /// Secondary.
    Right,
    /// Back.
    Back,
    /// Forward.
    Forward,
}

/// Touch event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TouchKind {
    /// Touch start.
    Start,
    /// Touch move.
    Move,
    /// Touch end.
    End,
    /// Touch cancel.
    Cancel,
}

/// One touch point.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TouchPoint {
    /// Touch identifier.
    pub id: u32,
    /// CSS px.
    pub x: f64,
    /// CSS px.
    pub y: f64,
}

/// Tab control action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TabAction {
    /// Make it the visible tab.
    Switch,
    /// Close it.
    Close,
}

/// Why a client message was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    /// Larger than [`MAX_CLIENT_MESSAGE`].
    #[error("message of {0} bytes is larger than the limit of {MAX_CLIENT_MESSAGE} bytes")]
    TooLarge(usize),
    /// Not JSON, unknown type, unknown or mistyped field.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A value outside its range.
    #[error("invalid `{field}`: {message}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// What is allowed.
        message: &'static str,
    },
}

impl ClientMsg {
    /// Decodes and validates one text message.
    pub fn decode(text: &str) -> Result<ClientMsg, DecodeError> {
        if text.len() > MAX_CLIENT_MESSAGE {
            return Err(DecodeError::TooLarge(text.len()));
        }
        let msg: ClientMsg = serde_json::from_str(text).map_err(|e| {
            // serde_json's messages name the field and column, never internal state.
            DecodeError::Malformed(e.to_string())
        })?;
        msg.validate()?;
        Ok(msg)
    }

    fn validate(&self) -> Result<(), DecodeError> {
        let range = |ok: bool, field, message| {
            if ok {
                Ok(())
            } else {
                Err(DecodeError::OutOfRange { field, message })
            }
        };
        let coord = |v: f64| v.is_finite() && (-100_000.0..=100_000.0).contains(&v);
        match self {
            ClientMsg::Resize { width, height, dpr } => {
                range((100..=4096).contains(width), "width", "100 to 4096")?;
                range((100..=4096).contains(height), "height", "100 to 4096")?;
                range(
                    dpr.is_finite() && (0.5..=4.0).contains(dpr),
                    "dpr",
                    "0.5 to 4",
                )
            }
            ClientMsg::Navigate { url } => {
                range(!url.trim().is_empty(), "url", "must not be empty")?;
                range(url.len() <= 8192, "url", "at most 8192 bytes")
            }
            ClientMsg::Key { key, code, .. } => {
                range(!key.is_empty() && key.len() <= 32, "key", "1 to 32 bytes")?;
                range(code.len() <= 32, "code", "at most 32 bytes")
            }
            ClientMsg::Text { text } => {
                range(!text.is_empty(), "text", "must not be empty")?;
                range(
                    text.chars().count() <= 1024,
                    "text",
                    "at most 1024 characters",
                )
            }
            ClientMsg::Mouse { x, y, dx, dy, .. } => {
                range(coord(*x) && coord(*y), "x/y", "finite, within 100000 px")?;
                range(
                    coord(*dx) && coord(*dy),
                    "dx/dy",
                    "finite, within 100000 px",
                )
            }
            ClientMsg::Touch { points, .. } => {
                range(points.len() <= 10, "points", "at most 10")?;
                range(
                    points.iter().all(|p| coord(p.x) && coord(p.y)),
                    "points",
                    "finite coordinates",
                )
            }
            ClientMsg::Dialog { text, .. } => range(
                text.as_ref().is_none_or(|t| t.len() <= 8192),
                "text",
                "at most 8192 bytes",
            ),
            _ => Ok(()),
        }
    }
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The user (or an admin) closed it.
    Closed,
    /// No input for the idle timeout.
    Idle,
    /// The shared browser process died.
    BrowserCrashed,
    /// Another socket attached to the session.
    Replaced,
    /// An admin terminated it.
    Terminated,
    /// The server is shutting down.
    Shutdown,
    /// The server was drained (taken out of service); a new session starts
    /// on another server of the cluster.
    Drained,
    /// The cluster node holding the session stopped (it crashed or was
    /// killed): the session is gone with it.
    NodeLost,
    /// An error on our side.
    Error,
}

impl EndReason {
    /// A sentence for the user.
    pub fn message(self) -> &'static str {
        match self {
            EndReason::Closed => "The session was closed.",
            EndReason::Idle => "The session ended after a period without activity.",
            EndReason::BrowserCrashed => {
                "The remote browser stopped unexpectedly, so this session could not be kept. Start a new session to continue."
            }
            EndReason::Replaced => "This session was opened in another window.",
            EndReason::Terminated => "An administrator ended this session.",
            EndReason::Shutdown => "The server is restarting. Start a new session in a moment.",
            EndReason::NodeLost => {
                "The server running your remote browser stopped, so this session could not be kept. Start a new session: it opens on another server."
            }
            EndReason::Drained => {
                "This server was taken out of service for maintenance. Start a new session to continue: it opens on another server."
            }
            EndReason::Error => "The session failed on the server. Start a new session.",
        }
    }
}

/// Severity of a notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeLevel {
    /// Informational.
    Info,
    /// Something went wrong but browsing goes on.
    Warn,
    /// An action was blocked by policy.
    Block,
}

/// One tab in the tab list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TabInfo {
    /// Tab id.
    pub id: u16,
    /// Current URL.
    pub url: String,
    /// Page title.
    pub title: String,
}

/// A message to the client (text).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Attached.
    Ready {
        /// Protocol version.
        protocol: u32,
        /// Session id.
        session: String,
        /// User name.
        user: String,
        /// Re-attached to an existing page.
        resumed: bool,
    },
    /// Navigation state of the active tab.
    State {
        /// Tab id.
        tab: u16,
        /// URL.
        url: String,
        /// Title.
        title: String,
        /// Loading.
        loading: bool,
        /// History back possible.
        can_back: bool,
        /// History forward possible.
        can_forward: bool,
    },
    /// Tab list.
    Tabs {
        /// The tabs.
        tabs: Vec<TabInfo>,
        /// The visible one.
        active: u16,
    },
    /// Cursor under the pointer.
    Cursor {
        /// CSS cursor.
        cursor: String,
    },
    /// A page dialog waits.
    Dialog {
        /// Dialog id.
        id: u64,
        /// alert, confirm, prompt, beforeunload.
        kind: String,
        /// Its text.
        message: String,
        /// Prompt default.
        default: String,
    },
    /// A dialog closed on its own.
    DialogClosed {
        /// Dialog id.
        id: u64,
    },
    /// Something to tell the user.
    Notice {
        /// Severity.
        level: NoticeLevel,
        /// Machine-readable code.
        code: String,
        /// Sentence for the user.
        message: String,
    },
    /// A client message was refused.
    Error {
        /// Machine-readable code.
        code: String,
        /// What was wrong.
        message: String,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: EndReason,
        /// Sentence for the user.
        message: String,
    },
    /// Keep-alive answer.
    Pong {
        /// Echo.
        id: u64,
    },
    /// Text the page copied and the copy gate allowed: the client writes it
    /// to the user's clipboard.
    Copy {
        /// The text.
        text: String,
    },
    /// The page opened a file chooser: the client offers a file picker and
    /// uploads the chosen files to `POST /api/sessions/{id}/uploads?chooser=<id>`.
    FileChooser {
        /// Chooser id.
        id: u64,
        /// Several files may be chosen.
        multiple: bool,
        /// The input's `accept` attribute (may be empty).
        accept: String,
    },
    /// A file the download gate allowed: `GET /api/sessions/{id}/downloads/<id>`.
    Download {
        /// Download id.
        id: u64,
        /// File name.
        name: String,
        /// Bytes.
        size: u64,
    },
}

impl ServerMsg {
    /// JSON text of the message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }

    /// An `ended` message with the reason's sentence.
    pub fn ended(reason: EndReason) -> ServerMsg {
        ServerMsg::Ended {
            reason,
            message: reason.message().to_owned(),
        }
    }
}

/// Header fields of a binary frame message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// First frame after attach or tab switch.
    pub first: bool,
    /// Tab id.
    pub tab: u16,
    /// Sequence number on this socket.
    pub seq: u32,
    /// CSS px covered.
    pub width: u16,
    /// CSS px covered.
    pub height: u16,
}

impl FrameHeader {
    /// Header followed by the JPEG bytes, ready to send.
    pub fn encode(&self, jpeg: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAME_HEADER_LEN + jpeg.len());
        out.push(1);
        out.push(u8::from(self.first));
        out.extend_from_slice(&self.tab.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(jpeg);
        out
    }

    /// Parses a frame message (used by tests and tools).
    pub fn decode(msg: &[u8]) -> Option<(FrameHeader, &[u8])> {
        if msg.len() < FRAME_HEADER_LEN || msg[0] != 1 {
            return None;
        }
        let u16_at = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]);
        let header = FrameHeader {
            first: msg[1] & 1 == 1,
            tab: u16_at(2),
            seq: u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]),
            width: u16_at(8),
            height: u16_at(10),
        };
        Some((header, &msg[FRAME_HEADER_LEN..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_kind() {
        let cases = [
            r#"{"t":"resize","width":1280,"height":720,"dpr":1}"#,
            r#"{"t":"navigate","url":"example.com"}"#,
            r#"{"t":"back"}"#,
            r#"{"t":"key","type":"down","key":"a","code":"KeyA","key_code":65,"mods":0,"repeat":false,"location":0}"#,
            r#"{"t":"text","text":"日本"}"#,
            r#"{"t":"mouse","type":"wheel","x":1,"y":2,"dx":0,"dy":120}"#,
            r#"{"t":"touch","type":"start","points":[{"id":1,"x":3,"y":4}]}"#,
            r#"{"t":"paste","text":"hi"}"#,
            r#"{"t":"frame_ack","seq":7}"#,
            r#"{"t":"dialog","id":1,"accept":true,"text":"x"}"#,
            r#"{"t":"tab","action":"switch","id":2}"#,
            r#"{"t":"close"}"#,
            r#"{"t":"ping","id":5}"#,
        ];
        for c in cases {
            ClientMsg::decode(c).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
    }

    #[test]
    fn refuses_bad_messages_with_reasons() {
        let cases: &[(&str, &str)] = &[
            ("not json", "malformed"),
            (r#"{"t":"launch_missiles"}"#, "unknown variant"),
            (r#"{"t":"back","extra":1}"#, "unknown field"),
            (
                r#"{"t":"resize","width":"wide","height":1,"dpr":1}"#,
                "invalid type",
            ),
            (
                r#"{"t":"resize","width":10,"height":720,"dpr":1}"#,
                "`width`",
            ),
            (
                r#"{"t":"resize","width":1000,"height":720,"dpr":9}"#,
                "`dpr`",
            ),
            (r#"{"t":"navigate","url":"  "}"#, "`url`"),
            (r#"{"t":"mouse","type":"move","x":1e308,"y":0}"#, "`x/y`"),
            (r#"{"t":"key","type":"down","key":""}"#, "`key`"),
            (r#"{"t":"frame_ack","seq":-1}"#, "invalid value"),
            (
                r#"{"t":"touch","type":"start","points":[{"id":1,"x":1,"y":1,"z":1}]}"#,
                "unknown field",
            ),
        ];
        for (input, expect) in cases {
            let err = ClientMsg::decode(input).unwrap_err().to_string();
            assert!(err.contains(expect), "{input}: {err}");
        }
        let huge = format!(
            r#"{{"t":"paste","text":"{}"}}"#,
            "a".repeat(MAX_CLIENT_MESSAGE)
        );
        assert!(matches!(
            ClientMsg::decode(&huge),
            Err(DecodeError::TooLarge(_))
        ));
    }

    #[test]
    fn frame_header_round_trips() {
        let h = FrameHeader {
            first: true,
            tab: 3,
            seq: 0xdead_beef,
            width: 1280,
            height: 720,
        };
        let msg = h.encode(b"jpeg");
        assert_eq!(msg.len(), FRAME_HEADER_LEN + 4);
        let (back, body) = FrameHeader::decode(&msg).unwrap();
        assert_eq!(back, h);
        assert_eq!(body, b"jpeg");
        assert!(FrameHeader::decode(&msg[..10]).is_none());
    }

    #[test]
    fn server_messages_serialize_as_documented() {
        let json = ServerMsg::ended(EndReason::BrowserCrashed).to_json();
        assert!(json.contains(r#""t":"ended""#) && json.contains(r#""reason":"browser_crashed""#));
        let json = ServerMsg::Notice {
            level: NoticeLevel::Block,
            code: "x".into(),
            message: "m".into(),
        }
        .to_json();
        assert!(json.contains(r#""level":"block""#), "{json}");
    }
}

/// Modifier bits as CDP and the protocol define them.
pub mod mods {
    /// Alt.
    pub const ALT: u8 = 1;
    /// Control.
    pub const CTRL: u8 = 2;
    /// Meta (Cmd).
    pub const META: u8 = 4;
    /// Shift.
    pub const SHIFT: u8 = 8;
}
