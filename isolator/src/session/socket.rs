//! The task that owns one client WebSocket.
//!
//! It reads client messages (decoding and refusing bad ones itself), answers
//! pings and frame acks locally, forwards the rest to the session actor, and
//! writes the actor's messages and the newest frame. At most
//! [`MAX_FRAMES_IN_FLIGHT`] frames are unacknowledged: a slow client skips
//! frames instead of queueing them. It is written over `Sink`/`Stream` so a
//! test can drive it with any WebSocket implementation.

use std::sync::Arc;

use axum::extract::ws::Message;
use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::{mpsc, watch};

use super::{Attachment, FrameData, SessionCmd, SessionHandle};
use crate::protocol::{ClientMsg, EndReason, FrameHeader, ServerMsg, MAX_CLIENT_MESSAGE};

/// Frames sent but not yet acknowledged, at most.
pub const MAX_FRAMES_IN_FLIGHT: u32 = 2;

/// Runs a client socket attached to `session` until either side ends.
pub async fn run<S, E>(socket: S, session: Arc<SessionHandle>, resumed: bool)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
    E: std::fmt::Display,
{
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<ServerMsg>(256);
    let (frames_tx, mut frames_rx) = watch::channel::<Option<Arc<FrameData>>>(None);
    let attach_id = session.next_attach_id();
    let attached = session
        .send(SessionCmd::Attach(Attachment {
            id: attach_id,
            out: out_tx,
            frames: frames_tx,
            resumed,
        }))
        .await;
    if !attached {
        let msg = ServerMsg::ended(EndReason::Closed).to_json();
        let _ = sink.send(Message::Text(msg.into())).await;
        let _ = sink.close().await;
        return;
    }

    let mut sent: u32 = 0;
    let mut acked: u32 = 0;
    loop {
        let in_flight = sent.wrapping_sub(acked);
        tokio::select! {
            msg = out_rx.recv() => {
                let Some(msg) = msg else { break };
                let ended = matches!(msg, ServerMsg::Ended { .. });
                if sink.send(Message::Text(msg.to_json().into())).await.is_err() {
                    break;
                }
                if ended {
                    let _ = sink.close().await;
                    return;
                }
            }
            changed = frames_rx.changed(), if in_flight < MAX_FRAMES_IN_FLIGHT => {
                if changed.is_err() {
                    break;
                }
                let frame = frames_rx.borrow_and_update().clone();
                if let Some(f) = frame {
                    sent = sent.wrapping_add(1);
                    let header = FrameHeader { first: f.first, tab: f.tab, seq: sent, width: f.width, height: f.height };
                    if sink.send(Message::Binary(header.encode(&f.jpeg).into())).await.is_err() {
                        break;
                    }
                }
            }
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Binary(_))) => {
                        let _ = sink.send(error_msg("binary", "binary messages are not part of the protocol")).await;
                        continue;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(e)) => {
                        tracing::debug!("client socket error: {e}");
                        break;
                    }
                };
                match ClientMsg::decode(text.as_str()) {
                    Ok(ClientMsg::FrameAck { seq }) => {
                        // Acks may arrive out of order; count the newest, never beyond what was sent.
                        if seq.wrapping_sub(acked) <= sent.wrapping_sub(acked) {
                            acked = seq;
                        }
                    }
                    Ok(ClientMsg::Ping { id }) => {
                        if sink.send(Message::Text(ServerMsg::Pong { id }.to_json().into())).await.is_err() {
                            break;
                        }
                    }
                    Ok(msg) => {
                        if !session.send(SessionCmd::Client(attach_id, msg)).await {
                            let _ = sink.send(Message::Text(ServerMsg::ended(EndReason::Closed).to_json().into())).await;
                            break;
                        }
                    }
                    Err(e) => {
                        if sink.send(error_msg("bad_message", &e.to_string())).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }
    let _ = session.send(SessionCmd::Detached(attach_id)).await;
    let _ = sink.close().await;
}

fn error_msg(code: &str, message: &str) -> Message {
    let mut message = message.to_owned();
    message.truncate(512);
    Message::Text(
        ServerMsg::Error {
            code: code.into(),
            message,
        }
        .to_json()
        .into(),
    )
}

/// Largest WebSocket message the server reads (a little above the protocol limit,
/// so an oversize message is answered with a clear error rather than a dropped socket).
pub const MAX_WS_MESSAGE: usize = MAX_CLIENT_MESSAGE * 2;
