//! From [`PolicyDocument`] to [`Policy`]: every check, every problem at once.
//!
//! Compilation validates the whole document and collects a [`Problem`] per
//! fault with the path of the offending field, then compiles custom detectors
//! and profiles into one [`enforcer::Engine`], and precomputes per rule and
//! action a [`Verdict`] (mode, profiles as an [`enforcer::Selection`],
//! on-match) so that `decide` does no lookups. Exact-data CSV files are read
//! and hashed here; their clear text is dropped straight away.

use enforcer::fingerprint::PROFILE as FINGERPRINTS;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use enforcer::labels::names::NamePatterns;
use enforcer::{
    Confidence, CustomDetectorSpec, CustomKind, Engine, EngineBuilder, ExactDataSet, ProfileSpec,
};

use crate::action::Action;
use crate::data_dir::DataDir;
use crate::decision::{Limits, Verdict};
use crate::document::{DetectorDoc, DetectorKind, Level, Mode, OnMatch, PolicyDocument, RuleDoc};
use crate::error::{Error, Problem, Problems, Result};
use crate::host::{AppIndex, HostPattern};
use crate::policy::{AppSel, CompiledRule, Policy, OTHER_APP};

/// The engine with only predefined detectors and profiles, to tell predefined
/// ids from unknown ones before the real engine is built.
fn predefined() -> Option<&'static Engine> {
    static BASE: OnceLock<Option<Engine>> = OnceLock::new();
    BASE.get_or_init(|| EngineBuilder::new().build().ok())
        .as_ref()
}

fn confidence(l: Level) -> Confidence {
    match l {
        Level::Low => Confidence::Low,
        Level::Medium => Confidence::Medium,
        Level::High => Confidence::High,
    }
}

struct Ctx {
    problems: Vec<Problem>,
}

impl Ctx {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(field, message));
    }
}

impl Policy {
    /// Validates and compiles `doc`. Exact-data CSV files are names inside
    /// `data_dir` and are read only through [`DataDir::read`]. On failure,
    /// every problem found is in [`Error::Invalid`].
    pub fn compile(doc: PolicyDocument, data_dir: &DataDir) -> Result<Policy> {
        let mut cx = Ctx {
            problems: Vec::new(),
        };

        // Apps.
        let mut app_names: Vec<Arc<str>> = Vec::new();
        let mut app_by_name: HashMap<String, usize> = HashMap::new();
        let mut app_index = AppIndex::default();
        let mut pattern_owner: HashMap<String, usize> = HashMap::new();
        for (i, app) in doc.apps.iter().enumerate() {
            let name = app.name.trim();
            if name.is_empty() {
                cx.push(format!("apps[{i}].name"), "app name is empty");
            } else if name.eq_ignore_ascii_case(OTHER_APP) {
                cx.push(
                    format!("apps[{i}].name"),
                    "`other` is reserved for the built-in catch-all app",
                );
            } else if let Some(&prev) = app_by_name.get(&name.to_lowercase()) {
                cx.push(
                    format!("apps[{i}].name"),
                    format!("duplicate app name `{name}` (also apps[{prev}])"),
                );
            } else {
                app_by_name.insert(name.to_lowercase(), i);
            }
            app_names.push(Arc::from(name));
            if app.hosts.is_empty() {
                cx.push(
                    format!("apps[{i}].hosts"),
                    format!("app `{name}` has no host patterns"),
                );
            }
            for (j, raw) in app.hosts.iter().enumerate() {
                match HostPattern::parse(raw) {
                    Err(e) => cx.push(format!("apps[{i}].hosts[{j}]"), e),
                    Ok(p) => {
                        let key = p.to_string();
                        if let Some(&owner) = pattern_owner.get(&key) {
                            let msg = if owner == i {
                                format!("host pattern `{key}` is listed twice")
                            } else {
                                format!(
                                    "host pattern `{key}` overlaps with app `{}` (apps[{owner}]), which already has it",
                                    doc.apps[owner].name
                                )
                            };
                            cx.push(format!("apps[{i}].hosts[{j}]"), msg);
                        } else {
                            pattern_owner.insert(key, i);
                            app_index.insert(&p, i);
                        }
                    }
                }
            }
        }

        // Detectors and profiles into one engine.
        let engine = build_engine(&doc, data_dir, &mut cx);

        let known = Known {
            engine: engine.as_deref(),
            profiles: doc.profiles.iter().map(|p| p.id.trim()).collect(),
            detectors: doc.detectors.iter().map(|d| d.id.trim()).collect(),
        };

        // Rules.
        let mut rule_names: HashMap<String, usize> = HashMap::new();
        let mut rules = Vec::with_capacity(doc.rules.len());
        let defaults_fallback = Limits::default();
        let defaults_limits = limits(&doc.defaults, &defaults_fallback);
        for (i, rule) in doc.rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            let name = rule.name.trim();
            if name.is_empty() {
                cx.push(format!("{at}.name"), "rule has no name");
            } else if name.eq_ignore_ascii_case("defaults") {
                cx.push(
                    format!("{at}.name"),
                    "`defaults` is reserved for the document's defaults",
                );
            } else if let Some(&prev) = rule_names.get(&name.to_lowercase()) {
                cx.push(
                    format!("{at}.name"),
                    format!("duplicate rule name `{name}` (also rules[{prev}])"),
                );
            } else {
                rule_names.insert(name.to_lowercase(), i);
            }
            let apps = if rule.apps.is_empty() {
                AppSel::Any
            } else {
                let mut sel = Vec::new();
                for (j, a) in rule.apps.iter().enumerate() {
                    if a.trim().eq_ignore_ascii_case(OTHER_APP) {
                        sel.push(None);
                    } else if let Some(&idx) = app_by_name.get(&a.trim().to_lowercase()) {
                        sel.push(Some(idx));
                    } else {
                        cx.push(
                            format!("{at}.apps[{j}]"),
                            format!(
                                "unknown app `{a}`{}",
                                suggest(a, doc.apps.iter().map(|a| a.name.as_str()))
                            ),
                        );
                    }
                }
                AppSel::Some(sel)
            };
            check_names(&mut cx, &at, "users", &rule.users);
            check_names(&mut cx, &at, "groups", &rule.groups);
            let compiled = compile_rule(
                &mut cx,
                &at,
                name,
                rule,
                apps,
                engine.as_deref(),
                &known,
                &defaults_limits,
                false,
            );
            rules.push(compiled);
        }

        // Defaults.
        let d = &doc.defaults;
        for (field, set) in [
            ("apps", !d.apps.is_empty()),
            ("users", !d.users.is_empty()),
            ("groups", !d.groups.is_empty()),
        ] {
            if set {
                cx.push(
                    format!("defaults.{field}"),
                    "defaults apply to everyone everywhere: selectors are not allowed here",
                );
            }
        }
        let defaults = compile_rule(
            &mut cx,
            "defaults",
            "defaults",
            d,
            AppSel::Any,
            engine.as_deref(),
            &known,
            &defaults_fallback,
            true,
        );

        match engine {
            Some(engine) if cx.problems.is_empty() => Ok(Policy {
                document: doc,
                engine,
                app_names,
                other_name: Arc::from(OTHER_APP),
                app_index,
                rules,
                defaults,
                data_dir: data_dir.clone(),
            }),
            _ => Err(Error::Invalid(Problems(cx.problems))),
        }
    }
}

/// Which profile and detector ids exist: the engine's when it could be built,
/// otherwise the predefined ones plus those the document declares, so that
/// rules are still checked when a detector is broken.
struct Known<'a> {
    engine: Option<&'a Engine>,
    profiles: HashSet<&'a str>,
    detectors: HashSet<&'a str>,
}

impl Known<'_> {
    fn profile(&self, id: &str) -> bool {
        if id == FINGERPRINTS {
            return true;
        }
        match self.engine {
            Some(e) => e.has_profile(id),
            None => self.profiles.contains(id) || predefined().is_some_and(|b| b.has_profile(id)),
        }
    }

    fn detector(&self, id: &str) -> bool {
        match self.engine {
            Some(e) => e.has_detector(id),
            None => self.detectors.contains(id) || predefined().is_some_and(|b| b.has_detector(id)),
        }
    }
}

fn check_names(cx: &mut Ctx, at: &str, what: &str, names: &[String]) {
    for (j, n) in names.iter().enumerate() {
        if n.trim().is_empty() {
            cx.push(format!("{at}.{what}[{j}]"), format!("empty name in {what}"));
        }
    }
}

/// ` (did you mean `x`?)` when a known name is close to `wrong`.
fn suggest<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> String {
    let w = wrong.to_lowercase();
    known
        .filter(|k| {
            let k = k.to_lowercase();
            k.contains(&w) || w.contains(&k) || edit_distance(&k, &w) <= 2
        })
        .min_by_key(|k| edit_distance(&k.to_lowercase(), &w))
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn limits(rule: &RuleDoc, fallback: &Limits) -> Limits {
    let types = |v: &[String], fb: &[String]| {
        if v.is_empty() {
            fb.to_vec()
        } else {
            v.iter()
                .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
                .collect()
        }
    };
    Limits {
        max_clipboard_bytes: rule
            .max_clipboard_bytes
            .map(|b| b.0)
            .or(fallback.max_clipboard_bytes),
        upload_types: types(&rule.upload_types, &fallback.upload_types),
        max_upload_bytes: rule
            .max_upload_bytes
            .map(|b| b.0)
            .or(fallback.max_upload_bytes),
        download_types: types(&rule.download_types, &fallback.download_types),
        max_download_bytes: rule
            .max_download_bytes
            .map(|b| b.0)
            .or(fallback.max_download_bytes),
    }
}

#[allow(clippy::too_many_arguments)]
fn compile_rule(
    cx: &mut Ctx,
    at: &str,
    name: &str,
    rule: &RuleDoc,
    apps: AppSel,
    engine: Option<&Engine>,
    known: &Known<'_>,
    fallback: &Limits,
    is_defaults: bool,
) -> CompiledRule {
    let check_profile = |cx: &mut Ctx, field: String, p: &str| {
        if !known.profile(p.trim()) {
            cx.push(field, format!("unknown profile `{p}`"));
        }
    };
    for (j, p) in rule.profiles.iter().enumerate() {
        check_profile(cx, format!("{at}.profiles[{j}]"), p);
    }
    for (j, t) in rule
        .upload_types
        .iter()
        .chain(&rule.download_types)
        .enumerate()
    {
        let t = t.trim().trim_start_matches('.');
        if t.is_empty() || t.contains(|c: char| c.is_whitespace() || c == '/') {
            let (list, k) = if j < rule.upload_types.len() {
                ("upload_types", j)
            } else {
                ("download_types", j - rule.upload_types.len())
            };
            cx.push(
                format!("{at}.{list}[{k}]"),
                format!("`{t}` is not a file type (write an extension or kind such as `pdf`)"),
            );
        }
    }
    for (j, m) in rule.mask.iter().enumerate() {
        if !known.detector(m.trim()) {
            cx.push(format!("{at}.mask[{j}]"), format!("unknown detector `{m}`"));
        }
    }
    if rule.ocr_images == Some(true) {
        let page = rule.setting(Action::Page).map(|s| s.mode);
        if page != Some(Mode::Scan) {
            let now = match page {
                Some(m) => format!("`page` is `{m}`"),
                None => "the rule does not set `page`".to_owned(),
            };
            cx.push(
                format!("{at}.ocr_images"),
                format!(
                    "ocr_images OCRs images for the page scan, so it needs `page = \"scan\"` on the same rule; {now}"
                ),
            );
        }
    }
    let rule_on_match = rule.on_match.unwrap_or_default();
    let mut verdicts: [Option<Arc<Verdict>>; 8] = Default::default();
    for action in Action::ALL {
        let field = format!("{at}.{action}");
        let setting = rule.setting(action);
        if rule.read_only && action.is_input() {
            if let Some(s) = setting {
                if s.mode != Mode::Block {
                    cx.push(
                        field,
                        format!(
                            "the rule is read_only, which blocks {action}; `{}` contradicts it",
                            s.mode
                        ),
                    );
                }
            }
            verdicts[action.index()] = Some(Arc::new(Verdict {
                mode: Mode::Block,
                profiles: Arc::from([]),
                selection: None,
                on_match: OnMatch::Block,
                read_only: true,
            }));
            continue;
        }
        let setting = match setting {
            Some(s) => s.clone(),
            None if is_defaults => crate::ActionSetting::mode(Mode::Allow),
            None => continue,
        };
        let mut profiles: Vec<String> = Vec::new();
        let mut selection = None;
        match setting.mode {
            Mode::Scan => {
                let (list, list_field): (&[String], String) = if setting.profiles.is_empty() {
                    (&rule.profiles, format!("{at}.profiles"))
                } else {
                    (&setting.profiles, format!("{field}.profiles"))
                };
                if list.is_empty() {
                    cx.push(
                        field.clone(),
                        "`scan` needs profiles: list them here or in the rule's `profiles`",
                    );
                }
                if !setting.profiles.is_empty() {
                    for (j, p) in setting.profiles.iter().enumerate() {
                        check_profile(cx, format!("{list_field}[{j}]"), p);
                    }
                }
                profiles = list.iter().map(|p| p.trim().to_owned()).collect();
                // `fingerprints` is looked up by the enforcer, not the engine.
                let ids: Vec<&str> = profiles
                    .iter()
                    .map(String::as_str)
                    .filter(|p| *p != FINGERPRINTS)
                    .collect();
                // With `fingerprints` alone the selection is empty, never
                // missing: every gate that scans has one (the keyboard's
                // field model, the page scan), and finds no pattern in it.
                if let Some(engine) = engine {
                    if !profiles.is_empty() && ids.iter().all(|p| engine.has_profile(p)) {
                        match engine.selection(&ids) {
                            Ok(sel) => selection = Some(Arc::new(sel)),
                            Err(e) => cx.push(list_field, e.to_string()),
                        }
                    }
                }
            }
            Mode::Allow | Mode::Block => {
                if !setting.profiles.is_empty() {
                    cx.push(
                        format!("{field}.profiles"),
                        format!(
                            "profiles only apply to `scan`, this setting is `{}`",
                            setting.mode
                        ),
                    );
                }
                if setting.on_match.is_some() {
                    cx.push(
                        format!("{field}.on_match"),
                        format!(
                            "on_match only applies to `scan`, this setting is `{}`",
                            setting.mode
                        ),
                    );
                }
            }
        }
        verdicts[action.index()] = Some(Arc::new(Verdict {
            mode: setting.mode,
            profiles: Arc::from(profiles),
            selection,
            on_match: setting.on_match.unwrap_or(rule_on_match),
            read_only: false,
        }));
    }
    CompiledRule {
        name: Arc::from(name),
        apps,
        users: rule.users.iter().map(|u| u.trim().to_owned()).collect(),
        groups: rule.groups.iter().map(|g| g.trim().to_owned()).collect(),
        verdicts,
        limits: Arc::new(limits(rule, fallback)),
        mask: rule.mask.iter().map(|m| m.trim().to_owned()).collect(),
        ocr_images: rule.ocr_images.unwrap_or(false),
        keep_typed_text: rule.keep_typed_text.unwrap_or(false),
    }
}

/// Compiles custom detectors and profiles; `None` if any is invalid.
fn build_engine(doc: &PolicyDocument, data_dir: &DataDir, cx: &mut Ctx) -> Option<Arc<Engine>> {
    let before = cx.problems.len();
    let base = predefined();
    let mut builder = EngineBuilder::new();
    let mut custom_ids: HashSet<String> = HashSet::new();
    for (i, d) in doc.detectors.iter().enumerate() {
        let at = format!("detectors[{i}]");
        let id = d.id.trim();
        if id.is_empty() {
            cx.push(format!("{at}.id"), "detector has no id");
            continue;
        }
        if base.is_some_and(|b| b.has_detector(id)) {
            cx.push(
                format!("{at}.id"),
                format!("`{id}` is a predefined detector; pick another id"),
            );
            continue;
        }
        if !custom_ids.insert(id.to_owned()) {
            cx.push(format!("{at}.id"), format!("duplicate detector id `{id}`"));
            continue;
        }
        let Some(kind) = detector_kind(cx, &at, d, data_dir) else {
            continue;
        };
        let spec = CustomDetectorSpec {
            id: id.to_owned(),
            description: d.description.clone(),
            kind,
            context: d.context.clone(),
            confidence: confidence(d.confidence.unwrap_or(Level::Medium)),
        };
        if let Err(e) = builder.custom_detector(spec) {
            let field = match d.kind {
                Some(DetectorKind::Regex) => format!("{at}.pattern"),
                Some(DetectorKind::Keywords) => format!("{at}.words"),
                Some(DetectorKind::Label) => format!("{at}.names"),
                _ => at.clone(),
            };
            cx.push(field, e.to_string());
        }
    }
    let known_detector =
        |id: &str| custom_ids.contains(id) || base.is_some_and(|b| b.has_detector(id));
    let mut profile_ids: HashSet<String> = HashSet::new();
    for (i, p) in doc.profiles.iter().enumerate() {
        let at = format!("profiles[{i}]");
        let id = p.id.trim();
        let mut ok = true;
        if id.is_empty() {
            cx.push(format!("{at}.id"), "profile has no id");
            continue;
        }
        if base.is_some_and(|b| b.has_profile(id)) || id == FINGERPRINTS {
            cx.push(
                format!("{at}.id"),
                format!("`{id}` is a predefined profile; pick another id"),
            );
            continue;
        }
        if !profile_ids.insert(id.to_owned()) {
            cx.push(format!("{at}.id"), format!("duplicate profile id `{id}`"));
            continue;
        }
        if p.detectors.is_empty() {
            cx.push(
                format!("{at}.detectors"),
                format!("profile `{id}` has no detectors"),
            );
            ok = false;
        }
        for (j, det) in p.detectors.iter().enumerate() {
            if !known_detector(det.trim()) {
                cx.push(
                    format!("{at}.detectors[{j}]"),
                    format!(
                        "unknown detector `{det}`{}",
                        suggest(det, custom_ids.iter().map(String::as_str))
                    ),
                );
                ok = false;
            }
        }
        if p.min_matches == Some(0) {
            cx.push(
                format!("{at}.min_matches"),
                "min_matches must be at least 1",
            );
            ok = false;
        }
        if !ok {
            continue;
        }
        let spec = ProfileSpec {
            id: id.to_owned(),
            description: p.description.clone(),
            detectors: p.detectors.iter().map(|d| d.trim().to_owned()).collect(),
            min_confidence: confidence(p.min_confidence.unwrap_or(Level::Low)),
            min_matches: p.min_matches.unwrap_or(1),
            allow: p.allow.clone(),
        };
        if let Err(e) = builder.profile(spec) {
            cx.push(at, e.to_string());
        }
    }
    if cx.problems.len() > before {
        return None;
    }
    match builder.build() {
        Ok(engine) => Some(Arc::new(engine)),
        Err(e) => {
            cx.push(
                "detectors",
                format!("the DLP engine could not be built: {e}"),
            );
            None
        }
    }
}

fn detector_kind(
    cx: &mut Ctx,
    at: &str,
    d: &DetectorDoc,
    data_dir: &DataDir,
) -> Option<CustomKind> {
    let Some(kind) = d.kind else {
        cx.push(
            format!("{at}.kind"),
            "detector has no `kind` (regex, keywords, exact_data or label)",
        );
        return None;
    };
    let mut stray = |field: &str, set: bool| {
        if set {
            cx.problems.push(Problem::new(
                format!("{at}.{field}"),
                format!("`{field}` does not apply to a {} detector", kind.as_str()),
            ));
        }
    };
    stray(
        "pattern",
        kind != DetectorKind::Regex && d.pattern.is_some(),
    );
    stray(
        "words",
        kind != DetectorKind::Keywords && !d.words.is_empty(),
    );
    stray(
        "case_sensitive",
        kind != DetectorKind::Keywords && d.case_sensitive,
    );
    stray(
        "whole_word",
        kind != DetectorKind::Keywords && d.whole_word.is_some(),
    );
    stray("csv", kind != DetectorKind::ExactData && d.csv.is_some());
    stray(
        "columns",
        kind != DetectorKind::ExactData && !d.columns.is_empty(),
    );
    stray("names", kind != DetectorKind::Label && !d.names.is_empty());
    stray(
        "context",
        kind == DetectorKind::Label && !d.context.is_empty(),
    );
    stray(
        "confidence",
        kind == DetectorKind::Label && d.confidence.is_some(),
    );
    match kind {
        DetectorKind::Regex => match d.pattern.as_deref() {
            Some(p) if !p.is_empty() => Some(CustomKind::Regex {
                pattern: p.to_owned(),
            }),
            _ => {
                cx.push(
                    format!("{at}.pattern"),
                    "regex detector needs a non-empty `pattern`",
                );
                None
            }
        },
        DetectorKind::Keywords => {
            if d.words.is_empty() || d.words.iter().any(|w| w.trim().is_empty()) {
                cx.push(
                    format!("{at}.words"),
                    "keywords detector needs `words`, none of them empty",
                );
                return None;
            }
            Some(CustomKind::Keywords {
                words: d.words.clone(),
                case_sensitive: d.case_sensitive,
                whole_word: d.whole_word.unwrap_or(true),
            })
        }
        DetectorKind::ExactData => {
            let Some(csv) = d.csv.as_deref().filter(|c| !c.trim().is_empty()) else {
                cx.push(
                    format!("{at}.csv"),
                    "exact_data detector needs `csv`, a file path",
                );
                return None;
            };
            let bytes = match data_dir.read(csv) {
                Ok(b) => b,
                Err(e) => {
                    cx.push(format!("{at}.csv"), e.to_string());
                    return None;
                }
            };
            let columns = (!d.columns.is_empty()).then_some(d.columns.as_slice());
            // The set's errors name a line and say what is wrong, never the
            // content (the file may not be what the admin thinks it is).
            match ExactDataSet::from_csv(bytes.as_slice(), columns) {
                Ok(data) if data.is_empty() => {
                    cx.push(format!("{at}.csv"), format!("`{csv}` holds no values"));
                    None
                }
                Ok(data) => Some(CustomKind::ExactData { data }),
                Err(e) => {
                    cx.push(format!("{at}.csv"), format!("`{csv}`: {e}"));
                    None
                }
            }
        }
        DetectorKind::Label => {
            // The same checks the engine makes, here so that the error
            // names the field and the entry.
            if let Err(message) = NamePatterns::new(&d.names) {
                cx.push(format!("{at}.names"), message);
                return None;
            }
            Some(CustomKind::Label {
                names: d.names.clone(),
            })
        }
    }
}
