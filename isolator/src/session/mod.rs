//! Browsing sessions: creation, lookup, attachment of client sockets, teardown.
//!
//! Each session is an actor task ([`actor`]) that owns its BrowserContext and
//! pages; everything else talks to it through a channel. The manager keeps the
//! registry, enforces the server-wide cap with a semaphore and the per-user
//! cap (`sessions.max_per_user`) with a count per user (a [`SessionPermit`]
//! holding both lives as long as the session), and hands out an unguessable token per session that
//! is bound to the user who created it.

mod actor;
pub mod config;
pub mod files;
pub mod input;
pub mod page_msg;
pub mod paste_image;
pub mod socket;
mod spare;
pub mod tab;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use serde::Serialize;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use crate::auth::{ct_eq, random_token, token_key, User};
use crate::browser::{BrowserError, BrowserManager};
use crate::egress::{self, EgressPolicy, Resolve, SystemResolver};
use crate::enforce::Enforcer;
use crate::gates::submit::SubmitGate;
use crate::protocol::{ClientMsg, EndReason, NoticeLevel, ServerMsg};
use crate::session::config::SessionSettings;
use tab::Viewport;

/// A frame ready to send: the newest one replaces any not yet sent.
#[derive(Debug)]
pub struct FrameData {
    /// Tab it belongs to.
    pub tab: u16,
    /// First after attach or tab switch.
    pub first: bool,
    /// CSS px.
    pub width: u16,
    /// CSS px.
    pub height: u16,
    /// JPEG bytes.
    pub jpeg: Vec<u8>,
}

/// Where a session was created from (recorded with it).
#[derive(Clone, Debug, Default)]
pub struct SessionOrigin {
    /// The client's address as the server saw it.
    pub addr: String,
    /// The client's User-Agent header.
    pub user_agent: String,
}

/// A client socket attached to a session.
pub struct Attachment {
    /// Distinguishes sockets of the same session.
    pub id: u64,
    /// Text messages to the client.
    pub out: mpsc::Sender<ServerMsg>,
    /// The newest frame for the client (a slot, not a queue).
    pub frames: watch::Sender<Option<Arc<FrameData>>>,
    /// Whether this is a re-attach.
    pub resumed: bool,
}

/// Commands to a session actor.
pub enum SessionCmd {
    /// A socket attached.
    Attach(Attachment),
    /// A client message from socket `.0`.
    Client(u64, ClientMsg),
    /// Socket `.0` went away.
    Detached(u64),
    /// End the session.
    End(EndReason),
    /// Tell the user something (an operator's announcement).
    Notice(NoticeLevel, &'static str, String),
    /// Files: uploads and downloads over HTTP.
    Files(files::FilesCmd),
    /// Image paste over HTTP.
    PasteImage(Box<paste_image::ImagePasteCmd>),
    /// An upload that did not arrive whole (too large, dropped): reported as blocked.
    UploadRefused {
        /// The chooser it was for.
        chooser: u64,
        /// The user's file name.
        name: String,
        /// Bytes received.
        size: u64,
        /// Why.
        reason: String,
    },
}

/// What the admin list shows about a live session.
#[derive(Clone, Debug, Serialize)]
pub struct SessionSummary {
    /// Session id.
    pub id: String,
    /// User name.
    pub user: String,
    /// Start time, seconds since the Unix epoch.
    pub started: u64,
    /// Active tab URL.
    pub url: String,
    /// Active tab title.
    pub title: String,
    /// Number of tabs.
    pub tabs: usize,
    /// A client is attached.
    pub attached: bool,
    /// Gate decisions that blocked, audited or found something.
    pub incidents: u64,
}

/// Live details the actor keeps current for listings.
#[derive(Clone, Debug, Default)]
pub struct LiveInfo {
    /// Active tab URL.
    pub url: String,
    /// Active tab title.
    pub title: String,
    /// Number of tabs.
    pub tabs: usize,
    /// A client is attached.
    pub attached: bool,
    /// The screencast rests: the page has been still (see
    /// `stream.rest_after_secs`).
    pub resting: bool,
    /// Gate decisions that blocked, audited or found something.
    pub incidents: u64,
}

/// The registry's view of a session.
pub struct SessionHandle {
    /// Session id (public; the token is the secret).
    pub id: String,
    token_key: [u8; 32],
    /// Who owns it.
    pub user: User,
    /// When it started.
    pub started: SystemTime,
    cmd: mpsc::Sender<SessionCmd>,
    live: Mutex<LiveInfo>,
    next_attach: AtomicU64,
    /// The server's metrics (frames and input latency, counted by the socket task).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl SessionHandle {
    /// Whether `token` is this session's token (constant time).
    pub fn check_token(&self, token: &str) -> bool {
        ct_eq(&token_key(token), &self.token_key)
    }

    /// A fresh socket id.
    pub fn next_attach_id(&self) -> u64 {
        self.next_attach.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether a client socket has attached before.
    pub fn was_attached(&self) -> bool {
        self.next_attach.load(Ordering::Relaxed) > 1
    }

    /// Sends a command to the actor; false when the session is gone.
    pub async fn send(&self, cmd: SessionCmd) -> bool {
        self.cmd.send(cmd).await.is_ok()
    }

    /// Whether a client socket is attached now.
    pub fn is_attached(&self) -> bool {
        self.live.lock().expect("live lock").attached
    }

    /// Whether the actor is still running.
    pub fn is_live(&self) -> bool {
        !self.cmd.is_closed()
    }

    /// A handle with no actor behind it, and the receiving end of its commands.
    #[cfg(test)]
    pub(crate) fn for_test() -> (Arc<SessionHandle>, mpsc::Receiver<SessionCmd>) {
        let (cmd, rx) = mpsc::channel(16);
        let handle = SessionHandle {
            id: "test".into(),
            token_key: token_key("token"),
            user: User::anonymous(),
            started: SystemTime::now(),
            cmd,
            live: Mutex::new(LiveInfo::default()),
            next_attach: AtomicU64::new(1),
            metrics: Arc::default(),
        };
        (Arc::new(handle), rx)
    }

    /// What the admin list shows of it now.
    pub fn summary(&self) -> SessionSummary {
        let live = self.live.lock().expect("live lock").clone();
        SessionSummary {
            id: self.id.clone(),
            user: self.user.name.clone(),
            started: self
                .started
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            url: live.url,
            title: live.title,
            tabs: live.tabs,
            attached: live.attached,
            incidents: live.incidents,
        }
    }
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The server-wide cap is reached.
    #[error("all {0} sessions are in use; try again in a minute")]
    Full(usize),
    /// This user already has `sessions.max_per_user` sessions.
    #[error("you already have {0} sessions open, the most one user may have")]
    UserFull(usize),
    /// The start URL was refused.
    #[error("{0}")]
    BadUrl(String),
    /// The browser failed.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// The server is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
}

type Registry = Mutex<HashMap<String, Arc<SessionHandle>>>;

/// Live (and starting) sessions per user name.
type UserCounts = Mutex<HashMap<String, usize>>;

/// A session's place under both caps; dropping it (when the actor ends)
/// frees the place.
pub struct SessionPermit {
    _server: OwnedSemaphorePermit,
    _user: Option<UserSlot>,
}

/// One of a user's `sessions.max_per_user` places.
struct UserSlot {
    counts: Arc<UserCounts>,
    user: String,
}

impl UserSlot {
    /// Takes a place for `user`, or `None` when they hold `max` already.
    fn take(counts: &Arc<UserCounts>, user: &str, max: usize) -> Option<UserSlot> {
        let mut map = counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(user.to_owned()).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(UserSlot {
            counts: counts.clone(),
            user: user.to_owned(),
        })
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.user);
            }
        }
    }
}

/// All sessions of this server.
pub struct SessionManager {
    config: Arc<SessionSettings>,
    browser: Arc<BrowserManager>,
    sessions: Arc<Registry>,
    permits: Arc<Semaphore>,
    per_user: Arc<UserCounts>,
    egress: Arc<EgressPolicy>,
    enforcer: Arc<Enforcer>,
    submit: Arc<SubmitGate>,
    resolver: Arc<dyn Resolve>,
    tls: Option<Arc<egress::Interceptor>>,
    shutdown: watch::Receiver<bool>,
    audit: Option<Arc<crate::audit::AuditService>>,
    /// The next session's browser side, made ahead (`sessions.spare`).
    spare: spare::Spare,
}

impl SessionManager {
    /// A manager; `shutdown` turning true ends every session.
    pub fn new(
        config: Arc<SessionSettings>,
        browser: Arc<BrowserManager>,
        egress: Arc<EgressPolicy>,
        enforcer: Arc<Enforcer>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let permits = Arc::new(Semaphore::new(config.sessions.max));
        Self {
            config,
            browser,
            sessions: Arc::default(),
            permits,
            per_user: Arc::default(),
            egress,
            submit: Arc::new(SubmitGate::new(enforcer.clone())),
            enforcer,
            resolver: Arc::new(SystemResolver),
            tls: None,
            shutdown,
            audit: None,
            spare: spare::Spare::default(),
        }
    }

    /// Scans inside TLS tunnels with `tls`, whose authority the browser
    /// was launched to trust ([`egress::Interceptor::chromium_args`]).
    pub fn with_tls(mut self, tls: Option<Arc<egress::Interceptor>>) -> Self {
        self.submit = Arc::new(SubmitGate::with_tls_inspected(
            self.enforcer.clone(),
            tls.is_some(),
        ));
        self.tls = tls;
        self
    }

    /// Records every session through `audit`.
    pub fn with_audit(mut self, audit: Arc<crate::audit::AuditService>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// The enforcement gates.
    pub fn enforcer(&self) -> &Arc<Enforcer> {
        &self.enforcer
    }

    /// The browser manager.
    pub fn browser(&self) -> &Arc<BrowserManager> {
        &self.browser
    }

    /// Starts a session for `user`; returns its handle and its secret token.
    pub async fn create(
        &self,
        user: User,
        start_url: Option<&str>,
        viewport: Viewport,
    ) -> Result<(Arc<SessionHandle>, String), CreateError> {
        self.create_from(user, start_url, viewport, SessionOrigin::default())
            .await
    }

    /// [`create`](Self::create) for a client at `origin` (recorded with the session).
    pub async fn create_from(
        &self,
        user: User,
        start_url: Option<&str>,
        viewport: Viewport,
        origin: SessionOrigin,
    ) -> Result<(Arc<SessionHandle>, String), CreateError> {
        if *self.shutdown.borrow() {
            return Err(CreateError::ShuttingDown);
        }
        let start_url = start_url
            .map(egress::parse_address_bar)
            .transpose()
            .map_err(|e| CreateError::BadUrl(e.to_string()))?;
        // With `auth.mode = "none"` everyone is "anonymous": only the server's cap applies.
        let user_slot = match self.config.users_known {
            false => None,
            true => {
                let max = self.config.sessions.max_per_user;
                Some(
                    UserSlot::take(&self.per_user, &user.name, max)
                        .ok_or(CreateError::UserFull(max))?,
                )
            }
        };
        let permit = SessionPermit {
            _server: self
                .permits
                .clone()
                .try_acquire_owned()
                .map_err(|_| CreateError::Full(self.config.sessions.max))?,
            _user: user_slot,
        };
        let started = Instant::now();
        let running = self.browser.get().await?;
        self.submit.intercept(&running).await?;
        // The proxy, context and page made ahead, or made now.
        let prepared = match self.spare.take(&running).await {
            Some(p) => p,
            None => self.preparer().prepare(running.clone()).await?,
        };
        if self.config.sessions.spare && !*self.shutdown.borrow() {
            self.spare.refill(self.preparer(), running.clone());
        }
        let spare::Prepared {
            running,
            proxy,
            egress_events,
            context_id,
            page,
        } = prepared;

        let token = random_token();
        let (cmd_tx, cmd_rx) = mpsc::channel(1024);
        let handle = Arc::new(SessionHandle {
            id: random_token()[..22].to_owned(),
            token_key: token_key(&token),
            user,
            started: SystemTime::now(),
            cmd: cmd_tx,
            live: Mutex::new(LiveInfo::default()),
            next_attach: AtomicU64::new(1),
            metrics: self.enforcer.metrics().clone(),
        });
        let recording = self
            .audit
            .as_ref()
            .and_then(|a| actor::Recording::start(a, &handle, &origin));
        let actor = actor::Actor::start(actor::ActorInit {
            handle: handle.clone(),
            config: self.config.clone(),
            contexts: self.submit.contexts().clone(),
            running,
            context_id,
            page,
            viewport,
            start_url: start_url.map(|u| u.to_string()),
            cmd_rx,
            shutdown: self.shutdown.clone(),
            registry: self.sessions.clone(),
            permit,
            egress: proxy,
            egress_events,
            enforcer: self.enforcer.clone(),
            recording,
        })
        .await;
        if let Err(e) = actor {
            return Err(e.into());
        }
        self.sessions
            .lock()
            .expect("registry lock")
            .insert(handle.id.clone(), handle.clone());
        self.enforcer.metrics().session_started();
        tracing::info!(
            session = %handle.id,
            user = %handle.user.name,
            ms = started.elapsed().as_millis() as u64,
            "session started"
        );
        Ok((handle, token))
    }

    /// A live session by id.
    pub fn get(&self, id: &str) -> Option<Arc<SessionHandle>> {
        self.sessions
            .lock()
            .expect("registry lock")
            .get(id)
            .filter(|h| h.is_live())
            .cloned()
    }

    /// Summaries of all live sessions.
    pub fn list(&self) -> Vec<SessionSummary> {
        let mut list: Vec<_> = self
            .sessions
            .lock()
            .expect("registry lock")
            .values()
            .filter(|h| h.is_live())
            .map(|h| h.summary())
            .collect();
        list.sort_by(|a, b| a.started.cmp(&b.started).then(a.id.cmp(&b.id)));
        list
    }

    /// How many sessions this server may hold (`sessions.max`).
    pub fn capacity(&self) -> usize {
        self.config.sessions.max
    }

    /// Live sessions, how many of them have a client attached, and how
    /// many of those rest their screencast (for metrics: no summaries are
    /// built).
    pub fn attached_count(&self) -> (usize, usize, usize) {
        let registry = self.sessions.lock().expect("registry lock");
        let live = registry.values().filter(|h| h.is_live());
        live.fold((0, 0, 0), |(n, a, r), h| {
            let info = h.live.lock().expect("live lock");
            (
                n + 1,
                a + usize::from(info.attached),
                r + usize::from(info.attached && info.resting),
            )
        })
    }

    /// Number of live sessions.
    pub fn count(&self) -> usize {
        self.config.sessions.max - self.permits.available_permits()
    }

    /// Ends a session; false when there is no such session.
    pub async fn end(&self, id: &str, reason: EndReason) -> bool {
        match self.get(id) {
            Some(h) => h.send(SessionCmd::End(reason)).await,
            None => false,
        }
    }

    /// Ends every live session of user `name` with `reason`; returns how
    /// many there were.
    pub async fn end_user(&self, name: &str, reason: EndReason) -> usize {
        let handles: Vec<_> = self
            .sessions
            .lock()
            .expect("registry lock")
            .values()
            .filter(|h| h.is_live() && h.user.name == name)
            .cloned()
            .collect();
        let mut ended = 0;
        for h in handles {
            ended += usize::from(h.send(SessionCmd::End(reason)).await);
        }
        ended
    }

    /// Tells the user of every live session `message` (e.g. that this
    /// server is being drained).
    pub async fn announce(&self, level: NoticeLevel, code: &'static str, message: &str) {
        let handles: Vec<_> = self
            .sessions
            .lock()
            .expect("registry lock")
            .values()
            .filter(|h| h.is_live())
            .cloned()
            .collect();
        for h in handles {
            h.send(SessionCmd::Notice(level, code, message.to_owned()))
                .await;
        }
    }

    /// Ends every live session with `reason` (and drops the spare).
    pub async fn end_all(&self, reason: EndReason) {
        self.spare.clear().await;
        for s in self.list() {
            self.end(&s.id, reason).await;
        }
    }

    /// Whether the next session's browser side is made ahead and ready
    /// (`sessions.spare`).
    pub async fn spare_ready(&self) -> bool {
        self.spare.ready().await
    }

    /// What making a session's browser side takes.
    fn preparer(&self) -> spare::Preparer {
        spare::Preparer {
            egress: self.egress.clone(),
            resolver: self.resolver.clone(),
            tls: self.tls.clone(),
            enforcer: self.enforcer.clone(),
            submit: self.submit.clone(),
            timeout: self.browser.command_timeout(),
        }
    }

    /// Waits (bounded) until every session has torn down.
    pub async fn drain(&self, within: std::time::Duration) {
        let deadline = Instant::now() + within;
        while self.permits.available_permits() < self.config.sessions.max
            && Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
