//! The actions that cross the isolation boundary.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Something a user does that moves data across the isolation boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Remote to local: text copied from the remote page to the user's clipboard.
    Copy,
    /// Local to remote: text pasted into the remote page.
    Paste,
    /// Local to remote: a file given to the remote page.
    Upload,
    /// Remote to local: a file the remote page offers.
    Download,
    /// Local to remote: typed input.
    Keyboard,
    /// Remote to local: printing the remote page.
    Print,
    /// Local to remote: form, XHR and fetch bodies the remote page sends.
    Submit,
    /// Remote to local: the content of the page being viewed.
    Page,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 8] = [
        Action::Copy,
        Action::Paste,
        Action::Upload,
        Action::Download,
        Action::Keyboard,
        Action::Print,
        Action::Submit,
        Action::Page,
    ];

    /// The lowercase name used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Copy => "copy",
            Action::Paste => "paste",
            Action::Upload => "upload",
            Action::Download => "download",
            Action::Keyboard => "keyboard",
            Action::Print => "print",
            Action::Submit => "submit",
            Action::Page => "page",
        }
    }

    /// Whether the action puts user input into the remote page; a `read_only`
    /// rule blocks exactly these.
    pub fn is_input(self) -> bool {
        matches!(
            self,
            Action::Paste | Action::Upload | Action::Keyboard | Action::Submit
        )
    }

    /// Position in [`Action::ALL`], for per-action tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action name that is not one of [`Action::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown action `{0}` (expected one of copy, paste, upload, download, keyboard, print, submit, page)")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}
