//! The screen net: the last line of page masking, on the pixels.
//!
//! The page script masks values in the DOM, but the DOM is not what the
//! user sees: canvases, WebGL, SVG, video, closed shadow roots, generated
//! content and reordering tricks draw values the script never reads. The
//! net OCRs what the stream is about to show and hides (a mosaic, see
//! [`blur`]) every region where a value the tab's `page` rule masks is
//! readable, in the frame sent to the client and in the frame recorded.
//!
//! **Where it sits.** The session actor hands each screencast frame (and
//! the quiet-point screenshot) of the watched tab to the net instead of the
//! client, when the tab's `page` decision scans and masks something
//! ([`watches`]); otherwise the frame goes straight to the client and the
//! net costs nothing (no task, no decoding). The net runs as one task per
//! session ([`net::run`]); decoding, diffing and re-encoding run on the
//! blocking pool and OCR in the extraction workers, so the actor, and with
//! it input, never waits.
//!
//! **What is read.** OCR of a whole 1280x800 frame costs hundreds of ms to
//! seconds of CPU, so only what changed is read: each frame is compared in
//! 32-pixel tiles with the last frame the net checked ([`tiles`]); changed
//! tiles that are flat (no two grey levels far apart) cannot show text and
//! pass; the others are grown into full-width bands, one tile row more
//! above and below, so a line is read whole and a value broken over two
//! lines too ([`check`]). A frame with no changed text-like tile is shown
//! at once, with the regions found earlier still hidden (those whose tiles
//! did not change: a value stays hidden until its region changes).
//!
//! **Holding.** A frame with unchecked bands is held while they are read:
//! it is shown, checked, when the OCR is done, so a still page or typing
//! costs the OCR time of a band as latency. A frame is never held longer
//! than `stream.net_hold_ms`: when the OCR is still busy then, the newest
//! frame is shown with every unchecked text-like tile hidden, and every
//! region hidden before; the net fails closed and catches up. While the OCR
//! is busy, newer frames replace the held one (a `watch` slot: never a
//! queue, intermediate frames are dropped), and the next OCR starts from
//! the newest frame. Once a hold has run out, the page is moving faster
//! than it can be read (scrolling, video): until the net is idle again the
//! hold is a third as long, so motion shows, mosaicked where it changed, at
//! a few frames per second rather than not at all. The last frame shown
//! that way is read again when the net is free, so a page that stops
//! changing ends sharp (with its values hidden) after one more OCR.
//!
//! **Budget.** OCR jobs of all sessions share `stream.net_ocr_slots`
//! permits (default: half the cores, at least one), so sessions cannot
//! starve each other or uploads' extraction of the workers; a session
//! whose net waits for a permit just holds (and, past the hold, hides).
//!
//! **Cost** (`cargo bench -p isolator --bench screen_net`, real 1280x800
//! Chromium frames of a dense text page, release build, 2 cores under a
//! load average of ~10): decoding and diffing a frame 11 ms; re-encoding
//! one with regions hidden 36-47 ms (only when something is hidden); OCR
//! in the worker, CPU: a 192 px band of dense text (typing) 460 ms, the
//! whole screen (first frame, scrolling) 2.5 s. A still page costs nothing
//! (Chromium sends no frames), a page whose rule masks nothing costs one
//! policy decision per frame. Per session (`cargo bench -p isolator-e2e
//! --bench screen_net`, same machine and load, net off / on): input to
//! frame p50 47 / 78 ms, p95 55 / 94 ms (typing into a field: a small
//! band); scrolling a text page 29.5 / 5.7 frames/s (mosaicked while it
//! moves) at 0.03 / 0.79 cores of server and workers; a still page 0 /
//! 0.002 cores.
//!
//! **Findings** are page incidents like the page script's: a
//! [`GateReport`](crate::gates::GateReport) of the `page` gate, the verdict
//! with redacted evidence only, once per URL and set of findings.

use std::sync::{Arc, OnceLock};

use policies::Mode;
use tokio::sync::Semaphore;

use crate::auth::User;
use crate::enforce::Enforcer;

pub mod blur;
pub mod check;
pub mod frame;
pub mod net;
pub mod tiles;

/// Whether the screen net must check frames of `url` for `user`: the
/// page rule scans and masks some detector.
pub fn watches(enforcer: &Enforcer, user: &User, url: &str) -> bool {
    let d = super::page::decision(enforcer, user, url);
    d.mode == Mode::Scan && !d.mask.is_empty()
}

/// The machine-wide OCR permits of the net; the first caller's `slots`
/// (0: half the cores, at least one) fixes their number.
pub fn slots(slots: usize) -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            let n = if slots == 0 {
                std::thread::available_parallelism()
                    .map(|n| n.get() / 2)
                    .unwrap_or(1)
                    .max(1)
            } else {
                slots
            };
            Arc::new(Semaphore::new(n))
        })
        .clone()
}
