//! The actor's side of the screen net (`gates::screen`): frames of the
//! watched tab go to the net when its page rule masks something, else
//! straight to the client; what the net lets through is shown and
//! recorded. The net's task starts with the first frame it must check.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Actor;
use crate::gates::screen::{self, net};
use crate::session::FrameData;

/// The actor's link to its net.
pub(super) struct NetLink {
    /// Frames to check (newest only), once the task runs.
    tx: Option<watch::Sender<Option<net::NetIn<FrameData>>>>,
    out_tx: mpsc::Sender<net::NetOut<FrameData>>,
    /// What the net lets through.
    pub(super) out_rx: mpsc::Receiver<net::NetOut<FrameData>>,
    /// The number of the frame shown last: older ones are never shown after it.
    shown: u64,
}

impl Default for NetLink {
    fn default() -> Self {
        let (out_tx, out_rx) = mpsc::channel(4);
        NetLink {
            tx: None,
            out_tx,
            out_rx,
            shown: 0,
        }
    }
}

impl Actor {
    /// Shows frame number `seq` of the watched tab `tab_id`, through the net
    /// when the tab's page rule masks something.
    pub(super) fn show_frame(&mut self, tab_id: u16, seq: u64, frame: Arc<FrameData>) {
        let url = self.tab(tab_id).map(|t| t.url.clone()).unwrap_or_default();
        if self.config.stream.net && screen::watches(&self.enforcer, &self.handle.user, &url) {
            let input = net::NetIn {
                seq,
                tab: tab_id,
                url,
                frame,
            };
            if self.net.tx.is_none() {
                let (tx, rx) = watch::channel(None);
                let stream = &self.config.stream;
                let ctx = net::NetContext {
                    enforcer: self.enforcer.clone(),
                    user: self.handle.user.clone(),
                    reports: self.gate_tx.clone(),
                    hold: Duration::from_millis(stream.net_hold_ms),
                    quality: stream.jpeg_quality,
                    band_ms: stream.net_band_ms,
                    slots: screen::slots(stream.net_ocr_slots),
                };
                tokio::spawn(net::run(rx, self.net.out_tx.clone(), ctx));
                self.net.tx = Some(tx);
            }
            if let Some(tx) = &self.net.tx {
                let _ = tx.send(Some(input));
            }
            return;
        }
        self.net.shown = seq;
        self.push_frame(frame.clone());
        self.last_frame = Some(frame);
    }

    /// Shows a frame the net let through, unless a newer one was shown or
    /// its tab is no longer watched (the same frame may come twice: hidden
    /// while unread, then as read).
    pub(super) fn net_frame(&mut self, out: net::NetOut<FrameData>) {
        let watched = out.frame.tab == self.tabs.active() && self.attachment.is_some();
        if out.seq < self.net.shown || !watched {
            return;
        }
        self.net.shown = out.seq;
        let frame = match out.hidden {
            Some(jpeg) => Arc::new(FrameData {
                tab: out.frame.tab,
                first: out.frame.first,
                width: out.frame.width,
                height: out.frame.height,
                jpeg,
            }),
            None => out.frame,
        };
        self.push_frame(frame.clone());
        self.last_frame = Some(frame);
    }
}
