//! A compiled, immutable policy and its `decide`.

use std::sync::Arc;

use enforcer::Engine;
use url::Url;

use crate::action::Action;
use crate::data_dir::DataDir;
use crate::decision::{Decision, Limits, RuleRef, Step, Verdict};
use crate::document::PolicyDocument;
use crate::host::{url_parts, AppIndex};
use crate::identity::Identity;

/// The reserved name of the built-in catch-all app.
pub const OTHER_APP: &str = "other";

/// Which apps a rule selects.
#[derive(Clone, Debug)]
pub(crate) enum AppSel {
    /// Every app, including the catch-all.
    Any,
    /// These app indices; `None` stands for the catch-all app.
    Some(Vec<Option<usize>>),
}

/// A rule compiled for fast matching.
#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    pub name: Arc<str>,
    pub apps: AppSel,
    /// Users; with `groups` both empty, everyone.
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub verdicts: [Option<Arc<Verdict>>; 8],
    pub limits: Arc<Limits>,
    pub mask: Arc<[String]>,
    pub ocr_images: bool,
    pub keep_typed_text: bool,
}

impl CompiledRule {
    fn selects_app(&self, app: Option<usize>) -> bool {
        match &self.apps {
            AppSel::Any => true,
            AppSel::Some(list) => list.contains(&app),
        }
    }

    fn selects_identity(&self, id: &Identity) -> bool {
        if self.users.is_empty() && self.groups.is_empty() {
            return true;
        }
        self.users.iter().any(|u| u.eq_ignore_ascii_case(&id.user))
            || self
                .groups
                .iter()
                .any(|g| id.groups.iter().any(|ig| ig.eq_ignore_ascii_case(g)))
    }
}

/// A validated, compiled policy document. Immutable; share it as `Arc<Policy>`.
///
/// Build it with [`Policy::compile`] or [`crate::load_file`]; nothing invalid
/// gets this far.
pub struct Policy {
    pub(crate) document: PolicyDocument,
    pub(crate) engine: Arc<Engine>,
    pub(crate) app_names: Vec<Arc<str>>,
    pub(crate) other_name: Arc<str>,
    pub(crate) app_index: AppIndex,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) defaults: CompiledRule,
    pub(crate) data_dir: DataDir,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("apps", &self.app_names)
            .field("rules", &self.rules.len())
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// The document this policy was compiled from.
    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }

    /// The DLP engine holding the predefined and custom detectors and profiles.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Where this policy's exact-data files were read from; a new version
    /// of the document reads its files from the same place.
    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    /// The app `url` belongs to (`other` if none).
    pub fn app_of(&self, url: &Url) -> &str {
        match self.app_index_of(url) {
            Some(i) => &self.app_names[i],
            None => &self.other_name,
        }
    }

    fn app_index_of(&self, url: &Url) -> Option<usize> {
        let mut buf = String::new();
        url_parts(url, &mut buf).and_then(|parts| self.app_index.lookup(parts))
    }

    /// Decides `action` by `who` on `url`: for this action, the first rule
    /// that selects the URL's app and the identity and sets the action wins;
    /// if none does, the document's `defaults` apply. Pure and allocation-light.
    pub fn decide(&self, who: &Identity, url: &Url, action: Action) -> Decision {
        let app = self.app_index_of(url);
        let mut explain = Vec::with_capacity(self.rules.len() + 1);
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.selects_app(app) {
                explain.push(Step::AppNotSelected { rule: i });
            } else if !rule.selects_identity(who) {
                explain.push(Step::UserNotSelected { rule: i });
            } else if let Some(v) = &rule.verdicts[action.index()] {
                explain.push(Step::Matched { rule: i });
                return self.decision(action, app, rule, Some(i), v, explain);
            } else {
                explain.push(Step::ActionNotSet { rule: i });
            }
        }
        explain.push(Step::Defaults);
        let d = &self.defaults;
        let v = d.verdicts[action.index()]
            .as_ref()
            .expect("defaults have a verdict for every action");
        self.decision(action, app, d, None, v, explain)
    }

    /// [`Policy::decide`] for a URL given as text.
    pub fn decide_str(
        &self,
        who: &Identity,
        url: &str,
        action: Action,
    ) -> Result<Decision, url::ParseError> {
        Ok(self.decide(who, &Url::parse(url)?, action))
    }

    fn decision(
        &self,
        action: Action,
        app: Option<usize>,
        rule: &CompiledRule,
        index: Option<usize>,
        v: &Verdict,
        explain: Vec<Step>,
    ) -> Decision {
        Decision {
            action,
            mode: v.mode,
            profiles: v.profiles.clone(),
            selection: v.selection.clone(),
            engine: self.engine.clone(),
            on_match: v.on_match,
            rule: RuleRef {
                index,
                name: rule.name.clone(),
            },
            app: match app {
                Some(i) => self.app_names[i].clone(),
                None => self.other_name.clone(),
            },
            limits: rule.limits.clone(),
            mask: rule.mask.clone(),
            ocr_images: rule.ocr_images && action == Action::Page,
            keep_typed_text: rule.keep_typed_text,
            read_only: v.read_only,
            explain,
        }
    }

    /// The decision's trail in words, one line per rule examined.
    pub fn explain_lines(&self, d: &Decision) -> Vec<String> {
        let name = |i: usize| &self.document.rules[i].name;
        d.explain
            .iter()
            .map(|step| match *step {
                Step::AppNotSelected { rule } => format!(
                    "rule #{} `{}` skipped: it selects apps [{}], the URL is app `{}`",
                    rule + 1,
                    name(rule),
                    self.document.rules[rule].apps.join(", "),
                    d.app
                ),
                Step::UserNotSelected { rule } => {
                    let r = &self.document.rules[rule];
                    format!(
                        "rule #{} `{}` skipped: it selects users [{}] and groups [{}], not this identity",
                        rule + 1,
                        name(rule),
                        r.users.join(", "),
                        r.groups.join(", ")
                    )
                }
                Step::ActionNotSet { rule } => format!(
                    "rule #{} `{}` selects this request but does not set `{}`",
                    rule + 1,
                    name(rule),
                    d.action
                ),
                Step::Matched { rule } => format!(
                    "rule #{} `{}` decides `{}`: {}",
                    rule + 1,
                    name(rule),
                    d.action,
                    describe(d)
                ),
                Step::Defaults => format!("no rule sets `{}`: defaults apply: {}", d.action, describe(d)),
            })
            .collect()
    }

    /// Number of rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }
}

/// One-line description of a decision's verdict.
pub fn describe(d: &Decision) -> String {
    use crate::document::Mode;
    match d.mode {
        Mode::Allow => "allow".to_owned(),
        Mode::Block if d.read_only => "block (read-only)".to_owned(),
        Mode::Block => "block".to_owned(),
        Mode::Scan => format!(
            "scan with [{}], on match {}",
            d.profiles.join(", "),
            d.on_match
        ),
    }
}
