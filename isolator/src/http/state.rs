//! The server's shared state, built once from a validated configuration.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::Auth;
use crate::browser::BrowserManager;
use crate::cluster::{Cluster, PolicyWriter};
use crate::config::Config;
use crate::metrics::{process, Metrics};
use crate::session::SessionManager;

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// Authentication.
    pub auth: Arc<Auth>,
    /// Sessions.
    pub sessions: Arc<SessionManager>,
    /// The policy in force (and its history), shared with the enforcer.
    pub policies: Arc<policies::PolicyStore>,
    /// The enforcement gates.
    pub enforcer: Arc<crate::enforce::Enforcer>,
    /// Session recording, its search index and access log.
    pub audit: Arc<crate::audit::AuditService>,
    /// The `Host` names this server answers to.
    pub hosts: Arc<super::host_check::AllowedHosts>,
    /// Writes policy changes: the local store, or the cluster's database.
    pub policy_writer: PolicyWriter,
    /// This node's cluster membership, when `[cluster]` is configured.
    pub cluster: Option<Arc<Cluster>>,
    /// Forwards requests to the node holding a session (cluster only).
    pub forwarder: Option<Arc<super::cluster::Forwarder>>,
    /// This server's metrics and readiness (`[metrics]`).
    pub metrics: Arc<Metrics>,
    /// Which proxies say who the client is (`[forwarded]`).
    pub forwarding: Arc<super::client_addr::Forwarding>,
}

/// Builds the state of a node: joins the cluster first when `[cluster]` is
/// configured (connecting, migrating, loading the shared policy).
pub async fn build_node_state(
    config: Config,
    local_addr: SocketAddr,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<AppState> {
    let cluster = match &config.cluster {
        None => None,
        Some(c) => {
            let seed = open_policies(&config)?;
            Some(Cluster::connect(c, local_addr, &seed, shutdown.clone()).await?)
        }
    };
    let state = build_state_in(config, local_addr, shutdown, cluster)?;
    if let Some(c) = &state.cluster {
        // Read before serving, so users the database holds can sign in at once.
        match c.directory().load().await {
            Ok(d) => {
                state.auth.set_directory(d);
            }
            Err(e) => tracing::warn!(error = %e, "users and tokens of the cluster not read yet"),
        }
        if state.auth.mode() == crate::auth::config::AuthMode::Static
            && !state.auth.has_password_admin()
            && state.config.admin.api_tokens.is_empty()
        {
            tracing::warn!(
                "no administrator can sign in: add an admin to [[auth.users]], or a token to \
                 [admin] api_tokens and an admin user through POST /api/v1/users"
            );
        }
    }
    Ok(state)
}

/// Builds the state of a single node for a validated config; `local_addr` is
/// where the server listens (protected from the isolated browser). A config
/// with `[cluster]` needs [`build_node_state`].
pub fn build_state(
    config: Config,
    local_addr: SocketAddr,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<AppState> {
    if config.cluster.is_some() {
        anyhow::bail!("a cluster node's state is built by build_node_state");
    }
    build_state_in(config, local_addr, shutdown, None)
}

fn build_state_in(
    config: Config,
    local_addr: SocketAddr,
    shutdown: watch::Receiver<bool>,
    cluster: Option<Cluster>,
) -> anyhow::Result<AppState> {
    crate::os::private_fs::ensure_private_dir(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("data_dir: {e}"))?;
    // What a killed server left for its browser: profiles, session files.
    for prefix in ["isolator-chromium-", "isolator-files-"] {
        crate::os::private_fs::sweep_stale_temp_dirs(prefix);
    }
    let egress = crate::egress::EgressPolicy::new(config.egress.clone())
        .map_err(|e| anyhow::anyhow!("egress: {e}"))?
        .with_protected([local_addr, config.listen]);
    let (store, policy_writer) = match &cluster {
        // The database is the source of truth: the file seeded it once.
        Some(c) => (
            c.policy().store().clone(),
            PolicyWriter::Shared(c.policy().clone()),
        ),
        None => {
            let store = Arc::new(open_policies(&config)?);
            (store.clone(), PolicyWriter::Local(store))
        }
    };
    if cluster.is_none() && config.policies.watch_interval_ms > 0 && store.policy_file().is_some() {
        tokio::spawn(crate::policy_watch::watch(
            store.clone(),
            Duration::from_millis(config.policies.watch_interval_ms),
            shutdown.clone(),
        ));
    }
    let workers = crate::enforce::worker_user::worker_config(
        config.enforce.worker_program.clone(),
        &config.enforce.extract_run_as,
    )
    .map_err(|e| anyhow::anyhow!("extraction workers: {e}"))?;
    let fingerprints = match &config.enforce.fingerprints {
        Some(dir) => crate::enforce::Fingerprints::open(dir)
            .map_err(|e| anyhow::anyhow!("enforce.fingerprints: {e}"))?,
        None => crate::enforce::Fingerprints::none(),
    };
    let metrics = Arc::new(Metrics::new());
    let enforcer = Arc::new(
        crate::enforce::Enforcer::new(store.clone(), config.enforce.clone(), workers)
            .with_fingerprints(Arc::new(fingerprints))
            .with_metrics(metrics.clone()),
    );
    let audit = crate::audit::AuditService::open(&config.audit)
        .map_err(|e| anyhow::anyhow!("audit recordings at {}: {e}", config.audit.dir.display()))?;
    audit.spawn_retention(Duration::from_secs(3600), shutdown.clone());
    let hosts =
        super::host_check::AllowedHosts::new(&[local_addr, config.listen], &config.public_hosts);
    let config = Arc::new(config);
    let tls = match config.egress.tls.intercept {
        true => Some(Arc::new(
            crate::egress::Interceptor::new(&config.egress.tls)
                .map_err(|e| anyhow::anyhow!("egress: {e}"))?,
        )),
        false => {
            tracing::warn!(
                "egress.tls.intercept is off: https and wss requests leave unscanned by the egress proxy"
            );
            None
        }
    };
    let chromium_args = tls.as_ref().map(|t| t.chromium_args()).unwrap_or_default();
    let browser = Arc::new(BrowserManager::new(config.chromium.clone(), chromium_args));
    let sessions = Arc::new(
        SessionManager::new(
            Arc::new(config.session_settings()),
            browser,
            Arc::new(egress),
            enforcer.clone(),
            shutdown.clone(),
        )
        .with_tls(tls)
        .with_audit(audit.clone()),
    );
    sample_at_scrape(&metrics, &sessions, &audit);
    let auth = Arc::new(Auth::new(config.auth.clone(), local_addr.port()));
    let forwarding = super::client_addr::Forwarding::new(&config.forwarded)
        .map_err(|(field, e)| anyhow::anyhow!("{field}: {e}"))?;
    if let Some(c) = &cluster {
        c.start_registry(sessions.clone(), shutdown.clone());
        if let Some(store) = audit.store() {
            c.start_audit_shipping(store.clone(), shutdown.clone());
        }
        c.follow_directory(auth.clone(), sessions.clone(), shutdown.clone());
        c.logins().follow_logouts(auth.clone(), shutdown);
        cluster_readiness(&metrics, c);
    }
    Ok(AppState {
        auth,
        sessions,
        policies: store,
        enforcer,
        audit,
        hosts: Arc::new(hosts),
        config,
        policy_writer,
        forwarder: cluster.as_ref().map(super::cluster::forwarder),
        cluster: cluster.map(Arc::new),
        metrics,
        forwarding: Arc::new(forwarding),
    })
}

/// Reads what the services keep themselves (live sessions, worker
/// restarts, bytes recorded, the browser's processes) at each scrape. The
/// samplers hold weak references: the registry never keeps a stopped server
/// alive. A full node stays ready: its users must still reach their
/// sessions, and a new one gets "all sessions are in use" (or, in a
/// cluster, goes to a node with room) rather than a proxy's error.
fn sample_at_scrape(
    metrics: &Metrics,
    sessions: &Arc<SessionManager>,
    audit: &Arc<crate::audit::AuditService>,
) {
    let (s, a) = (Arc::downgrade(sessions), Arc::downgrade(audit));
    metrics.on_scrape(move |m| {
        if let Some(sessions) = s.upgrade() {
            let (active, attached, resting) = sessions.attached_count();
            m.set_sessions(active, attached, resting);
            m.set_worker_restarts(sessions.enforcer().worker_restarts());
            let running = sessions.browser().try_peek();
            let usage = running.as_ref().map(|r| {
                let pids = match r.cgroup() {
                    Some(group) => group.pids(),
                    None => r.pid().map(process::tree).unwrap_or_default(),
                };
                process::usage(&pids)
            });
            let group = running.as_ref().and_then(|r| r.cgroup());
            m.set_chromium(
                usage,
                group.and_then(|g| g.memory_usage()),
                group.and_then(|g| process::cgroup_cpu_seconds(g.dirs())),
            );
        }
        if let Some(audit) = a.upgrade() {
            m.set_recording_bytes(audit.bytes_written());
        }
    });
}

/// A cluster node is not ready while it drains (it takes no new session)
/// or while its database is unreachable (it cannot route, share logins or
/// take policy changes; its own sessions go on).
fn cluster_readiness(metrics: &Metrics, cluster: &Cluster) {
    let health = cluster.db().health();
    metrics
        .readiness()
        .add_check("database", move || match &*health.borrow() {
            crate::cluster::DbHealth::Up => None,
            crate::cluster::DbHealth::Down { reason, since } => Some(format!(
                "the cluster database is unreachable for {} s: {reason}",
                since.elapsed().as_secs()
            )),
        });
    let node = cluster.registry().cloned();
    metrics.readiness().add_check("draining", move || {
        node.as_ref()?
            .draining()
            .then(|| "the node is being drained".to_owned())
    });
}

/// Loads the policy document named by the config, or the built-in one that
/// allows everything.
fn open_policies(config: &Config) -> anyhow::Result<policies::PolicyStore> {
    match &config.policies.file {
        Some(file) => {
            let history = config.policies.history_dir(&config.data_dir);
            let store = policies::PolicyStore::open_in(file, &history, config.policies.data_dir())
                .map_err(|e| anyhow::anyhow!("policies: {e}"))?;
            tracing::info!(
                file = %file.display(),
                version = store.version(),
                rules = store.current().rule_count(),
                "policy loaded"
            );
            Ok(store)
        }
        None => {
            let policy = policies::compile_str_in(
                "",
                std::path::Path::new("built-in policy"),
                &config.policies.data_dir(),
            )
            .map_err(|e| anyhow::anyhow!("built-in policy: {e}"))?;
            tracing::warn!(
                "no policies.file configured: every action is allowed and nothing is scanned"
            );
            Ok(policies::PolicyStore::new(policy, "built-in"))
        }
    }
}
