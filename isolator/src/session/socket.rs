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
    // The first input not yet answered by a frame (isolator_input_to_frame_seconds).
    let mut input_at: Option<std::time::Instant> = None;
    // The actor drops both ends of an attachment together; a closed frame slot only
    // stops frames, so a final `ended` still in the message channel is delivered.
    let mut frames_open = true;
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
            changed = frames_rx.changed(), if frames_open && in_flight < MAX_FRAMES_IN_FLIGHT => {
                if changed.is_err() {
                    frames_open = false;
                    continue;
                }
                let frame = frames_rx.borrow_and_update().clone();
                if let Some(f) = frame {
                    sent = sent.wrapping_add(1);
                    let header = FrameHeader { first: f.first, tab: f.tab, seq: sent, width: f.width, height: f.height };
                    if sink.send(Message::Binary(header.encode(&f.jpeg).into())).await.is_err() {
                        break;
                    }
                    session.metrics.frame_sent(input_at.take().map(|t| t.elapsed()));
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
                        if input_at.is_none() && is_input(&msg) {
                            input_at = Some(std::time::Instant::now());
                        }
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

/// Whether `msg` is the user's input, which a frame should answer.
fn is_input(msg: &ClientMsg) -> bool {
    matches!(
        msg,
        ClientMsg::Key { .. }
            | ClientMsg::Text { .. }
            | ClientMsg::Mouse { .. }
            | ClientMsg::Touch { .. }
            | ClientMsg::Paste { .. }
    )
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

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures::channel::mpsc as fmpsc;

    use super::*;
    use crate::session::SessionHandle;

    /// A socket made of two channels: what the "client" sends, and what the server writes.
    struct ChannelSocket {
        incoming: fmpsc::UnboundedReceiver<Result<Message, std::convert::Infallible>>,
        outgoing: fmpsc::UnboundedSender<Message>,
    }

    impl Stream for ChannelSocket {
        type Item = Result<Message, std::convert::Infallible>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Pin::new(&mut self.incoming).poll_next(cx)
        }
    }

    impl Sink<Message> for ChannelSocket {
        type Error = fmpsc::SendError;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
            self.outgoing
                .unbounded_send(item)
                .map_err(|e| e.into_send_error())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.outgoing.close_channel();
            Poll::Ready(Ok(()))
        }
    }

    fn frame(n: u8) -> Option<Arc<FrameData>> {
        Some(Arc::new(FrameData {
            tab: 0,
            first: false,
            width: 10,
            height: 10,
            jpeg: vec![n],
        }))
    }

    fn text(s: &str) -> Result<Message, std::convert::Infallible> {
        Ok(Message::Text(s.to_owned().into()))
    }

    #[tokio::test]
    async fn slow_clients_get_the_newest_frame_not_a_queue() {
        let (handle, mut cmds) = SessionHandle::for_test();
        let (client_tx, incoming) = fmpsc::unbounded();
        let (outgoing, mut server_out) = fmpsc::unbounded();
        let task = tokio::spawn(run(ChannelSocket { incoming, outgoing }, handle, false));

        let Some(SessionCmd::Attach(att)) = cmds.recv().await else {
            panic!("no attach")
        };
        // Ten frames while the client acknowledges nothing.
        for n in 1..=10 {
            att.frames.send(frame(n)).unwrap();
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut got = Vec::new();
        while let Ok(Message::Binary(b)) = server_out.try_recv() {
            got.push(
                FrameHeader::decode(&b)
                    .map(|(h, body)| (h.seq, body[0]))
                    .unwrap(),
            );
        }
        assert_eq!(
            got.len() as u32,
            MAX_FRAMES_IN_FLIGHT,
            "at most two unacknowledged frames: {got:?}"
        );
        // The client catches up: the next frame is the newest (10), not the third.
        client_tx
            .unbounded_send(text(&format!(r#"{{"t":"frame_ack","seq":{}}}"#, got[1].0)))
            .unwrap();
        let next = loop {
            match server_out.next().await {
                Some(Message::Binary(b)) => {
                    break FrameHeader::decode(&b)
                        .map(|(h, body)| (h.seq, body[0]))
                        .unwrap()
                }
                Some(_) => continue,
                None => panic!("socket closed"),
            }
        };
        assert_eq!(next.1, 10, "newest frame after the ack");

        // Malformed input gets an error message; the socket stays up.
        client_tx.unbounded_send(text("{nope")).unwrap();
        let err = loop {
            if let Some(Message::Text(t)) = server_out.next().await {
                break t.to_string();
            }
        };
        assert!(err.contains(r#""t":"error""#), "{err}");

        // The session ending closes the socket with a reason.
        att.out
            .send(ServerMsg::ended(EndReason::Idle))
            .await
            .unwrap();
        let ended = loop {
            if let Some(Message::Text(t)) = server_out.next().await {
                break t.to_string();
            }
        };
        assert!(ended.contains(r#""reason":"idle""#), "{ended}");
        task.await.unwrap();
    }

    async fn next_binary(out: &mut fmpsc::UnboundedReceiver<Message>) {
        loop {
            match out.next().await {
                Some(Message::Binary(_)) => return,
                Some(_) => continue,
                None => panic!("socket closed"),
            }
        }
    }

    #[tokio::test]
    async fn frames_and_the_latency_of_input_are_counted() {
        let (handle, mut cmds) = SessionHandle::for_test();
        let (client_tx, incoming) = fmpsc::unbounded();
        let (outgoing, mut server_out) = fmpsc::unbounded();
        let task = tokio::spawn(run(
            ChannelSocket { incoming, outgoing },
            handle.clone(),
            false,
        ));
        let Some(SessionCmd::Attach(att)) = cmds.recv().await else {
            panic!("no attach")
        };
        // A frame no input asked for: counted, no latency.
        att.frames.send(frame(1)).unwrap();
        next_binary(&mut server_out).await;
        // A key, then two more inputs, then a frame 30 ms later: one latency,
        // measured from the first of them.
        for _ in 0..3 {
            client_tx
                .unbounded_send(text(r#"{"t":"key","type":"down","key":"a"}"#))
                .unwrap();
            assert!(matches!(cmds.recv().await, Some(SessionCmd::Client(..))));
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        att.frames.send(frame(2)).unwrap();
        next_binary(&mut server_out).await;
        let scrape = handle.metrics.encode();
        assert!(
            scrape.contains("isolator_frames_sent_total 2\n"),
            "{scrape}"
        );
        assert!(
            scrape.contains("isolator_input_to_frame_seconds_count 1\n"),
            "{scrape}"
        );
        assert!(
            scrape.contains("isolator_input_to_frame_seconds_bucket{le=\"0.025\"} 0\n"),
            "{scrape}"
        );
        drop(client_tx);
        task.await.unwrap();
    }
}
