//! Many nodes, one service: the state nodes share in PostgreSQL.
//!
//! Without a `[cluster]` section nothing here runs and the server is one
//! node with its embedded defaults (policy file, local disk, SQLite). With
//! it, each node connects to the database named by `cluster.database_url`
//! ([`db`], kept up with reconnects; [`schema`] migrated at start) and
//! shares:
//!
//! - the **policy** and its versions ([`policy`]): the database decides each
//!   version, `NOTIFY` tells every node, which compiles and swaps it in;
//! - the **registry** ([`registry`]): nodes with their load and whether they
//!   drain, and which node holds which session (for routing, the admin's
//!   live sessions page and terminate);
//! - **logins** ([`logins`]): a password login made on one node is
//!   recognised by all, and the cluster secret that signs requests one node
//!   forwards to another (`http::cluster` does the forwarding);
//! - **users and admin API tokens** ([`directory`]) that admins manage
//!   through the API, copied into every node's auth;
//! - the **audit index** ([`audit`]): every node's recorded sessions and
//!   incidents, shipped from its own index, so the search and the player on
//!   any node find any recording (read from the bucket).
//!
//! Failure rule: the database is never on the path of a user's action. A
//! node that loses it keeps running its sessions with the policy in force
//! (every action still judged), refuses policy changes with a clear error,
//! reports it in its health, and catches up when the database is back.

pub mod audit;
pub mod config;
pub mod db;
pub mod directory;
pub mod logins;
pub mod policy;
pub mod registry;
pub mod schema;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;

pub use config::ClusterConfig;
pub use db::{Db, DbError, DbHealth};
pub use policy::{PolicyWriter, SharedPolicy};
pub use registry::{NodeRow, Registry, SessionRow};

/// This node's membership of the cluster.
#[derive(Debug)]
pub struct Cluster {
    config: ClusterConfig,
    url: String,
    db: Arc<Db>,
    policy: Arc<SharedPolicy>,
    registry: OnceLock<Arc<Registry>>,
    logins: logins::Logins,
    directory: Arc<directory::DirectoryStore>,
    secret: [u8; 32],
}

impl Cluster {
    /// Connects, migrates the schema and loads the shared policy, seeding an
    /// empty database with `seed`'s policy in force. Any failure stops the
    /// start with the reason (a node that cannot reach its database at start
    /// has no policy to enforce).
    pub async fn connect(
        config: &ClusterConfig,
        listen: SocketAddr,
        seed: &policies::PolicyStore,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<Cluster> {
        let db = Db::connect(config, shutdown.clone()).await?;
        let schema = schema::migrate(&db)
            .await
            .map_err(|e| anyhow::anyhow!("cluster database schema: {e}"))?;
        let secret = logins::cluster_secret(&db)
            .await
            .map_err(|e| anyhow::anyhow!("cluster secret: {e}"))?;
        let policy = SharedPolicy::open(
            db.clone(),
            seed,
            Duration::from_millis(config.policy_poll_ms),
            shutdown,
        )
        .await?;
        let url = config
            .advertise_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"));
        tracing::info!(node = %config.node_id, %url, schema, "joined the cluster");
        Ok(Cluster {
            config: config.clone(),
            url,
            policy,
            registry: OnceLock::new(),
            logins: logins::Logins::new(db.clone()),
            directory: Arc::new(directory::DirectoryStore::new(db.clone())),
            secret,
            db,
        })
    }

    /// Starts writing this node and its sessions into the registry.
    pub fn start_registry(
        &self,
        sessions: Arc<crate::session::SessionManager>,
        shutdown: watch::Receiver<bool>,
    ) {
        self.registry.get_or_init(|| {
            Registry::start(
                self.db.clone(),
                self.config.node_id.clone(),
                self.url.clone(),
                sessions,
                Duration::from_millis(self.config.heartbeat_ms),
                Duration::from_secs(self.config.node_timeout_secs),
                Duration::from_secs(self.config.drain_grace_secs),
                shutdown,
            )
        });
    }

    /// Starts shipping this node's audit index to the shared one.
    pub fn start_audit_shipping(
        &self,
        store: Arc<crate::audit::Store>,
        shutdown: watch::Receiver<bool>,
    ) {
        audit::start_shipping(
            self.db.clone(),
            self.config.node_id.clone(),
            store,
            Duration::from_millis(self.config.heartbeat_ms),
            shutdown,
        );
    }

    /// The registry (once [`Cluster::start_registry`] ran).
    pub fn registry(&self) -> Option<&Arc<Registry>> {
        self.registry.get()
    }

    /// The shared policy.
    pub fn policy(&self) -> &Arc<SharedPolicy> {
        &self.policy
    }

    /// The shared logins.
    pub fn logins(&self) -> &logins::Logins {
        &self.logins
    }

    /// The users and admin API tokens admins manage.
    pub fn directory(&self) -> &Arc<directory::DirectoryStore> {
        &self.directory
    }

    /// Keeps `auth`'s users and tokens those of the database (see
    /// [`directory`]).
    pub fn follow_directory(
        &self,
        auth: Arc<crate::auth::Auth>,
        sessions: Arc<crate::session::SessionManager>,
        shutdown: watch::Receiver<bool>,
    ) {
        self.directory.follow(
            auth,
            sessions,
            Duration::from_millis(self.config.policy_poll_ms),
            shutdown,
        );
    }

    /// The secret that signs requests forwarded between nodes.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The database connection.
    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.config.node_id
    }

    /// Where other nodes reach this one.
    pub fn url(&self) -> &str {
        &self.url
    }
}
