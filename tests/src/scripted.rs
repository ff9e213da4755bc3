//! A scripted client: one session driven over the real WebSocket protocol
//! without a browser (the fault tests run several at once; a browser per
//! session would test the client browser, not the server).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One session, created over HTTP and attached over its WebSocket.
pub struct Scripted {
    ws: Ws,
    /// The server's base URL (`http://127.0.0.1:port`).
    pub base: String,
    /// Session id.
    pub id: String,
    /// Session token (for uploads).
    pub token: String,
    /// Frames received so far.
    pub frames: u64,
    /// Every JSON message received so far.
    pub messages: Vec<Value>,
}

impl Scripted {
    /// Creates a session at `url` on the server at `base` and waits for its first frame.
    pub async fn open(base: &str, url: &str) -> Scripted {
        let res = reqwest::Client::new()
            .post(format!("{base}/api/sessions"))
            .header("x-isolator-request", "1")
            .json(&serde_json::json!({ "url": url, "width": 1280, "height": 720, "dpr": 1 }))
            .send()
            .await
            .expect("session create request");
        assert_eq!(res.status(), 201, "session create");
        let body: Value = res.json().await.unwrap();
        let token = body["token"].as_str().unwrap().to_owned();
        let mut req = format!("{base}{}", body["ws"].as_str().unwrap())
            .replace("http://", "ws://")
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("origin", base.parse().unwrap());
        req.headers_mut().insert(
            "sec-websocket-protocol",
            format!("isolator.v1, isolator.token.{token}")
                .parse()
                .unwrap(),
        );
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let mut s = Scripted {
            ws,
            base: base.to_owned(),
            id: body["id"].as_str().unwrap().to_owned(),
            token,
            frames: 0,
            messages: Vec::new(),
        };
        assert!(
            s.next_frame(Duration::from_secs(30)).await,
            "no first frame"
        );
        s
    }

    /// Sends one client message.
    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("client message sent");
    }

    /// Reads one message (acking frames); `None` on timeout or a closed socket.
    async fn read(&mut self, deadline: tokio::time::Instant) -> Option<Option<Value>> {
        match tokio::time::timeout_at(deadline, self.ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) if b.len() > 8 => {
                let seq = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                self.send(serde_json::json!({"t": "frame_ack", "seq": seq}))
                    .await;
                self.frames += 1;
                Some(None)
            }
            Ok(Some(Ok(Message::Text(s)))) => {
                let v: Value = serde_json::from_str(&s).unwrap_or(Value::Null);
                self.messages.push(v.clone());
                Some(Some(v))
            }
            Ok(Some(Ok(_))) => Some(None),
            _ => None,
        }
    }

    /// Waits for the next frame; false on timeout.
    pub async fn next_frame(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        let before = self.frames;
        while self.frames == before {
            if self.read(deadline).await.is_none() {
                return false;
            }
        }
        true
    }

    /// Takes frames and messages for `d`; returns the frames received.
    pub async fn pump(&mut self, d: Duration) -> u64 {
        let deadline = tokio::time::Instant::now() + d;
        let before = self.frames;
        while self.read(deadline).await.is_some() {}
        self.frames - before
    }

    /// Waits for a JSON message matching `f` (frames are acked meanwhile).
    pub async fn wait_for(
        &mut self,
        what: &str,
        within: Duration,
        f: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(v) = self.messages.iter().find(|v| f(v)) {
            return v.clone();
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match self.read(deadline).await {
                Some(Some(v)) if f(&v) => return v,
                Some(_) => {}
                None => panic!("no {what} within {within:?}; messages: {:?}", self.messages),
            }
        }
    }

    /// Waits for a notice whose code is `code`.
    pub async fn notice(&mut self, code: &str, within: Duration) -> Value {
        self.wait_for(&format!("notice {code}"), within, |v| {
            v["t"] == "notice" && v["code"] == code
        })
        .await
    }

    /// Navigates the active tab.
    pub async fn navigate(&mut self, url: &str) {
        self.send(serde_json::json!({"t": "navigate", "url": url}))
            .await;
    }

    /// A left click at (x, y) of the viewport.
    pub async fn click(&mut self, x: u32, y: u32) {
        for (kind, buttons) in [("down", 1), ("up", 0)] {
            self.send(
                serde_json::json!({"t": "mouse", "type": kind, "x": x, "y": y,
                "button": "left", "buttons": buttons, "clicks": 1, "mods": 0, "dx": 0, "dy": 0}),
            )
            .await;
        }
    }

    /// Types one printable ASCII character.
    pub async fn key(&mut self, ch: char) {
        let up = ch.to_ascii_uppercase();
        for kind in ["down", "up"] {
            self.send(
                serde_json::json!({"t": "key", "type": kind, "key": ch.to_string(),
                "code": format!("Key{up}"), "key_code": up as u32}),
            )
            .await;
        }
    }

    /// Scrolls by `dy` CSS px at the middle of the viewport.
    pub async fn wheel(&mut self, dy: i32) {
        self.send(
            serde_json::json!({"t": "mouse", "type": "wheel", "x": 300, "y": 300, "dx": 0, "dy": dy}),
        )
        .await;
    }

    /// Opens the file chooser of the upload test page (`/files/upload/{how}`, a
    /// click on its file input); returns the chooser id.
    pub async fn chooser(&mut self, upload_page: &str) -> u64 {
        self.messages
            .retain(|v| v["t"] != "state" && v["t"] != "file_chooser");
        self.navigate(upload_page).await;
        self.wait_for("the upload page", Duration::from_secs(30), |v| {
            v["t"] == "state" && v["title"] == "Upload" && v["loading"] == false
        })
        .await;
        self.pump(Duration::from_millis(300)).await;
        // A click right after load is sometimes not yet a user activation
        // for the input (as a user would, click again when nothing opened).
        for _ in 0..3 {
            self.click(300, 150).await;
            self.pump(Duration::from_secs(5)).await;
            if let Some(v) = self.messages.iter().find(|v| v["t"] == "file_chooser") {
                return v["id"].as_u64().unwrap();
            }
        }
        self.wait_for("a file chooser", Duration::from_secs(10), |v| {
            v["t"] == "file_chooser"
        })
        .await["id"]
            .as_u64()
            .unwrap()
    }

    /// Uploads `bytes` as `name` to chooser `chooser`; returns (HTTP status, answer).
    pub async fn upload(&self, chooser: u64, name: &str, bytes: Vec<u8>) -> (u16, Value) {
        let res = reqwest::Client::new()
            .post(format!(
                "{}/api/sessions/{}/uploads?chooser={chooser}&name={name}",
                self.base, self.id
            ))
            .header("x-isolator-request", "1")
            .header("x-isolator-token", &self.token)
            .body(bytes)
            .send()
            .await
            .expect("upload request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Opens the upload page's chooser and uploads `bytes` as `name`,
    /// asserting the upload gate allowed it.
    pub async fn upload_allowed(&mut self, upload_page: &str, name: &str, bytes: &[u8]) {
        let chooser = self.chooser(upload_page).await;
        let (status, answer) = self.upload(chooser, name, bytes.to_vec()).await;
        assert_eq!(
            (status, answer["allowed"].clone()),
            (200, Value::Bool(true)),
            "upload of {name}: {answer}"
        );
    }

    /// Ends the session.
    pub async fn close(mut self) {
        self.send(serde_json::json!({"t": "close"})).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.ws.next().await.is_some() {}
        })
        .await;
    }
}
