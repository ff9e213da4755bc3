//! The connection to the cluster's PostgreSQL database, kept up.
//!
//! One client serves every query (tokio-postgres pipelines concurrent
//! queries over one connection); a supervisor task reconnects with growing
//! delays when the connection drops, and [`Db::health`] says whether the
//! database is reachable, since when, and the last error. Queries made while
//! it is down fail at once with [`DbError::Unavailable`]: callers keep
//! working with what they hold (the policy in force, their own sessions)
//! and never wait on the database on a user's action. `LISTEN` needs a
//! connection of its own: [`Db::listen`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_postgres::{AsyncMessage, Client};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::config::ClusterConfig;

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The connection is down; the supervisor is reconnecting.
    #[error("the cluster database is unavailable ({0})")]
    Unavailable(String),
    /// The query failed.
    #[error("cluster database: {0}")]
    Query(#[from] tokio_postgres::Error),
    /// A row held something this node cannot read.
    #[error("cluster database: {0}")]
    Data(String),
}

/// Whether the database is reachable, as the readiness check and the
/// admin pages report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbHealth {
    /// Connected.
    Up,
    /// Not connected since `since`, for the reason given (no secret in it).
    Down {
        /// When the connection was lost or first failed.
        since: Instant,
        /// The last error.
        reason: String,
    },
}

/// The shared connection; see the module docs.
pub struct Db {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    client: ArcSwapOption<Client>,
    health: watch::Sender<DbHealth>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("health", &*self.health.borrow())
            .finish_non_exhaustive()
    }
}

/// A tokio-postgres error as one line, without the URL (it never holds it)
/// and with the server's own message when there is one.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

impl Db {
    /// Connects once (an error here stops the server's start, naming why),
    /// then keeps the connection up in the background until `shutdown`.
    pub async fn connect(
        cluster: &ClusterConfig,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<Arc<Db>> {
        let url = cluster.database_url().map_err(anyhow::Error::msg)?;
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| anyhow::anyhow!("cluster.database_url: {e}"))?;
        config.connect_timeout(Duration::from_secs(cluster.connect_timeout_secs));
        if config.get_application_name().is_none() {
            config.application_name(format!("isolator {}", cluster.node_id));
        }
        let roots = crate::egress::tls::root_store(&cluster.database_ca_files)
            .map_err(|e| anyhow::anyhow!("cluster.database_ca_files: {e}"))?;
        let tls_config = rustls::ClientConfig::builder_with_provider(crate::egress::tls::crypto())
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS to the cluster database: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let db = Arc::new(Db {
            config,
            tls: MakeRustlsConnect::new(tls_config),
            client: ArcSwapOption::empty(),
            health: watch::channel(DbHealth::Down {
                since: Instant::now(),
                reason: "not connected yet".to_owned(),
            })
            .0,
        });
        let first = db
            .open()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the cluster database: {}", describe(&e)))?;
        let supervisor = db.clone();
        tokio::spawn(async move {
            let mut connection = Some(first);
            let mut delay = Duration::from_millis(250);
            loop {
                if let Some(done) = connection.take() {
                    supervisor.health.send_replace(DbHealth::Up);
                    delay = Duration::from_millis(250);
                    tokio::select! {
                        reason = done => supervisor.lost(reason),
                        _ = shutdown.wait_for(|s| *s) => return,
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
                match supervisor.open().await {
                    Ok(done) => {
                        tracing::info!("cluster database reconnected");
                        connection = Some(done);
                    }
                    Err(e) => {
                        supervisor.lost(describe(&e));
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });
        Ok(db)
    }

    /// Opens a connection, installs its client, and returns a future that
    /// ends with the reason when the connection does.
    async fn open(
        &self,
    ) -> Result<impl std::future::Future<Output = String> + Send + 'static, tokio_postgres::Error>
    {
        let (client, connection) = self.config.connect(self.tls.clone()).await?;
        self.client.store(Some(Arc::new(client)));
        Ok(async move {
            match connection.await {
                Ok(()) => "the server closed the connection".to_owned(),
                Err(e) => describe(&e),
            }
        })
    }

    fn lost(&self, reason: String) {
        self.client.store(None);
        let was_up = matches!(*self.health.borrow(), DbHealth::Up);
        if was_up {
            tracing::error!(%reason, "cluster database connection lost; running sessions go on");
        }
        self.health.send_modify(|h| match h {
            DbHealth::Down { reason: r, .. } => *r = reason,
            DbHealth::Up => {
                *h = DbHealth::Down {
                    since: Instant::now(),
                    reason,
                }
            }
        });
    }

    /// The client, or [`DbError::Unavailable`] while reconnecting.
    pub fn client(&self) -> Result<Arc<Client>, DbError> {
        match self.client.load_full() {
            Some(c) if !c.is_closed() => Ok(c),
            _ => Err(DbError::Unavailable(match &*self.health.borrow() {
                DbHealth::Down { reason, .. } => reason.clone(),
                DbHealth::Up => "reconnecting".to_owned(),
            })),
        }
    }

    /// Whether the database is reachable; `changed()` on the receiver wakes
    /// on every change.
    pub fn health(&self) -> watch::Receiver<DbHealth> {
        self.health.subscribe()
    }

    /// A connection of its own that listens on `channel` (an SQL
    /// identifier of ours, never user input). Notifications' payloads arrive
    /// on [`Listener::next`], which returns `None` when that connection ends
    /// (listen again then, and catch up on what was missed).
    pub async fn listen(&self, channel: &'static str) -> Result<Listener, DbError> {
        let (client, mut connection) = self.config.connect(self.tls.clone()).await?;
        let (tx, rx) = mpsc::channel(64);
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        tokio::spawn(async move {
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if tx.send(n.payload().to_owned()).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %describe(&e), "cluster notifications lost; listening again");
                        return;
                    }
                }
            }
        });
        client.batch_execute(&format!("LISTEN {channel}")).await?;
        Ok(Listener {
            rx,
            _client: client,
        })
    }
}

/// A connection listening for notifications; see [`Db::listen`].
pub struct Listener {
    rx: mpsc::Receiver<String>,
    _client: Client,
}

impl Listener {
    /// The next notification's payload; `None` once the connection ended.
    pub async fn next(&mut self) -> Option<String> {
        self.rx.recv().await
    }
}
