//! Who is acting.

use serde::{Deserialize, Serialize};

/// The user behind a session, as the isolator's authentication established it.
///
/// User and group names are compared with rules ASCII-case-insensitively
/// (`Alice` and `alice` are the same user): identity providers disagree on
/// case, and a rule that silently misses because of it would be a hole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    /// User name (login, or e-mail address from SSO).
    pub user: String,
    /// Groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Identity {
    /// An identity with `user` and `groups`.
    pub fn new<G: Into<String>>(
        user: impl Into<String>,
        groups: impl IntoIterator<Item = G>,
    ) -> Self {
        Identity {
            user: user.into(),
            groups: groups.into_iter().map(Into::into).collect(),
        }
    }
}
