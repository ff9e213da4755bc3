//! Which session a browser context belongs to, for gates that see the
//! browser as a whole (the submit gate's browser-level Fetch interception).
//!
//! Each session actor registers its BrowserContext id with its user and a
//! channel for the gate decisions taken on its behalf; the registration ends
//! when the returned [`Registration`] is dropped (session end).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use policies::Action;
use tokio::sync::mpsc;

use super::submit_body::PassedFiles;
use super::Verdict;
use crate::auth::User;

/// A decision a gate took for a session outside the session actor; the actor
/// reports it (log line, notice, recording) like its own.
#[derive(Debug)]
pub struct GateReport {
    /// The frame the action came from (equal to the target id for a tab's main frame).
    pub frame: String,
    /// The URL the action concerns (the request URL for submit).
    pub url: String,
    /// The gate.
    pub gate: Action,
    /// What was attempted, without the data.
    pub what: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// A session as the browser-wide gates see it.
#[derive(Debug)]
pub struct SessionLink {
    /// Whose session it is.
    pub user: User,
    /// Where its gate decisions go.
    pub reports: mpsc::Sender<GateReport>,
    /// The files its upload gate passed: the submit gate does not scan them again.
    pub uploads: PassedFiles,
}

/// The sessions by BrowserContext id.
#[derive(Debug, Default)]
pub struct ContextRegistry {
    sessions: Mutex<HashMap<String, Arc<SessionLink>>>,
}

impl ContextRegistry {
    /// Registers `context`; the registration lasts as long as the returned guard.
    pub fn register(
        self: &Arc<Self>,
        context: &str,
        user: User,
        reports: mpsc::Sender<GateReport>,
    ) -> Registration {
        let link = Arc::new(SessionLink {
            user,
            reports,
            uploads: PassedFiles::default(),
        });
        self.sessions
            .lock()
            .expect("context registry lock")
            .insert(context.to_owned(), link.clone());
        Registration {
            registry: self.clone(),
            context: context.to_owned(),
            link,
        }
    }

    /// The session of `context`, if one is registered.
    pub fn get(&self, context: &str) -> Option<Arc<SessionLink>> {
        self.sessions
            .lock()
            .expect("context registry lock")
            .get(context)
            .cloned()
    }

    /// Whether no session is registered.
    pub fn is_empty(&self) -> bool {
        self.sessions
            .lock()
            .expect("context registry lock")
            .is_empty()
    }
}

/// Keeps a context registered; dropping it unregisters.
#[derive(Debug)]
pub struct Registration {
    registry: Arc<ContextRegistry>,
    context: String,
    link: Arc<SessionLink>,
}

impl Registration {
    /// The registered session, as the browser-wide gates see it.
    pub fn link(&self) -> &Arc<SessionLink> {
        &self.link
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry
            .sessions
            .lock()
            .expect("context registry lock")
            .remove(&self.context);
    }
}
