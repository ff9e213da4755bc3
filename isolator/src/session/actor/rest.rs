//! Resting screencasts: a watched page that stays still needs no cast.
//!
//! A running screencast keeps capture buffers in Chromium's GPU and browser
//! processes, about 7 MB per session (measured on Chromium 156: 34.4 MB per
//! idle context with a cast, 27.6 MB without one or after it is stopped),
//! although a still page sends no frame at all. When the active tab has
//! sent no frame and the user has sent no input for
//! `stream.rest_after_secs`, the cast is stopped ("rests"). It starts again,
//! with a screenshot of the page as it is so the client never waits for
//! the first frame, on:
//! - any message from the client (input, resize, navigation, tab actions);
//! - the page script's report that the page changed or started something
//!   that changes what it shows (DOM, animations, media, scrolling, image
//!   loads, canvas drawing);
//! - navigation, loading, dialogs, title changes and tab switches (these
//!   start the cast through their own paths).
//!
//! Not seen while resting: a cross-site iframe that changes on its own (it
//! runs in another target without the page script) and an `OffscreenCanvas`
//! drawn from a worker; the next input or DOM change shows them.

use std::time::{Duration, Instant};

use tracing::debug;

use super::Actor;

impl Actor {
    /// Rests the cast when the watched page has been still long enough
    /// (called from the actor's one-second tick).
    pub(super) async fn rest_if_still(&mut self) {
        let after = self.config.stream.rest_after_secs;
        if after == 0 || self.resting || self.attachment.is_none() || !self.dialogs.is_empty() {
            return;
        }
        let after = Duration::from_secs(after);
        if self.last_frame_at.elapsed() < after || self.last_input.elapsed() < after {
            return;
        }
        let timeout = self.timeout;
        let active = self.tabs.active();
        let Some(tab) = self.tab_mut(active).filter(|t| t.casting) else {
            return;
        };
        tab.stop_screencast(timeout).await;
        self.set_resting(true);
        debug!("screencast rests: the page is still");
    }

    /// Starts a resting cast again (a no-op when it runs).
    pub(super) async fn wake(&mut self, why: &str) {
        if self.resting && self.attachment.is_some() {
            debug!(why, "screencast wakes");
            self.start_cast().await;
        }
    }

    /// Marks the cast as running (every start of it goes through here).
    pub(super) fn cast_started(&mut self) {
        self.last_frame_at = Instant::now();
        self.set_resting(false);
    }

    /// Marks the cast as stopped for a reason other than rest (detached).
    pub(super) fn cast_stopped(&mut self) {
        self.set_resting(false);
    }

    /// The one place `resting` changes, kept in step with the live info
    /// the metrics read.
    fn set_resting(&mut self, resting: bool) {
        if self.resting != resting {
            self.resting = resting;
            self.handle.live.lock().expect("live lock").resting = resting;
        }
    }
}
