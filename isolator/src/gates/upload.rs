//! The upload gate: a page's file chooser is intercepted (CDP
//! `Page.fileChooserOpened`); the client sends the chosen file over HTTP into
//! a private file of the session, capped as it arrives; the file is scanned
//! from disk in the extraction workers and, when it passes, set on the
//! page's input (`DOM.setFileInputFiles`), its digest remembered so the
//! submit gate does not scan it again. The session's flow is
//! `session::actor::uploads`; what is decided is here.

use policies::{Action, Decision};

use crate::auth::User;
use crate::enforce::Enforcer;

/// The `upload` decision for `user` uploading to `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Upload)
}

/// The largest file this upload may be: `enforce.max_upload_bytes`, lowered
/// by the rule's own cap.
pub fn size_cap(enforcer: &Enforcer, d: &Decision) -> u64 {
    let limit = enforcer.config().max_upload_bytes;
    d.limits
        .max_bytes(Action::Upload)
        .map_or(limit, |max| limit.min(max))
}
