//! The print gate: `window.print()`, Ctrl/Cmd+P or the client's Print
//! button. The `print` decision may refuse at once; otherwise the page is
//! printed to PDF (CDP `Page.printToPDF`) into the session's private
//! directory and the PDF goes through the download gate's scan before the
//! client may fetch it, under the `download` decision: a print is a download
//! of the page. The session's flow is `session::actor::print`.

use policies::{Action, Decision};

use crate::auth::User;
use crate::enforce::Enforcer;

/// The `print` decision for `user` printing `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Print)
}

/// The PDF's file name, from the page's title.
pub fn file_name(title: &str, clean: impl Fn(&str) -> String) -> String {
    let t = clean(title);
    format!("{}.pdf", if title.trim().is_empty() { "page" } else { &t })
}
