//! The node and session registry: which nodes are up, how loaded, whether
//! draining, and which node holds which session.
//!
//! Each node writes its own row every `cluster.heartbeat_ms` (its load and
//! whether it is draining) and the rows of its live sessions (URL without
//! query or credentials, title, tabs, attached, incidents), deleting those
//! that ended; a session is also registered the moment it starts, so the
//! next request of its user can be routed to it. A node silent for
//! `cluster.node_timeout_secs` is taken for dead: every node drops its
//! session rows (they ended with it) and it gets no new sessions. While the
//! database is down the node keeps running its sessions and writes again
//! when it is back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use super::db::{Db, DbError};
use crate::protocol::{EndReason, NoticeLevel};
use crate::session::{SessionManager, SessionSummary};

/// A node as the registry lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeRow {
    /// Its `cluster.node_id`.
    pub id: String,
    /// Where it is reached (`cluster.advertise_url`).
    pub url: String,
    /// Live sessions.
    pub sessions: i32,
    /// `sessions.max`.
    pub capacity: i32,
    /// It takes no new sessions: it drains, or an admin asked it to (it
    /// acts on its next heartbeat; no node places a session there meanwhile).
    pub draining: bool,
    /// Its heartbeat is fresh.
    pub alive: bool,
    /// Seconds since its last heartbeat.
    pub heartbeat_age_secs: f64,
    /// Its build (`isolator` version).
    pub build: String,
}

/// A session as the registry lists it: the summary and the node holding it.
#[derive(Clone, Debug, Serialize)]
pub struct SessionRow {
    /// The node holding it.
    pub node: String,
    /// What the node last reported.
    #[serde(flatten)]
    pub summary: SessionSummary,
}

/// This node's side of the registry; see the module docs.
pub struct Registry {
    db: Arc<Db>,
    node_id: String,
    url: String,
    capacity: i32,
    timeout: Duration,
    sessions: Arc<SessionManager>,
    grace: Duration,
    draining: AtomicBool,
    /// Draining because the server is stopping: an admin cannot undo it.
    stopping: AtomicBool,
    /// Bumped by each drain and undrain, so a stale grace timer does nothing.
    drain_epoch: AtomicU64,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("node_id", &self.node_id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A session's summary as the registry stores it: its URL without query,
/// fragment or credentials.
fn listed(mut s: SessionSummary) -> SessionSummary {
    s.url = crate::enforce::redact_url(&s.url);
    s
}

impl Registry {
    /// Registers this node and keeps its rows current until `shutdown`,
    /// when it removes them.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        db: Arc<Db>,
        node_id: String,
        url: String,
        sessions: Arc<SessionManager>,
        heartbeat: Duration,
        timeout: Duration,
        grace: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) -> Arc<Registry> {
        let registry = Arc::new(Registry {
            db,
            node_id,
            url,
            capacity: i32::try_from(sessions.capacity()).unwrap_or(i32::MAX),
            timeout,
            sessions: sessions.clone(),
            grace,
            draining: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            drain_epoch: AtomicU64::new(0),
        });
        let me = registry.clone();
        tokio::spawn(async move {
            let mut was_down = false;
            loop {
                match me.beat(&sessions).await {
                    Ok(()) if was_down => {
                        tracing::info!("cluster registry written again");
                        was_down = false;
                    }
                    Ok(()) => {}
                    Err(e) if !was_down => {
                        tracing::warn!(error = %e, "cluster registry not written; sessions go on");
                        was_down = true;
                    }
                    Err(_) => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(heartbeat) => {}
                    _ = shutdown.wait_for(|s| *s) => break,
                }
            }
            if let Err(e) = me.leave().await {
                tracing::warn!(error = %e, "this node's registry rows were not removed");
            }
        });
        registry
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Whether this node is draining.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Drains this node (once): it takes no new session, its users are
    /// told at once, and the sessions still open after `drain_grace_secs`
    /// end with the reason `drained`.
    pub fn drain(self: &Arc<Self>, why: &'static str) {
        if self.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        let epoch = self.drain_epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let grace = self.grace;
        tracing::warn!(
            why,
            grace_secs = grace.as_secs(),
            sessions = self.sessions.count(),
            "draining: no new sessions"
        );
        let me = self.clone();
        tokio::spawn(async move {
            let minutes = grace.as_secs().div_ceil(60);
            let when = match minutes {
                0 => "now".to_owned(),
                1 => "in a minute".to_owned(),
                m => format!("in {m} minutes"),
            };
            me.sessions
                .announce(
                    NoticeLevel::Warn,
                    "draining",
                    &format!(
                        "This server is being taken out of service: this session ends {when}. \
                         Save your work; a new session opens on another server."
                    ),
                )
                .await;
            let deadline = tokio::time::Instant::now() + grace;
            let current = || me.draining() && me.drain_epoch.load(Ordering::SeqCst) == epoch;
            while tokio::time::Instant::now() < deadline && me.sessions.count() > 0 && current() {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            if current() && me.sessions.count() > 0 {
                tracing::warn!(
                    sessions = me.sessions.count(),
                    "drain grace over: ending the remaining sessions"
                );
                me.sessions.end_all(EndReason::Drained).await;
            }
        });
    }

    /// Drains because the server is stopping (SIGTERM); resolves when no
    /// session is left, at most the grace and five seconds later.
    pub async fn drain_to_stop(self: &Arc<Self>) {
        self.stopping.store(true, Ordering::SeqCst);
        self.drain("the server is stopping");
        let wait = async {
            while self.sessions.count() > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let _ = tokio::time::timeout(self.grace + Duration::from_secs(5), wait).await;
    }

    /// Takes sessions again (an admin undid a drain), unless stopping.
    fn undrain(&self) {
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        if self.draining.swap(false, Ordering::SeqCst) {
            self.drain_epoch.fetch_add(1, Ordering::SeqCst);
            tracing::info!("drain undone: taking new sessions again");
        }
    }

    /// Asks node `id` to drain (or to stop draining); it acts on its next
    /// heartbeat, this node at once. `false` when no such node is known.
    pub async fn request_drain(self: &Arc<Self>, id: &str, on: bool) -> Result<bool, DbError> {
        let n = self
            .db
            .client()?
            .execute(
                "UPDATE nodes SET drain_requested = $2 WHERE id = $1",
                &[&id, &on],
            )
            .await?;
        if id == self.node_id {
            match on {
                true => self.drain("an administrator asked for it"),
                false => self.undrain(),
            }
        }
        Ok(n == 1)
    }

    /// One heartbeat: this node's row, its sessions' rows, and dead nodes'
    /// sessions removed.
    async fn beat(self: &Arc<Self>, sessions: &SessionManager) -> Result<(), DbError> {
        let client = self.db.client()?;
        let list: Vec<SessionSummary> = sessions.list().into_iter().map(listed).collect();
        let row = client
            .query_one(
                "INSERT INTO nodes (id, url, sessions, capacity, draining, build, heartbeat_at)
                 VALUES ($1, $2, $3, $4, $5, $6, now())
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, sessions = excluded.sessions,
                     capacity = excluded.capacity, draining = excluded.draining,
                     build = excluded.build, heartbeat_at = now()
                 RETURNING drain_requested",
                &[
                    &self.node_id,
                    &self.url,
                    &(list.len() as i32),
                    &self.capacity,
                    &self.draining(),
                    &env!("CARGO_PKG_VERSION"),
                ],
            )
            .await?;
        match (row.get::<_, bool>(0), self.draining()) {
            (true, false) => self.drain("an administrator asked for it"),
            (false, true) => self.undrain(),
            _ => {}
        }
        self.upsert(&list).await?;
        let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
        // Not those registered since the list was taken (a session that
        // started meanwhile): a row is old enough after two seconds.
        client
            .execute(
                "DELETE FROM sessions WHERE node = $1 AND NOT (id = ANY($2))
                   AND seen_at < now() - interval '2 seconds'",
                &[&self.node_id, &ids],
            )
            .await?;
        client
            .execute("DELETE FROM logins WHERE expires_at <= now()", &[])
            .await?;
        // A dead node's sessions are listed no more (the queries join live
        // nodes), but their rows stay an hour, so a user coming back is told
        // what happened; then they and the node's row go.
        client
            .execute(
                "DELETE FROM sessions WHERE node IN
                   (SELECT id FROM nodes WHERE heartbeat_at < now() - interval '1 hour')",
                &[],
            )
            .await?;
        client
            .execute(
                "DELETE FROM nodes WHERE heartbeat_at < now() - interval '1 hour'",
                &[],
            )
            .await?;
        Ok(())
    }

    async fn upsert(&self, list: &[SessionSummary]) -> Result<(), DbError> {
        if list.is_empty() {
            return Ok(());
        }
        let col = |f: fn(&SessionSummary) -> String| list.iter().map(f).collect::<Vec<_>>();
        let ids = col(|s| s.id.clone());
        let users = col(|s| s.user.clone());
        let urls = col(|s| s.url.clone());
        let titles = col(|s| s.title.clone());
        let started: Vec<i64> = list.iter().map(|s| s.started as i64).collect();
        let tabs: Vec<i32> = list.iter().map(|s| s.tabs as i32).collect();
        let attached: Vec<bool> = list.iter().map(|s| s.attached).collect();
        let incidents: Vec<i64> = list.iter().map(|s| s.incidents as i64).collect();
        self.db
            .client()?
            .execute(
                "INSERT INTO sessions (id, node, user_name, started, url, title, tabs, attached, incidents, seen_at)
                 SELECT x.id, $1, x.u, x.s, x.url, x.t, x.tabs, x.a, x.inc, now()
                   FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                               $7::int[], $8::bool[], $9::bigint[]) AS x(id, u, s, url, t, tabs, a, inc)
                 ON CONFLICT (id) DO UPDATE SET node = excluded.node, url = excluded.url,
                     title = excluded.title, tabs = excluded.tabs, attached = excluded.attached,
                     incidents = excluded.incidents, seen_at = now()",
                &[
                    &self.node_id,
                    &ids,
                    &users,
                    &started,
                    &urls,
                    &titles,
                    &tabs,
                    &attached,
                    &incidents,
                ],
            )
            .await?;
        Ok(())
    }

    /// Registers a session the moment it starts (its user's next request
    /// may reach another node). Bounded: a slow database delays the start by
    /// at most two seconds and the heartbeat registers it later.
    pub async fn session_started(&self, summary: SessionSummary) {
        let one = [listed(summary)];
        let write = self.upsert(&one);
        match tokio::time::timeout(Duration::from_secs(2), write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "session not registered yet"),
            Err(_) => tracing::warn!("session not registered yet: the database is slow"),
        }
    }

    /// Every live session of every live node, oldest first.
    pub async fn sessions(&self) -> Result<Vec<SessionRow>, DbError> {
        let rows = self
            .db
            .client()?
            .query(
                "SELECT s.node, s.id, s.user_name, s.started, s.url, s.title, s.tabs, s.attached, s.incidents
                   FROM sessions s JOIN nodes n ON n.id = s.node
                  WHERE n.heartbeat_at >= now() - make_interval(secs => $1)
                  ORDER BY s.started, s.id",
                &[&self.timeout.as_secs_f64()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| SessionRow {
                node: r.get(0),
                summary: SessionSummary {
                    id: r.get(1),
                    user: r.get(2),
                    started: r.get::<_, i64>(3) as u64,
                    url: r.get(4),
                    title: r.get(5),
                    tabs: r.get::<_, i32>(6) as usize,
                    attached: r.get(7),
                    incidents: r.get::<_, i64>(8) as u64,
                },
            })
            .collect())
    }

    /// The node holding session `id` (alive or not) and the session's
    /// user, if the registry knows it.
    pub async fn locate(&self, id: &str) -> Result<Option<(NodeRow, String)>, DbError> {
        let Some(row) = self
            .db
            .client()?
            .query_opt("SELECT node, user_name FROM sessions WHERE id = $1", &[&id])
            .await?
        else {
            return Ok(None);
        };
        let (node, user): (String, String) = (row.get(0), row.get(1));
        let rows = self.nodes_where("n.id = $2", &node).await?;
        Ok(rows.into_iter().next().map(|n| (n, user)))
    }

    /// Every node the registry knows, alive or not, by id.
    pub async fn nodes(&self) -> Result<Vec<NodeRow>, DbError> {
        self.nodes_where("$2 = $2", "").await
    }

    async fn nodes_where(&self, condition: &str, arg: &str) -> Result<Vec<NodeRow>, DbError> {
        let rows = self
            .db
            .client()?
            .query(
                &format!(
                    "SELECT n.id, n.url, n.sessions, n.capacity, n.draining OR n.drain_requested, n.build,
                            extract(epoch FROM now() - n.heartbeat_at)::float8,
                            n.heartbeat_at >= now() - make_interval(secs => $1)
                       FROM nodes n WHERE {condition} ORDER BY n.id"
                ),
                &[&self.timeout.as_secs_f64(), &arg],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| NodeRow {
                id: r.get(0),
                url: r.get(1),
                sessions: r.get(2),
                capacity: r.get(3),
                draining: r.get(4),
                build: r.get(5),
                heartbeat_age_secs: r.get(6),
                alive: r.get(7),
            })
            .collect())
    }

    /// Every live, not draining node with room, the one with the most free
    /// room first (this node on a tie): where a new session should start,
    /// then where to try next if that node cannot be reached.
    pub async fn placement(&self) -> Result<Vec<NodeRow>, DbError> {
        let free = |n: &NodeRow| (n.capacity - n.sessions) as f64 / n.capacity.max(1) as f64;
        let mut nodes: Vec<NodeRow> = self
            .nodes()
            .await?
            .into_iter()
            .filter(|n| n.alive && !n.draining && n.sessions < n.capacity)
            // The registry learns of this node's drain at its next heartbeat.
            .filter(|n| !(n.id == self.node_id && self.draining()))
            .collect();
        nodes.sort_by(|a, b| {
            free(b)
                .total_cmp(&free(a))
                .then_with(|| (b.id == self.node_id).cmp(&(a.id == self.node_id)))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(nodes)
    }

    /// How long a silent node is still taken for alive
    /// (`cluster.node_timeout_secs`).
    pub fn node_timeout(&self) -> Duration {
        self.timeout
    }

    /// Removes this node and its sessions (a clean stop).
    async fn leave(&self) -> Result<(), DbError> {
        let client = self.db.client()?;
        client
            .execute("DELETE FROM sessions WHERE node = $1", &[&self.node_id])
            .await?;
        client
            .execute("DELETE FROM nodes WHERE id = $1", &[&self.node_id])
            .await?;
        Ok(())
    }
}
