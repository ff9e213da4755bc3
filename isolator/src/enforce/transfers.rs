//! How many file transfers (uploads, downloads, image pastes, prints) may be
//! in progress at once, per user and server-wide.
//!
//! Every transfer holds a [`TransferPermit`] from the moment it starts (the
//! HTTP request arrives, Chromium announces a download, the page prints)
//! until its verdict is applied. Nothing waits for a permit: a transfer
//! beyond either bound is refused at once with a message saying which bound
//! (HTTP 429 for uploads and pastes; a cancelled download or print with a
//! notice), so a user or a page cannot queue unbounded work on the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bounds, shared by every session; see the module docs.
#[derive(Debug)]
pub struct Transfers {
    global: Arc<Semaphore>,
    max: usize,
    per_user: Mutex<HashMap<String, Arc<Semaphore>>>,
    max_per_user: usize,
}

/// One transfer in progress; dropping it ends the transfer.
#[derive(Debug)]
pub struct TransferPermit {
    _user: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Transfers {
    /// At most `max` transfers server-wide and `max_per_user` per user.
    pub fn new(max: usize, max_per_user: usize) -> Self {
        Transfers {
            global: Arc::new(Semaphore::new(max)),
            max,
            per_user: Mutex::new(HashMap::new()),
            max_per_user,
        }
    }

    /// A permit for a transfer by `user`, or why there is none (for the user).
    pub fn try_begin(&self, user: &str) -> Result<TransferPermit, String> {
        let sem = {
            let mut map = self.per_user.lock().unwrap_or_else(|p| p.into_inner());
            // Users with nothing in progress are forgotten.
            map.retain(|_, s| s.available_permits() < self.max_per_user);
            map.entry(user.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.max_per_user)))
                .clone()
        };
        let user_permit = sem.try_acquire_owned().map_err(|_| {
            format!(
                "you already have {} file transfers in progress; try again when one has finished",
                self.max_per_user
            )
        })?;
        let global = self.global.clone().try_acquire_owned().map_err(|_| {
            format!(
                "the server is busy with {} file transfers; try again in a moment",
                self.max
            )
        })?;
        Ok(TransferPermit {
            _user: user_permit,
            _global: global,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_hold_per_user_and_server_wide_and_free_on_drop() {
        let t = Transfers::new(3, 2);
        let a1 = t.try_begin("ann").unwrap();
        let _a2 = t.try_begin("ann").unwrap();
        let err = t.try_begin("ann").unwrap_err();
        assert!(err.contains("2 file transfers in progress"), "{err}");
        let _b1 = t.try_begin("bob").unwrap();
        let err = t.try_begin("bob").unwrap_err();
        assert!(err.contains("server is busy with 3"), "{err}");
        drop(a1);
        let _b2 = t.try_begin("bob").unwrap();
        assert_eq!(t.per_user.lock().unwrap().len(), 2);
    }
}
