//! What [`crate::Policy::decide`] returns.

use std::sync::Arc;

use enforcer::{Engine, Selection};
use serde::Serialize;

use crate::action::Action;
use crate::document::{Mode, OnMatch};

/// Limits that apply to the decided action, merged from the deciding rule and
/// the document's `defaults` (the rule's value wins where it sets one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Largest clipboard text (copy and paste), in bytes.
    pub max_clipboard_bytes: Option<u64>,
    /// Allowed upload types (lowercase extensions or detected kinds); empty = any.
    pub upload_types: Vec<String>,
    /// Largest upload, in bytes.
    pub max_upload_bytes: Option<u64>,
    /// Allowed download types; empty = any.
    pub download_types: Vec<String>,
    /// Largest download, in bytes.
    pub max_download_bytes: Option<u64>,
}

impl Limits {
    /// Whether a file named `name` (whose content was detected as `detected`,
    /// e.g. `pdf`, when known) may cross for `action` (upload or download).
    /// A file passes if its extension or its detected kind is listed. Other
    /// actions have no type limits.
    pub fn allows_type(&self, action: Action, name: &str, detected: Option<&str>) -> bool {
        let allowed = match action {
            Action::Upload => &self.upload_types,
            Action::Download => &self.download_types,
            _ => return true,
        };
        if allowed.is_empty() {
            return true;
        }
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| !e.is_empty() && !e.contains('/'));
        allowed.iter().any(|t| {
            ext.is_some_and(|e| e.eq_ignore_ascii_case(t))
                || detected.is_some_and(|d| d.eq_ignore_ascii_case(t))
        })
    }

    /// The size limit for `action`, if any (clipboard for copy and paste,
    /// file size for upload and download).
    pub fn max_bytes(&self, action: Action) -> Option<u64> {
        match action {
            Action::Copy | Action::Paste => self.max_clipboard_bytes,
            Action::Upload => self.max_upload_bytes,
            Action::Download => self.max_download_bytes,
            _ => None,
        }
    }
}

/// Which rule made a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// Position in the document's `rules`; `None` for `defaults`.
    pub index: Option<usize>,
    /// The rule's name (`defaults` for the defaults).
    pub name: Arc<str>,
}

/// Why a rule did or did not decide, one per rule examined, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Step {
    /// The rule selects other apps.
    AppNotSelected {
        /// Rule index.
        rule: usize,
    },
    /// The rule selects other users and groups.
    UserNotSelected {
        /// Rule index.
        rule: usize,
    },
    /// The rule selects this request but says nothing about this action.
    ActionNotSet {
        /// Rule index.
        rule: usize,
    },
    /// The rule decided.
    Matched {
        /// Rule index.
        rule: usize,
    },
    /// No rule decided: the document's `defaults` apply.
    Defaults,
}

/// The verdict of one rule for one action, precompiled at load.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub mode: Mode,
    pub profiles: Arc<[String]>,
    pub selection: Option<Arc<Selection>>,
    pub on_match: OnMatch,
    /// Set when `read_only` forced the block.
    pub read_only: bool,
}

/// The answer to "may this user do this action on this URL?".
///
/// Cheap to produce (a handful of reference-count increments and the explain
/// trail) and self-contained: it carries the engine the profiles were compiled
/// against, so a gate can scan with it even if the policy is swapped meanwhile.
#[derive(Clone, Serialize)]
pub struct Decision {
    /// The action decided.
    pub action: Action,
    /// Allow, block, or scan.
    pub mode: Mode,
    /// Profile ids scanned for (`scan` only).
    pub profiles: Arc<[String]>,
    /// The compiled profiles (`scan` only): `engine.scan_selection(text, sel)`.
    #[serde(skip)]
    pub selection: Option<Arc<Selection>>,
    /// The engine the selection belongs to.
    #[serde(skip)]
    pub engine: Arc<Engine>,
    /// What a scan that fires does.
    pub on_match: OnMatch,
    /// The rule that decided.
    pub rule: RuleRef,
    /// The app the URL belongs to (`other` for the catch-all).
    pub app: Arc<str>,
    /// Size and type limits.
    pub limits: Arc<Limits>,
    /// Detector ids masked in page content.
    pub mask: Arc<[String]>,
    /// Whether the page-content gate also OCRs the page's images and
    /// canvases (`page` decisions of a rule with `ocr_images = true` only).
    pub ocr_images: bool,
    /// Whether recordings keep typed text (otherwise only lengths).
    pub keep_typed_text: bool,
    /// Whether the deciding rule is read-only (and this block comes from it).
    pub read_only: bool,
    /// Every rule examined and why it did not, or did, decide.
    pub explain: Vec<Step>,
}

impl Decision {
    /// `true` if the action is refused outright (before any scan).
    pub fn is_blocked(&self) -> bool {
        self.mode == Mode::Block
    }

    /// Whether the scan also looks the content up among the registered
    /// confidential documents (the `fingerprints` profile).
    pub fn fingerprints(&self) -> bool {
        self.mode == Mode::Scan
            && self
                .profiles
                .iter()
                .any(|p| p == enforcer::fingerprint::PROFILE)
    }
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision")
            .field("action", &self.action)
            .field("mode", &self.mode)
            .field("profiles", &self.profiles)
            .field("on_match", &self.on_match)
            .field("rule", &self.rule)
            .field("app", &self.app)
            .field("limits", &self.limits)
            .field("mask", &self.mask)
            .field("ocr_images", &self.ocr_images)
            .field("keep_typed_text", &self.keep_typed_text)
            .field("read_only", &self.read_only)
            .field("explain", &self.explain)
            .finish_non_exhaustive()
    }
}
