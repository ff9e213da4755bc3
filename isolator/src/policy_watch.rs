//! Live reload of the policy file: poll its mtime and content every interval.
//!
//! Polling (once a second by default) rather than inotify: it works the same
//! on every filesystem, including bind mounts and network volumes where change
//! notification is unreliable, and a policy file is tiny. The modification
//! time and size are checked first; the content is only hashed when they
//! change (or are too recent to trust), so an editor touching the file or our own write-back does not cause
//! a reload. [`policies::PolicyStore::reload_file`] then compiles the new text;
//! a broken document is logged with its positions and the old policy stays in
//! force.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use policies::PolicyStore;
use tokio::sync::watch;

/// What the watcher saw last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    mtime: Option<SystemTime>,
    len: u64,
    hash: u64,
}

fn look(path: &Path, previous: Option<Seen>) -> std::io::Result<Seen> {
    let meta = std::fs::metadata(path)?;
    let (mtime, len) = (meta.modified().ok(), meta.len());
    // Like git's "racy clean" check: a file modified within the last two
    // seconds may change again without its mtime moving (coarse timestamps),
    // so it is hashed regardless.
    let settled = mtime
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > Duration::from_secs(2));
    if let Some(p) = previous {
        if settled && p.mtime == mtime && p.len == len {
            return Ok(p);
        }
    }
    let bytes = std::fs::read(path)?;
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    Ok(Seen {
        mtime,
        len,
        hash: h.finish(),
    })
}

/// Watches `store`'s policy file until `shutdown` turns true (or its sender
/// is dropped), reloading it when its content changes.
pub async fn watch(
    store: Arc<PolicyStore>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(path) = store.policy_file().map(Path::to_path_buf) else {
        return;
    };
    // Nothing seen yet: the first tick reloads, which is a no-op unless the
    // file changed between the store loading it and this task starting.
    let mut seen: Option<Seen> = None;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
        let now = match look(&path, seen) {
            Ok(s) => s,
            Err(e) => {
                // Editors replace files by rename: a brief absence is normal.
                tracing::debug!(path = %path.display(), error = %e, "policy file not readable");
                continue;
            }
        };
        if seen.is_some_and(|s| s.hash == now.hash) {
            seen = Some(now);
            continue;
        }
        seen = Some(now);
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.reload_file()).await {
            Ok(Ok(Some(version))) => {
                tracing::info!(path = %path.display(), version, "policy file reloaded")
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!(
                path = %path.display(),
                "policy file refused, the previous policy stays in force: {e}"
            ),
            Err(e) => tracing::error!(path = %path.display(), "policy reload task failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policies::{Action, Identity, Mode};

    #[tokio::test]
    async fn reloads_on_change_and_keeps_old_policy_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.toml");
        std::fs::write(&file, "[defaults]\npaste = \"allow\"\n").unwrap();
        let store = Arc::new(PolicyStore::open(&file, &dir.path().join("h")).unwrap());
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(watch(store.clone(), Duration::from_millis(20), rx));
        let mode = |s: &PolicyStore| {
            s.current()
                .decide_str(&Identity::default(), "https://x.example/", Action::Paste)
                .unwrap()
                .mode
        };
        let wait_for = |want: u64| {
            let store = store.clone();
            async move {
                for _ in 0..250 {
                    if store.version() == want {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                panic!("version {want} never came, at {}", store.version());
            }
        };
        std::fs::write(&file, "[defaults]\npaste = \"block\"\n").unwrap();
        wait_for(2).await;
        assert_eq!(mode(&store), Mode::Block);
        std::fs::write(&file, "[defaults]\npaste = \"nonsense\"\n").unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(store.version(), 2);
        assert_eq!(mode(&store), Mode::Block);
        tx.send(true).unwrap();
        task.await.unwrap();
    }
}
