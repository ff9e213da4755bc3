//! Client input mapped to CDP `Input.*` commands.
//!
//! Printable keys go as `keyDown` with `text` (Chromium then types the
//! character); special keys and shortcuts as `rawKeyDown` with `key`, `code`
//! and `windowsVirtualKeyCode` (without the code, Backspace does nothing).
//! Paste shortcuts are never forwarded: Chromium's clipboard is shared by every
//! session in the browser, so pasted text arrives only as a `paste` message.

use chromiumoxide::cdp::browser_protocol::input::{
    DispatchDragEventParams, DispatchKeyEventParams, DispatchKeyEventType,
    DispatchMouseEventParams, DispatchMouseEventType, DispatchTouchEventParams,
    DispatchTouchEventType, InsertTextParams, MouseButton as CdpButton,
    TouchPoint as CdpTouchPoint,
};

use crate::protocol::{KeyKind, MouseButton, MouseKind, TouchKind, TouchPoint};

pub use crate::protocol::mods;

/// One CDP input command for a tab, executed in order by the tab's input queue.
#[derive(Debug, Clone)]
pub enum InputCmd {
    /// Input.dispatchKeyEvent.
    Key(DispatchKeyEventParams),
    /// Input.dispatchMouseEvent.
    Mouse(DispatchMouseEventParams),
    /// Input.dispatchTouchEvent.
    Touch(DispatchTouchEventParams),
    /// Input.insertText.
    Text(InsertTextParams),
    /// Input.dispatchDragEvent (a drag the session intercepted).
    Drag(Box<DispatchDragEventParams>),
}

/// What a key message becomes.
#[derive(Debug)]
pub enum KeyAction {
    /// Send this to the page.
    Dispatch(Box<InputCmd>),
    /// A paste shortcut: dropped (the client sends the clipboard as `paste`).
    PasteShortcut,
    /// Ctrl/Cmd+P: the print gate decides (never Chromium's own print).
    PrintShortcut,
}

/// Maps a key message.
pub fn key(
    kind: KeyKind,
    key: &str,
    code: &str,
    key_code: u32,
    modifiers: u8,
    repeat: bool,
    location: u8,
) -> KeyAction {
    let command_key = modifiers & (mods::CTRL | mods::META) != 0;
    let is_paste = (command_key && (key.eq_ignore_ascii_case("v") || code == "KeyV"))
        || (modifiers & mods::SHIFT != 0 && key == "Insert")
        || key == "Paste";
    if is_paste {
        return KeyAction::PasteShortcut;
    }
    if command_key && (key.eq_ignore_ascii_case("p") || code == "KeyP") {
        // Down and up are both swallowed; the session prints on the down.
        return KeyAction::PrintShortcut;
    }
    // A printable key is one character (one grapheme at most a few chars) with
    // no Ctrl/Meta; AltGr combinations arrive as the composed character.
    let printable = !command_key && key.chars().count() == 1;
    let text = match key {
        _ if printable => Some(key.to_owned()),
        "Enter" if !command_key => Some("\r".to_owned()),
        _ => None,
    };
    let kind = match kind {
        KeyKind::Up => DispatchKeyEventType::KeyUp,
        KeyKind::Down if text.is_some() => DispatchKeyEventType::KeyDown,
        KeyKind::Down => DispatchKeyEventType::RawKeyDown,
    };
    let key_code = if key_code == 0 {
        fallback_key_code(key, code)
    } else {
        key_code
    };
    let is_up = kind == DispatchKeyEventType::KeyUp;
    let params = DispatchKeyEventParams {
        r#type: kind,
        modifiers: Some(i64::from(modifiers & 0x0f)),
        timestamp: None,
        unmodified_text: text.clone().filter(|_| !is_up),
        text: text.filter(|_| !is_up),
        key_identifier: None,
        code: (!code.is_empty()).then(|| code.to_owned()),
        key: Some(key.to_owned()),
        windows_virtual_key_code: (key_code != 0).then_some(i64::from(key_code)),
        native_virtual_key_code: (key_code != 0).then_some(i64::from(key_code)),
        auto_repeat: Some(repeat),
        is_keypad: Some(location == 3),
        is_system_key: None,
        location: (location != 0).then_some(i64::from(location)),
        commands: None,
    };
    KeyAction::Dispatch(Box::new(InputCmd::Key(params)))
}

/// Windows virtual key codes for keys whose DOM `keyCode` the client did not send.
fn fallback_key_code(key: &str, code: &str) -> u32 {
    match key {
        "Backspace" => 8,
        "Tab" => 9,
        "Enter" => 13,
        "Shift" => 16,
        "Control" => 17,
        "Alt" => 18,
        "Pause" => 19,
        "CapsLock" => 20,
        "Escape" => 27,
        " " => 32,
        "PageUp" => 33,
        "PageDown" => 34,
        "End" => 35,
        "Home" => 36,
        "ArrowLeft" => 37,
        "ArrowUp" => 38,
        "ArrowRight" => 39,
        "ArrowDown" => 40,
        "Insert" => 45,
        "Delete" => 46,
        "Meta" => 91,
        "ContextMenu" => 93,
        _ => {
            if let Some(n) = key.strip_prefix('F').and_then(|n| n.parse::<u32>().ok()) {
                if (1..=24).contains(&n) {
                    return 111 + n;
                }
            }
            if let Some(c) = code.strip_prefix("Key") {
                if let Some(ch) = c.chars().next().filter(|c| c.is_ascii_uppercase()) {
                    return ch as u32;
                }
            }
            if let Some(d) = code.strip_prefix("Digit") {
                if let Some(ch) = d.chars().next().filter(char::is_ascii_digit) {
                    return ch as u32;
                }
            }
            0
        }
    }
}

/// Maps committed text (IME) or pasted text.
pub fn insert_text(text: &str) -> InputCmd {
    InputCmd::Text(InsertTextParams::new(text))
}

/// Maps a mouse message.
#[allow(clippy::too_many_arguments)]
pub fn mouse(
    kind: MouseKind,
    x: f64,
    y: f64,
    button: MouseButton,
    buttons: u8,
    clicks: u8,
    modifiers: u8,
    dx: f64,
    dy: f64,
) -> InputCmd {
    let kind = match kind {
        MouseKind::Move => DispatchMouseEventType::MouseMoved,
        MouseKind::Down => DispatchMouseEventType::MousePressed,
        MouseKind::Up => DispatchMouseEventType::MouseReleased,
        MouseKind::Wheel => DispatchMouseEventType::MouseWheel,
    };
    let button = match button {
        MouseButton::None => CdpButton::None,
        MouseButton::Left => CdpButton::Left,
        MouseButton::Middle => CdpButton::Middle,
        MouseButton::Right => CdpButton::Right,
        MouseButton::Back => CdpButton::Back,
        MouseButton::Forward => CdpButton::Forward,
    };
    let pressing = matches!(
        kind,
        DispatchMouseEventType::MousePressed | DispatchMouseEventType::MouseReleased
    );
    let wheel = kind == DispatchMouseEventType::MouseWheel;
    InputCmd::Mouse(DispatchMouseEventParams {
        r#type: kind,
        x,
        y,
        modifiers: Some(i64::from(modifiers & 0x0f)),
        timestamp: None,
        button: Some(button),
        buttons: Some(i64::from(buttons)),
        click_count: pressing.then_some(i64::from(clicks.clamp(1, 3))),
        force: None,
        tangential_pressure: None,
        tilt_x: None,
        tilt_y: None,
        twist: None,
        delta_x: wheel.then_some(dx),
        delta_y: wheel.then_some(dy),
        pointer_type: None,
    })
}

/// Maps a touch message.
pub fn touch(kind: TouchKind, points: &[TouchPoint], modifiers: u8) -> InputCmd {
    let kind = match kind {
        TouchKind::Start => DispatchTouchEventType::TouchStart,
        TouchKind::Move => DispatchTouchEventType::TouchMove,
        TouchKind::End => DispatchTouchEventType::TouchEnd,
        TouchKind::Cancel => DispatchTouchEventType::TouchCancel,
    };
    let points = points
        .iter()
        .map(|p| {
            let mut tp = CdpTouchPoint::new(p.x, p.y);
            tp.id = Some(f64::from(p.id));
            tp
        })
        .collect();
    let mut params = DispatchTouchEventParams::new(kind, points);
    params.modifiers = Some(i64::from(modifiers & 0x0f));
    InputCmd::Touch(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_params(action: KeyAction) -> DispatchKeyEventParams {
        match action {
            KeyAction::Dispatch(cmd) => match *cmd {
                InputCmd::Key(p) => p,
                other => panic!("expected a key event, got {other:?}"),
            },
            other => panic!("expected a key event, got {other:?}"),
        }
    }

    #[test]
    fn printable_keys_carry_text() {
        let p = key_params(key(KeyKind::Down, "a", "KeyA", 65, 0, false, 0));
        assert_eq!(p.r#type, DispatchKeyEventType::KeyDown);
        assert_eq!(p.text.as_deref(), Some("a"));
        let p = key_params(key(KeyKind::Up, "a", "KeyA", 65, 0, false, 0));
        assert_eq!(p.r#type, DispatchKeyEventType::KeyUp);
        assert_eq!(p.text, None);
    }

    #[test]
    fn special_keys_are_raw_with_key_codes() {
        let p = key_params(key(KeyKind::Down, "Backspace", "Backspace", 0, 0, false, 0));
        assert_eq!(p.r#type, DispatchKeyEventType::RawKeyDown);
        assert_eq!(p.windows_virtual_key_code, Some(8));
        let p = key_params(key(KeyKind::Down, "F5", "F5", 0, 0, false, 0));
        assert_eq!(p.windows_virtual_key_code, Some(116));
        let p = key_params(key(KeyKind::Down, "Enter", "Enter", 13, 0, false, 0));
        assert_eq!(p.text.as_deref(), Some("\r"));
    }

    #[test]
    fn shortcuts_are_raw_and_paste_is_dropped() {
        let p = key_params(key(KeyKind::Down, "a", "KeyA", 65, mods::CTRL, false, 0));
        assert_eq!(p.r#type, DispatchKeyEventType::RawKeyDown);
        assert_eq!(p.text, None);
        assert_eq!(p.modifiers, Some(2));
        for (k, c, m) in [
            ("v", "KeyV", mods::CTRL),
            ("V", "KeyV", mods::CTRL | mods::SHIFT),
            ("v", "KeyV", mods::META),
            ("Insert", "Insert", mods::SHIFT),
            ("Paste", "", 0),
        ] {
            assert!(
                matches!(
                    key(KeyKind::Down, k, c, 0, m, false, 0),
                    KeyAction::PasteShortcut
                ),
                "{k} {m}"
            );
        }
    }

    #[test]
    fn wheel_carries_deltas_and_clicks_counts() {
        match mouse(
            MouseKind::Wheel,
            5.0,
            6.0,
            MouseButton::None,
            0,
            0,
            0,
            0.0,
            120.0,
        ) {
            InputCmd::Mouse(p) => {
                assert_eq!(p.delta_y, Some(120.0));
                assert_eq!(p.click_count, None);
            }
            other => panic!("{other:?}"),
        }
        match mouse(
            MouseKind::Down,
            5.0,
            6.0,
            MouseButton::Left,
            1,
            2,
            0,
            0.0,
            0.0,
        ) {
            InputCmd::Mouse(p) => assert_eq!(p.click_count, Some(2)),
            other => panic!("{other:?}"),
        }
    }
}
