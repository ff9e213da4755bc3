//! The net's task: one per session, between the actor's frames and the
//! client. See the [module documentation](super) for the design.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use policies::Action;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::check::{budget, check_bands, BandCheck};
use super::frame::{prepare, render, Checked, Prepared};
use crate::auth::User;
use crate::enforce::{redact_url, Enforcer, Verdict};
use crate::gates::{GateReport, Place};

/// A frame handed to the net.
pub struct NetIn<F> {
    /// The actor's frame number (newer frames have larger ones).
    pub seq: u64,
    /// The tab it shows.
    pub tab: u16,
    /// The tab's URL (the page decision's).
    pub url: String,
    /// The frame; its bytes are the JPEG.
    pub frame: Arc<F>,
}

impl<F> Clone for NetIn<F> {
    fn clone(&self) -> Self {
        NetIn {
            seq: self.seq,
            tab: self.tab,
            url: self.url.clone(),
            frame: self.frame.clone(),
        }
    }
}

/// A frame the net lets through.
pub struct NetOut<F> {
    /// The frame's number.
    pub seq: u64,
    /// The frame as it came.
    pub frame: Arc<F>,
    /// The JPEG to show instead, with regions hidden; `None`: show it as it came.
    pub hidden: Option<Vec<u8>>,
}

/// What the net needs besides frames.
pub struct NetContext {
    /// The enforcer (decisions, extraction workers).
    pub enforcer: Arc<Enforcer>,
    /// The session's user.
    pub user: User,
    /// Where incidents go.
    pub reports: mpsc::Sender<GateReport>,
    /// Longest a frame is held for its OCR.
    pub hold: Duration,
    /// Quality of re-encoded frames.
    pub quality: u8,
    /// Wall time of one band's OCR, ms.
    pub band_ms: u64,
    /// The machine-wide OCR permits.
    pub slots: Arc<Semaphore>,
}

/// An OCR job's result.
struct Done<F> {
    input: NetIn<F>,
    prepared: Prepared,
    check: BandCheck,
}

/// Runs the net until the actor drops `frames` or `out`.
pub async fn run<F>(
    mut frames: watch::Receiver<Option<NetIn<F>>>,
    out: mpsc::Sender<NetOut<F>>,
    ctx: NetContext,
) where
    F: AsRef<[u8]> + Send + Sync + 'static,
{
    let mut checked: Option<Arc<Checked>> = None;
    let mut waiting: Option<NetIn<F>> = None;
    // The last frame shown failing closed, read again once the net is free
    // so that a page that stops changing ends up sharp.
    let mut recheck: Option<NetIn<F>> = None;
    // When the oldest frame not yet shown arrived.
    let mut since: Option<Instant> = None;
    let mut job: Option<JoinHandle<Done<F>>> = None;
    let mut last_sent = 0u64;
    // Frames keep changing faster than they are read (scrolling, video): the
    // hold shrinks to a third, so motion shows at a few frames per second.
    let mut streak = false;
    let mut reported: HashSet<String> = HashSet::new();
    loop {
        if job.is_none() {
            if let Some(input) = waiting.take().or_else(|| recheck.take()) {
                let Some(prepared) = prepare_on_pool(&input, checked.clone()).await else {
                    if waiting.is_none() {
                        since = None;
                    }
                    continue;
                };
                if prepared.bands.is_empty() {
                    checked = Some(Arc::new(Checked {
                        key: (input.tab, input.url.clone()),
                        gray: prepared.gray.clone(),
                        hide: prepared.kept.clone(),
                    }));
                    let hide = prepared.kept.clone();
                    if !send(&out, &ctx, input, prepared, hide, &mut last_sent).await {
                        return;
                    }
                    since = None;
                } else {
                    job = Some(tokio::spawn(read_bands(input, prepared, job_context(&ctx))));
                }
                continue;
            }
        }
        let hold = if streak { ctx.hold / 3 } else { ctx.hold };
        let deadline = since.map(|s| s + hold);
        tokio::select! {
            done = async {
                match job.as_mut() {
                    Some(j) => j.await,
                    None => std::future::pending().await,
                }
            } => {
                job = None;
                let Ok(done) = done else {
                    warn!("a screen check ended abnormally");
                    continue;
                };
                let Done { input, prepared, check } = done;
                let mut hide = prepared.kept.clone();
                hide.extend_from_slice(&check.hide);
                checked = Some(Arc::new(Checked {
                    key: (input.tab, input.url.clone()),
                    gray: prepared.gray.clone(),
                    hide: hide.clone(),
                }));
                if let Some(verdict) = check.verdict {
                    report(&ctx, &input, verdict, check.chars, &mut reported).await;
                }
                if input.seq >= last_sent
                    && !send(&out, &ctx, input, prepared, hide, &mut last_sent).await
                {
                    return;
                }
                if waiting.is_none() {
                    since = None;
                    streak = false;
                }
            }
            changed = frames.changed() => {
                if changed.is_err() {
                    return;
                }
                let newest = frames.borrow_and_update().clone();
                if let Some(newest) = newest {
                    recheck = None;
                    since.get_or_insert_with(Instant::now);
                    waiting = Some(newest);
                }
            }
            _ = async {
                match deadline {
                    Some(d) if waiting.is_some() => tokio::time::sleep_until(d.into()).await,
                    _ => std::future::pending().await,
                }
            } => {
                // Held long enough: show the newest frame with what is unchecked hidden.
                let Some(input) = waiting.take() else { continue };
                since = None;
                streak = true;
                let Some(prepared) = prepare_on_pool(&input, checked.clone()).await else {
                    continue;
                };
                let hide = prepared.fail_closed();
                recheck = Some(input.clone());
                if !send(&out, &ctx, input, prepared, hide, &mut last_sent).await {
                    return;
                }
            }
        }
    }
}

/// [`prepare`] on the blocking pool; `None` when the frame cannot be shown.
async fn prepare_on_pool<F>(input: &NetIn<F>, checked: Option<Arc<Checked>>) -> Option<Prepared>
where
    F: AsRef<[u8]> + Send + Sync + 'static,
{
    let frame = input.frame.clone();
    let key = (input.tab, input.url.clone());
    let job =
        tokio::task::spawn_blocking(move || prepare((*frame).as_ref(), &key, checked.as_deref()));
    match job.await {
        Ok(Ok(p)) => Some(p),
        Ok(Err(e)) => {
            debug!("frame not shown: {e}");
            None
        }
        Err(e) => {
            warn!("frame preparation failed: {e}");
            None
        }
    }
}

/// Shows `input`'s frame with `hide` mosaicked. False when the actor is gone.
async fn send<F>(
    out: &mpsc::Sender<NetOut<F>>,
    ctx: &NetContext,
    input: NetIn<F>,
    prepared: Prepared,
    hide: Vec<crate::gates::screen::tiles::Rect>,
    last_sent: &mut u64,
) -> bool
where
    F: AsRef<[u8]> + Send + Sync + 'static,
{
    let quality = ctx.quality;
    let hidden = if hide.is_empty() {
        None
    } else {
        match tokio::task::spawn_blocking(move || render(&prepared.rgb, &hide, quality)).await {
            Ok(h) => h,
            Err(e) => {
                warn!("frame not shown: {e}");
                return true;
            }
        }
    };
    *last_sent = input.seq;
    out.send(NetOut {
        seq: input.seq,
        frame: input.frame,
        hidden,
    })
    .await
    .is_ok()
}

/// What an OCR job takes from the net.
struct JobContext {
    enforcer: Arc<Enforcer>,
    user: User,
    band_ms: u64,
    slots: Arc<Semaphore>,
}

fn job_context(ctx: &NetContext) -> JobContext {
    JobContext {
        enforcer: ctx.enforcer.clone(),
        user: ctx.user.clone(),
        band_ms: ctx.band_ms,
        slots: ctx.slots.clone(),
    }
}

/// Reads `prepared`'s bands under a machine-wide permit; fails closed
/// (every band hidden) when no worker is available or the time is up.
async fn read_bands<F>(input: NetIn<F>, prepared: Prepared, ctx: JobContext) -> Done<F> {
    let _permit = ctx.slots.clone().acquire_owned().await;
    let decision = crate::gates::page::decision(&ctx.enforcer, &ctx.user, &input.url);
    let bands = prepared.bands.clone();
    let fail = |reason: String| BandCheck {
        hide: bands.clone(),
        verdict: Some(Verdict::blocked(&decision, reason)),
        chars: 0,
        failed: Vec::new(),
    };
    let check = match ctx.enforcer.pool().await {
        Err(e) => fail(format!("no screen reader is available ({e})")),
        Ok(pool) => {
            let gray = prepared.gray.clone();
            let (d, b, ms) = (decision.clone(), bands.clone(), ctx.band_ms);
            let job = tokio::task::spawn_blocking(move || check_bands(&pool, &d, &gray, &b, ms));
            match tokio::time::timeout(budget(&bands, ctx.band_ms), job).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => fail(format!("the screen check failed ({e})")),
                Err(_) => fail("the screen check took too long".into()),
            }
        }
    };
    Done {
        input,
        prepared,
        check,
    }
}

/// Reports a finding of the net as a page incident, once per URL and findings.
async fn report<F>(
    ctx: &NetContext,
    input: &NetIn<F>,
    verdict: Verdict,
    chars: usize,
    reported: &mut HashSet<String>,
) {
    let key = format!(
        "{}|{}|{}|{}",
        redact_url(&input.url),
        verdict.outcome.as_str(),
        verdict.detectors.join(","),
        verdict.evidence.join(",")
    );
    if reported.len() > 10_000 {
        reported.clear();
    }
    if !reported.insert(key) {
        return;
    }
    let report = GateReport {
        place: Place::Tab(input.tab),
        url: input.url.clone(),
        gate: Action::Page,
        what: format!("screen text of {chars} characters (OCR of the frame)"),
        verdict,
        quiet: false,
    };
    let _ = ctx.reports.send(report).await;
}
