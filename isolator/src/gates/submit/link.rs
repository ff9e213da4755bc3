//! Which session a browser context belongs to, for the submit gate, which
//! sees the browser as a whole (browser-level Fetch interception).
//!
//! Each session actor registers its BrowserContext id with its user and a
//! channel for the gate decisions taken on its behalf; the registration ends
//! when the returned [`Registration`] is dropped (session end).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::body::PassedFiles;
use crate::auth::User;
use crate::gates::GateReport;

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
