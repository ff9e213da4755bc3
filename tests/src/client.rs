//! A real headless Chromium playing the user's browser: it opens the web
//! client and is driven with real (CDP-dispatched) keyboard and mouse events,
//! which the web client's own handlers receive.

use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::input::{
    DispatchKeyEventParams, DispatchKeyEventType, DispatchMouseEventParams, DispatchMouseEventType,
    MouseButton,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::Page;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The client browser with one page on the web client.
pub struct Client {
    browser: Browser,
    /// The page showing the web client.
    pub page: Page,
    _dir: tempfile::TempDir,
    handler: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Launches a client browser and opens `url` (a web client URL).
    pub async fn open(url: &str) -> Client {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = BrowserConfig::builder()
            .chrome_executable("/usr/lib/chromium/chromium")
            .user_data_dir(dir.path())
            .viewport(Viewport {
                width: 1280,
                height: 800,
                device_scale_factor: Some(1.0),
                emulating_mobile: false,
                is_landscape: true,
                has_touch: false,
            })
            .window_size(1280, 800)
            .args([
                "disable-gpu",
                "no-first-run",
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
                "disable-dev-shm-usage",
            ]);
        if isolator::os::is_root() {
            builder = builder.no_sandbox();
        }
        let (browser, mut handler) = Browser::launch(builder.build().unwrap())
            .await
            .expect("client chromium launches");
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = browser.new_page(url).await.expect("client page opens");
        Client {
            browser,
            page,
            _dir: dir,
            handler,
        }
    }

    /// Evaluates a JS expression in the web client and deserializes its value.
    pub async fn eval<T: DeserializeOwned>(&self, expr: &str) -> T {
        self.page
            .evaluate(expr)
            .await
            .unwrap_or_else(|e| panic!("evaluating {expr}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("value of {expr}: {e}"))
    }

    /// Like [`Client::eval`], but `None` while the page is navigating (no context)
    /// or when the value does not deserialize, for polling.
    pub async fn try_eval<T: DeserializeOwned>(&self, expr: &str) -> Option<T> {
        self.page.evaluate(expr).await.ok()?.into_value().ok()
    }

    /// The web client's test-visible state (`window.__isolator.state`).
    pub async fn state(&self) -> Value {
        self.try_eval::<Option<Value>>(
            "window.__isolator ? JSON.parse(JSON.stringify(window.__isolator.state)) : null",
        )
        .await
        .flatten()
        .unwrap_or(Value::Null)
    }

    /// Waits until `pred` holds for the client state; on timeout, panics with the last state.
    pub async fn wait_state(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let s = self.state().await;
            if pred(&s) {
                return s;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for {what}; last client state: {s}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the client is connected and has drawn at least `frames` frames.
    pub async fn wait_connected(&self) -> Value {
        self.wait_state(
            "connected with a frame drawn",
            Duration::from_secs(30),
            |s| s["connected"] == true && s["framesDrawn"].as_u64().unwrap_or(0) > 0,
        )
        .await
    }

    /// Types text with real key events (keyDown with text, keyUp).
    pub async fn type_text(&self, text: &str) {
        for ch in text.chars() {
            let s = ch.to_string();
            let code = if ch.is_ascii_alphabetic() {
                format!("Key{}", ch.to_ascii_uppercase())
            } else if ch.is_ascii_digit() {
                format!("Digit{ch}")
            } else if ch == ' ' {
                "Space".into()
            } else {
                String::new()
            };
            let key_code = if ch.is_ascii_alphanumeric() {
                i64::from(ch.to_ascii_uppercase() as u8)
            } else if ch == ' ' {
                32
            } else {
                0
            };
            let mut down = DispatchKeyEventParams::new(DispatchKeyEventType::KeyDown);
            down.key = Some(s.clone());
            down.text = Some(s.clone());
            down.unmodified_text = Some(s.clone());
            down.code = (!code.is_empty()).then(|| code.clone());
            down.windows_virtual_key_code = (key_code != 0).then_some(key_code);
            self.page.execute(down).await.unwrap();
            let mut up = DispatchKeyEventParams::new(DispatchKeyEventType::KeyUp);
            up.key = Some(s);
            up.code = (!code.is_empty()).then_some(code);
            up.windows_virtual_key_code = (key_code != 0).then_some(key_code);
            self.page.execute(up).await.unwrap();
        }
    }

    /// Presses a special key (`Enter`, `Backspace`, `Tab`, ...), with modifiers (CDP bits).
    pub async fn press(&self, key: &str, modifiers: i64) {
        let (code, vk, text) = match key {
            "Enter" => ("Enter", 13, Some("\r")),
            "Backspace" => ("Backspace", 8, None),
            "Tab" => ("Tab", 9, None),
            "Escape" => ("Escape", 27, None),
            "ArrowLeft" => ("ArrowLeft", 37, None),
            "ArrowRight" => ("ArrowRight", 39, None),
            "ArrowUp" => ("ArrowUp", 38, None),
            "ArrowDown" => ("ArrowDown", 40, None),
            "Home" => ("Home", 36, None),
            "End" => ("End", 35, None),
            "Delete" => ("Delete", 46, None),
            "PageDown" => ("PageDown", 34, None),
            "Insert" => ("Insert", 45, None),
            other if other.len() == 1 => {
                ("", other.to_ascii_uppercase().as_bytes()[0] as i64, None)
            }
            other => panic!("unknown key {other}"),
        };
        let code = if code.is_empty() {
            format!("Key{}", key.to_ascii_uppercase())
        } else {
            code.to_owned()
        };
        let kind = if text.is_some() {
            DispatchKeyEventType::KeyDown
        } else {
            DispatchKeyEventType::RawKeyDown
        };
        let mut down = DispatchKeyEventParams::new(kind);
        down.key = Some(key.to_owned());
        down.code = Some(code.clone());
        down.windows_virtual_key_code = Some(vk);
        down.modifiers = Some(modifiers);
        down.text = text.map(String::from);
        self.page.execute(down).await.unwrap();
        let mut up = DispatchKeyEventParams::new(DispatchKeyEventType::KeyUp);
        up.key = Some(key.to_owned());
        up.code = Some(code);
        up.windows_virtual_key_code = Some(vk);
        up.modifiers = Some(modifiers);
        self.page.execute(up).await.unwrap();
    }

    /// The viewer canvas's position in the client page (CSS px).
    pub async fn canvas_origin(&self) -> (f64, f64) {
        let r: Value = self
            .eval("(() => { const r = document.querySelector('canvas').getBoundingClientRect(); return {x: r.left, y: r.top}; })()")
            .await;
        (r["x"].as_f64().unwrap(), r["y"].as_f64().unwrap())
    }

    /// Clicks at (x, y) of the remote viewport, i.e. on the viewer canvas.
    pub async fn click_viewer(&self, x: f64, y: f64) {
        let (ox, oy) = self.canvas_origin().await;
        let (x, y) = (ox + x, oy + y);
        let mut mv = DispatchMouseEventParams::new(DispatchMouseEventType::MouseMoved, x, y);
        mv.button = Some(MouseButton::None);
        self.page.execute(mv).await.unwrap();
        self.click_at(x, y).await;
    }

    /// Commits `text` through an input method, as a Japanese or Chinese IME
    /// does: a composition shown while typing, then the committed text.
    pub async fn ime_commit(&self, text: &str) {
        use chromiumoxide::cdp::browser_protocol::input::{
            ImeSetCompositionParams, InsertTextParams,
        };
        let n = text.encode_utf16().count() as i64;
        self.page
            .execute(ImeSetCompositionParams::new(text, n, n))
            .await
            .unwrap();
        self.page
            .execute(InsertTextParams::new(text))
            .await
            .unwrap();
    }

    /// Drags with the left button from (x0, y0) to (x1, y1) of the remote
    /// viewport, in small steps as a hand does, and releases.
    pub async fn drag_viewer(&self, (x0, y0): (f64, f64), (x1, y1): (f64, f64)) {
        let (ox, oy) = self.canvas_origin().await;
        let at = |kind: DispatchMouseEventType, x: f64, y: f64, buttons| {
            let hover = buttons == 0 && kind == DispatchMouseEventType::MouseMoved;
            let mut p = DispatchMouseEventParams::new(kind, ox + x, oy + y);
            p.button = Some(if hover {
                MouseButton::None
            } else {
                MouseButton::Left
            });
            p.buttons = Some(buttons);
            p.click_count = Some(1);
            p
        };
        self.page
            .execute(at(DispatchMouseEventType::MouseMoved, x0, y0, 0))
            .await
            .unwrap();
        self.page
            .execute(at(DispatchMouseEventType::MousePressed, x0, y0, 1))
            .await
            .unwrap();
        for i in 1..=12 {
            let f = f64::from(i) / 12.0;
            let (x, y) = (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f);
            self.page
                .execute(at(DispatchMouseEventType::MouseMoved, x, y, 1))
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        self.page
            .execute(at(DispatchMouseEventType::MouseReleased, x1, y1, 1))
            .await
            .unwrap();
    }

    /// A left click (press and release) at (x, y) of the client page.
    async fn click_at(&self, x: f64, y: f64) {
        for kind in [
            DispatchMouseEventType::MousePressed,
            DispatchMouseEventType::MouseReleased,
        ] {
            let mut p = DispatchMouseEventParams::new(kind, x, y);
            p.button = Some(MouseButton::Left);
            p.buttons = Some(1);
            p.click_count = Some(1);
            self.page.execute(p).await.unwrap();
        }
    }

    /// Scrolls the wheel over the viewer.
    pub async fn wheel(&self, x: f64, y: f64, dy: f64) {
        let (ox, oy) = self.canvas_origin().await;
        let mut p =
            DispatchMouseEventParams::new(DispatchMouseEventType::MouseWheel, ox + x, oy + y);
        p.delta_x = Some(0.0);
        p.delta_y = Some(dy);
        self.page.execute(p).await.unwrap();
    }

    /// The RGB of the viewer canvas at (x, y) of the remote viewport.
    pub async fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let v: Vec<u8> = self
            .eval(&format!(
                "(() => {{ const c = document.querySelector('canvas'); const s = c.width / c.getBoundingClientRect().width;\
                 const d = c.getContext('2d').getImageData(Math.floor({x} * s), Math.floor({y} * s), 1, 1).data; return [d[0], d[1], d[2]]; }})()"
            ))
            .await;
        [v[0], v[1], v[2]]
    }

    /// Resizes the client's window (as a user dragging it would).
    pub async fn resize(&self, width: i64, height: i64, dpr: f64) {
        use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                width, height, dpr, false,
            ))
            .await
            .unwrap();
    }

    /// Reloads the web client page (drops and re-opens its WebSocket).
    pub async fn reload(&self) {
        self.page.reload().await.unwrap();
    }

    /// Closes the client browser.
    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

impl Client {
    /// Clicks the centre of the first element matching `selector` in the web client's own UI.
    pub async fn click_ui(&self, selector: &str) {
        let r: Value = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return null; const r = e.getBoundingClientRect();\
                 return {{x: r.left + r.width / 2, y: r.top + r.height / 2}}; }})()",
                sel = serde_json::to_string(selector).unwrap()
            ))
            .await;
        assert!(!r.is_null(), "no element {selector} in the web client");
        let (x, y) = (r["x"].as_f64().unwrap(), r["y"].as_f64().unwrap());
        self.click_at(x, y).await;
    }
}

impl Client {
    /// Waits until the JS expression `expr` is true in the page; panics with
    /// `what` after `timeout`.
    pub async fn wait_js(&self, what: &str, timeout: Duration, expr: &str) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.try_eval::<bool>(expr).await == Some(true) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for {what} ({expr})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Gives keyboard focus to the first element matching `selector`.
    pub async fn focus(&self, selector: &str) {
        let found: bool = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.focus(); return document.activeElement === e; }})()",
                sel = serde_json::to_string(selector).unwrap()
            ))
            .await;
        assert!(found, "cannot focus {selector}");
    }

    /// The text content of the first element matching `selector` ("" if none).
    pub async fn text_of(&self, selector: &str) -> String {
        self.try_eval(&format!(
            "(document.querySelector({sel}) || {{}}).textContent || ''",
            sel = serde_json::to_string(selector).unwrap()
        ))
        .await
        .unwrap_or_default()
    }

    /// Sets the files of the `<input type=file>` matching `selector` in the
    /// web client's own UI, as a user's file picker does (fires `change`).
    pub async fn set_input_files(&self, selector: &str, paths: &[&std::path::Path]) {
        use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
        let el = self
            .page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("no element {selector} in the web client: {e}"));
        let mut p = SetFileInputFilesParams::new(
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>(),
        );
        p.backend_node_id = Some(el.backend_node_id);
        self.page
            .execute(p)
            .await
            .expect("file input accepts the files");
    }

    /// GETs an API path of the server with this tab's session token (as the
    /// web client does for session resources); `(status, body bytes)`.
    pub async fn session_get(&self, path: &str) -> (u16, Vec<u8>) {
        let v: Value = self
            .eval(&format!(
                "(async () => {{ const s = JSON.parse(sessionStorage.getItem('isolator.session.v1'));\
                 const r = await fetch({path}, {{headers: {{'X-Isolator-Token': s.token}}}});\
                 const b = new Uint8Array(await r.arrayBuffer()); let bin = '';\
                 for (const x of b) bin += String.fromCharCode(x);\
                 return {{status: r.status, b64: btoa(bin)}}; }})()",
                path = serde_json::to_string(path).unwrap()
            ))
            .await;
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["b64"].as_str().unwrap_or(""))
            .expect("base64 body");
        (v["status"].as_u64().unwrap_or(0) as u16, bytes)
    }
}
