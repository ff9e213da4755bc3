//! Whether this node can take sessions: the answer of `/readyz`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A check computed at each probe: `Some(reason)` while the node is not
/// ready for it.
type Check = Box<dyn Fn() -> Option<String> + Send + Sync>;

#[derive(Default)]
struct Inner {
    /// Conditions set and cleared by their owners, by name.
    conditions: BTreeMap<String, String>,
    /// Checks asked at each probe, by name.
    checks: Vec<(String, Check)>,
}

/// The node's readiness, shared by everything that can make it unable to
/// take sessions. Cloning shares it.
///
/// A condition is one call: `readiness.set_not_ready("draining", "the node
/// is being drained")` turns `/readyz` to 503 with that reason until
/// `readiness.set_ready("draining")`. Conditions are independent (the
/// database may be down while the node drains); the node is ready when none
/// is set and no [`check`](Readiness::add_check) objects.
#[derive(Clone, Default)]
pub struct Readiness {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Readiness")
            .field("conditions", &inner.conditions)
            .field("checks", &inner.checks.len())
            .finish()
    }
}

impl Readiness {
    /// A node that is ready.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the node not ready for `condition` (e.g. `"draining"`,
    /// `"database"`), with a one-line reason shown by `/readyz`. Setting it
    /// again replaces the reason.
    pub fn set_not_ready(&self, condition: &str, reason: impl Into<String>) {
        let reason: String = reason.into();
        let one_line = reason.lines().next().unwrap_or("").trim().to_owned();
        let changed = self
            .lock()
            .conditions
            .insert(condition.to_owned(), one_line.clone())
            .as_ref()
            != Some(&one_line);
        if changed {
            tracing::warn!(condition, reason = %one_line, "node not ready");
        }
    }

    /// Clears `condition`; the node is ready again once nothing else holds it.
    pub fn set_ready(&self, condition: &str) {
        if self.lock().conditions.remove(condition).is_some() {
            tracing::info!(condition, "readiness condition cleared");
        }
    }

    /// Adds a check asked at each probe (cheap: it runs on every `/readyz`
    /// and scrape), e.g. whether the session cap is reached.
    pub fn add_check(
        &self,
        name: &str,
        check: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) {
        self.lock().checks.push((name.to_owned(), Box::new(check)));
    }

    /// `Ok` when ready, else every reason as `name: reason`, joined by `; `.
    pub fn status(&self) -> Result<(), String> {
        let inner = self.lock();
        let mut reasons: Vec<String> = inner
            .conditions
            .iter()
            .map(|(name, reason)| format!("{name}: {reason}"))
            .collect();
        for (name, check) in &inner.checks {
            if let Some(reason) = check() {
                reasons.push(format!("{name}: {reason}"));
            }
        }
        match reasons.is_empty() {
            true => Ok(()),
            false => Err(reasons.join("; ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[test]
    fn conditions_and_checks_add_up() {
        let r = Readiness::new();
        assert_eq!(r.status(), Ok(()));
        r.set_not_ready("draining", "the node is being drained\nsecond line");
        r.set_not_ready("database", "postgres is unreachable");
        assert_eq!(
            r.status(),
            Err("database: postgres is unreachable; draining: the node is being drained".into())
        );
        r.set_ready("draining");
        assert_eq!(r.status(), Err("database: postgres is unreachable".into()));
        r.set_ready("database");
        r.set_ready("never set");
        assert_eq!(r.status(), Ok(()));

        let full = Arc::new(AtomicBool::new(true));
        let f = full.clone();
        r.clone().add_check("capacity", move || {
            f.load(Ordering::Relaxed)
                .then(|| "all 4 sessions in use".to_owned())
        });
        assert_eq!(r.status(), Err("capacity: all 4 sessions in use".into()));
        full.store(false, Ordering::Relaxed);
        assert_eq!(r.status(), Ok(()));
    }
}
