//! The download gate: Chromium saves each download into the session's
//! browser-owned directory (CDP `Browser.setDownloadBehavior` with events);
//! a download over its cap is cancelled as soon as its size is known, a
//! finished one is moved into the session's private directory, scanned from
//! disk in the extraction workers and only then offered to the client. The
//! session's flow is `session::actor::downloads`; what is decided is here.

use policies::{Action, Decision};

use crate::auth::User;
use crate::enforce::Enforcer;
use crate::gates::size_text;

/// The `download` decision for `user` downloading from `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Download)
}

/// The largest file this download may be: `enforce.max_download_bytes`,
/// lowered by the rule's own cap.
pub fn size_cap(enforcer: &Enforcer, d: &Decision) -> u64 {
    let limit = enforcer.config().max_download_bytes;
    d.limits
        .max_bytes(Action::Download)
        .map_or(limit, |max| limit.min(max))
}

/// Why a download over its cap is refused, for the user.
pub fn too_large(limit: u64) -> String {
    format!(
        "the file is larger than the {} allowed for a download",
        size_text(limit)
    )
}
