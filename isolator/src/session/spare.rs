//! What a session needs of the browser before it has a user: its own
//! egress proxy, a BrowserContext that browses through it, and an
//! about:blank page in that context. Making these takes most of a session
//! start (a renderer process is spawned and initialised, about 350 ms of
//! the ~550 on the 2-core machine), and none of it depends on who the
//! session is for: the user is bound only when the actor registers the
//! context with the submit gate. So one set is kept ready (`sessions.spare`)
//! and the next session takes it; another is made a moment later.
//!
//! A spare made by a browser that has since died or been replaced is never
//! used: it is dropped (its proxy stops) and a fresh set is made.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::target::CreateTargetParams;
use chromiumoxide::Page;
use tokio::sync::broadcast;
use tracing::debug;

use super::tab::with_timeout;
use super::CreateError;
use crate::browser::{BrowserError, Running};
use crate::egress::{self, EgressEvent, EgressPolicy, EgressProxy, Resolve};
use crate::enforce::Enforcer;
use crate::gates::submit::SubmitGate;

/// How long after a spare is taken the next one is made: the session that
/// took it is loading its first page meanwhile, on the same cores.
const REFILL_AFTER: Duration = Duration::from_secs(2);

/// A session's browser side before it has a user.
pub(super) struct Prepared {
    /// The browser it was made in.
    pub running: Arc<Running>,
    pub proxy: EgressProxy,
    pub egress_events: broadcast::Receiver<EgressEvent>,
    pub context_id: BrowserContextId,
    pub page: Page,
}

/// What making a [`Prepared`] takes (all shared with the session manager).
#[derive(Clone)]
pub(super) struct Preparer {
    pub egress: Arc<EgressPolicy>,
    pub resolver: Arc<dyn Resolve>,
    pub tls: Option<Arc<egress::Interceptor>>,
    pub enforcer: Arc<Enforcer>,
    pub submit: Arc<SubmitGate>,
    pub timeout: Duration,
}

impl Preparer {
    /// Starts a proxy, a context behind it and a blank page in `running`.
    pub async fn prepare(&self, running: Arc<Running>) -> Result<Prepared, CreateError> {
        // Every session browses through its own egress proxy, in its own
        // context, which serves the isolated browser's user (and ours) only.
        let users = [running.uid(), crate::os::private_fs::euid()];
        let peers = egress::PeerFilter::new(move |listener, peer| {
            crate::os::local_peer::peer_is_one_of(listener, peer, &users)
        });
        // Everything the proxy forwards is judged by the submit gate.
        let stream_gate = Arc::new(crate::gates::submit::stream::StreamGate::new(
            self.enforcer.clone(),
            self.submit.contexts().clone(),
        ));
        let (proxy, egress_events) = EgressProxy::start_inspected(
            self.egress.clone(),
            self.resolver.clone(),
            peers,
            stream_gate.clone(),
            self.tls.clone(),
        )
        .await
        .map_err(|e| BrowserError::Launch(format!("egress proxy: {e}")))?;
        let context_id = with_timeout(
            self.timeout,
            running
                .browser
                .execute(egress::browser_context_params(&proxy.proxy_server())),
        )
        .await
        .map_err(BrowserError::from)?
        .result
        .browser_context_id;
        stream_gate.bind(context_id.inner());
        let mut params = CreateTargetParams::new("about:blank");
        params.browser_context_id = Some(context_id.clone());
        let page = match with_timeout(self.timeout, running.browser.new_page(params)).await {
            Ok(page) => page,
            Err(e) => {
                let _ = running.browser.dispose_browser_context(context_id).await;
                return Err(BrowserError::from(e).into());
            }
        };
        Ok(Prepared {
            running,
            proxy,
            egress_events,
            context_id,
            page,
        })
    }
}

/// The one set kept ready, if any.
#[derive(Default)]
pub(super) struct Spare {
    slot: Arc<tokio::sync::Mutex<Option<Prepared>>>,
    filling: Arc<AtomicBool>,
}

impl Spare {
    /// The spare, if it was made by `running` and that browser still runs.
    pub async fn take(&self, running: &Arc<Running>) -> Option<Prepared> {
        let spare = self.slot.lock().await.take()?;
        if Arc::ptr_eq(&spare.running, running) && !running.is_dead() {
            return Some(spare);
        }
        debug!("spare session context dropped: its browser is gone");
        discard(spare).await;
        None
    }

    /// Makes a new spare in `running` a moment from now, unless one is
    /// being made or is ready.
    pub fn refill(&self, preparer: Preparer, running: Arc<Running>) {
        if self.filling.swap(true, Ordering::AcqRel) {
            return;
        }
        let (slot, filling) = (self.slot.clone(), self.filling.clone());
        tokio::spawn(async move {
            tokio::time::sleep(REFILL_AFTER).await;
            if slot.lock().await.is_none() && !running.is_dead() {
                match preparer.prepare(running).await {
                    Ok(p) => {
                        let mut slot = slot.lock().await;
                        match slot.take() {
                            // Never more than one.
                            Some(other) => {
                                *slot = Some(other);
                                drop(slot);
                                discard(p).await;
                            }
                            None => *slot = Some(p),
                        }
                    }
                    Err(e) => debug!("no spare session context: {e}"),
                }
            }
            filling.store(false, Ordering::Release);
        });
    }

    /// Whether a spare is ready now.
    pub async fn ready(&self) -> bool {
        self.slot.lock().await.is_some()
    }

    /// Drops the spare (the server is shutting down).
    pub async fn clear(&self) {
        if let Some(spare) = self.slot.lock().await.take() {
            discard(spare).await;
        }
    }
}

/// Disposes of a spare's context (when its browser still runs); its proxy
/// stops as it drops.
async fn discard(spare: Prepared) {
    if !spare.running.is_dead() {
        let dispose = spare
            .running
            .browser
            .dispose_browser_context(spare.context_id.clone());
        let _ = tokio::time::timeout(Duration::from_secs(5), dispose).await;
    }
}
