//! The compiled engine and its builder.
//!
//! One scan of a text is:
//! 1. normalise (see [`super::normalise`]) once;
//! 2. **token pass**: one walk over the bytes that jumps from digit to digit,
//!    builds chains of grouped words around them and hands each candidate to
//!    the number-like detectors (shape first, checksum second); longer
//!    candidates claim their span;
//! 3. **literal pass**: one case-sensitive Aho-Corasick scan for every
//!    anchor literal (`AKIA`, `ghp_`, `-----BEGIN`, `@`, `://`, ...) and one
//!    case-insensitive scan for every keyword (`password`, `swift`, ...);
//!    each hit runs its detector's regex on a bounded window only, then the
//!    validator;
//! 4. custom detectors (regex / keywords / exact data): one gate pass (the
//!    prefix literals of all custom regexes and all custom keywords, as
//!    literal sets) says which can match at all; only those run;
//! 5. context words are looked up only for matches whose confidence depends
//!    on them (see [`super::context`]); one predefined finding is kept per
//!    span (the best: highest confidence, then the one a context word
//!    raised, then the detector listed first; custom detectors keep theirs),
//!    findings contained in a longer finding of another detector are
//!    dropped, spans are mapped back to the original text and evidence is
//!    redacted;
//! 6. whole-text classifiers (`source_code`, see [`super::classify`]) run
//!    last, in [`Engine::scan`] and [`Engine::scan_selection`] only: their
//!    one finding spans the text, so it is not subject to step 5; so do
//!    the label detectors on a text's first and last lines (classification
//!    markings, see [`super::labels`]). A file's labels, reported by
//!    extraction, are judged by [`Engine::scan_extraction`].
//!
//! A number-like candidate that is a piece of a longer grouped number (12
//! digits of a 16-digit card that failed Luhn, 10 digits inside an IBAN) is
//! capped at `low` confidence and claims nothing: it is reported for
//! visibility but no predefined profile counts it.
//!
//! The engine is immutable and `Send + Sync`; per-scan state lives on the
//! stack, regex caches come from the meta engine's internal pool.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use regex_automata::{Anchored, Input};

use super::context::{ceil_boundary, floor_boundary, ContextIndex};
use super::custom::{self, CustomDetectorSpec, Matcher};
use super::error::{Error, Result};
use super::health;
use super::lazy_regex::LazyRegex;
use super::literals::LiteralSet;
use super::normalise::Normalised;
use super::predefined::{self, Kind, Score, Shape};
use super::profile::{Profile, ProfileSpec, ScanReport, Selection, SelectionInner};
use super::record::WindowCounts;
use super::redact::redact_into;
use super::token_pass::{Raw, TokenCheck, TokenTable};
use super::types::{Category, Confidence, DetectorInfo, Finding, ProfileInfo};
use crate::labels::names::NamePatterns;

/// Default context window, in bytes on each side of a match.
pub const DEFAULT_CONTEXT_WINDOW: usize = 80;
/// Longest span any predefined detector reports (a JWT: header up to
/// 1,000 characters, payload up to 3,000, signature up to 700), in bytes. Custom
/// regex matches are cut at this length by the incremental and stream
/// scanners' windows (whole-text scans report them in full).
pub const MAX_SPAN: usize = 4800;

/// Longest span of a predefined finding other than a JWT or a PEM private
/// key, in bytes, rounded up: an e-mail (64 bytes before the `@` its
/// regex may start, 255 after), a URL with credentials (17 + 3 + 260), a
/// GitHub token (4 + 255); token candidates stay under 80 bytes, keyword
/// findings under 180. The incremental scanner uses it for edits with no
/// long-span anchor ([`LONG_SPAN_ANCHORS`]) anywhere near.
pub(crate) const SHORT_SPAN: usize = 400;

/// Literals at the start of every predefined finding that may be longer
/// than [`SHORT_SPAN`] (a JWT, a PEM private key).
pub(crate) const LONG_SPAN_ANCHORS: [&str; 9] = [
    "eyJ",
    "eyAi",
    "eyAg",
    "ewog",
    "ewoi",
    "ewoJ",
    "ew0K",
    "ewki",
    "-----BEGIN",
];

/// Ids of the predefined profiles.
pub const PREDEFINED_PROFILES: [&str; 9] = [
    "financial",
    "national_ids",
    "credentials",
    "pii",
    "health",
    "source_code",
    "classification",
    "all",
    "pii_record",
];

static ENGINE_IDS: AtomicUsize = AtomicUsize::new(1);

#[derive(Debug)]
enum DetKind {
    Token(TokenCheck, Shape),
    Anchored {
        re: LazyRegex,
        before: usize,
        /// The predefined `left` bytes, as a table.
        left: Option<Box<[bool; 256]>>,
        matcher: Option<predefined::AnchoredMatcher>,
        after: usize,
        check: fn(&str) -> Option<Score>,
    },
    Keyword {
        re: LazyRegex,
        anchored: bool,
        after: usize,
        check: fn(&str) -> Option<Score>,
    },
    Custom {
        matcher: Matcher,
        score: Score,
        /// What the one-pass gate searches for this detector.
        gate: Gate,
    },
    /// A whole-text classifier ([`super::classify`]): one finding
    /// spanning the text, added by [`Engine::scan`] and
    /// [`Engine::scan_selection`] after the pattern passes.
    SourceCode,
    /// A label detector ([`super::labels`]): fires on a document's
    /// sensitivity labels (all of them, or those matching the names).
    Label(Option<NamePatterns>),
    /// A health dictionary ([`super::health`]): terms with patient context.
    Health(health::Dict),
}

/// A custom detector's part in the one-pass gate (see [`CustomGate`]).
#[derive(Debug)]
enum Gate {
    /// A regex pattern: joins the multi-pattern regex.
    Regex(String),
    /// Keywords: join the literal set (case-insensitively, a superset).
    Keywords(Vec<String>),
    /// Exact data: always runs (its hashed-token walk is one pass already).
    None,
}

/// One pass over a text says which custom detectors can match it at all;
/// only those then run their own matcher (the exact same search as
/// before, so findings do not change).
///
/// Every match of a regex starts with one of its *prefix literals* when
/// `regex-syntax` can list them (finite and none empty: `EMP-` for
/// `\bEMP-[0-9]{6}`, `prod-db-` and `stg-db-` for
/// `\b(?:prod|stg)-db-[0-9]{2}`). All such literals of all custom regexes,
/// and all custom keywords, go into literal sets searched once per scan
/// (SIMD, see [`LiteralSet`]); a detector none of whose literals occur is
/// skipped. A regex without usable prefix literals (`[a-z0-9-]+\.corp`)
/// always runs: its own meta-regex search (which has its own prefilter,
/// e.g. on an inner literal) is then the cheapest way to look for it. (A
/// multi-pattern `MatchKind::All` regex as the gate was measured first: its
/// lazy DFA walks every byte and cost more than twenty prefiltered passes.)
#[derive(Debug)]
struct CustomGate {
    /// Prefix literals of the gated custom regexes, and the detector of each.
    prefixes: Option<(LiteralSet, Vec<usize>)>,
    /// Custom regex detectors with a usable prefix set.
    gated: Vec<usize>,
    /// Every custom keyword, lower-cased, and the detector of each.
    keywords: Option<(LiteralSet, Vec<usize>)>,
}

/// The prefix literals every match of `pattern` starts with, when there are
/// at most 256, all non-empty.
fn prefix_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    seq.optimize_for_prefix_by_preference();
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > 256 || lits.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    Some(lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

impl CustomGate {
    fn new(dets: &[Arc<Det>]) -> CustomGate {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut literal_dets = Vec::new();
        let mut gated = Vec::new();
        let mut words: Vec<&str> = Vec::new();
        let mut word_dets = Vec::new();
        for (i, d) in dets.iter().enumerate() {
            match &d.kind {
                DetKind::Custom {
                    gate: Gate::Regex(p),
                    ..
                } => {
                    if let Some(lits) = prefix_literals(p) {
                        for l in lits {
                            literals.push(l);
                            literal_dets.push(i);
                        }
                        gated.push(i);
                    }
                }
                DetKind::Custom {
                    gate: Gate::Keywords(ws),
                    ..
                } => {
                    for w in ws {
                        words.push(w);
                        word_dets.push(i);
                    }
                }
                _ => {}
            }
        }
        // A set that does not compile means no gate: those detectors run.
        let prefixes = (!literals.is_empty())
            .then(|| LiteralSet::new(&literals, false).ok())
            .flatten()
            .map(|set| (set, literal_dets));
        if prefixes.is_none() {
            gated.clear();
        }
        let keywords = (!words.is_empty())
            .then(|| LiteralSet::new(&words, true).ok())
            .flatten()
            .map(|set| (set, word_dets));
        CustomGate {
            prefixes,
            gated,
            keywords,
        }
    }

    /// Marks in `open` (indexed by detector) the custom detectors that may
    /// match `t` (`lower`: `t` ASCII lower-cased); detectors without a gate
    /// are always open.
    fn open(&self, dets: &[Arc<Det>], t: &str, lower: &[u8], open: &mut [bool]) {
        for (i, d) in dets.iter().enumerate() {
            open[i] = match &d.kind {
                DetKind::Custom {
                    gate: Gate::Regex(_),
                    ..
                } => !self.gated.contains(&i),
                DetKind::Custom {
                    gate: Gate::Keywords(_),
                    ..
                } => self.keywords.is_none(),
                _ => true,
            };
        }
        if let Some((set, literal_dets)) = &self.prefixes {
            set.for_each(t.as_bytes(), 0, t.len(), |m| {
                open[literal_dets[m.pattern().as_usize()]] = true;
            });
        }
        if let Some((set, word_dets)) = &self.keywords {
            set.for_each(lower, 0, lower.len(), |m| {
                open[word_dets[m.pattern().as_usize()]] = true;
            });
        }
    }
}

impl Det {
    fn is_label(&self) -> bool {
        matches!(self.kind, DetKind::Label(_))
    }
}

#[derive(Debug)]
struct Det {
    id: String,
    /// The id as a `'static` string for predefined detectors (findings
    /// borrow it instead of copying).
    static_id: Option<&'static str>,
    description: String,
    category: Category,
    validation: String,
    context_words: Vec<String>,
    requires_context: bool,
    reveal: (usize, usize),
    kind: DetKind,
    literals: Vec<(String, bool)>,
}

/// Builds an [`Engine`]: all predefined detectors and profiles, plus custom ones.
///
/// Cloning is cheap (compiled detectors are shared): clone a builder holding
/// the predefined set instead of compiling it again for every engine.
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    dets: Vec<Arc<Det>>,
    profiles: Vec<ProfileSpec>,
    context_window: usize,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder::new()
    }
}

fn raise(c: Confidence) -> Confidence {
    match c {
        Confidence::Low => Confidence::Medium,
        _ => Confidence::High,
    }
}

impl EngineBuilder {
    /// A builder with every predefined detector and profile.
    pub fn new() -> Self {
        let mut dets: Vec<Arc<Det>> = predefined::all()
            .into_iter()
            .map(|p| Arc::new(compile_predefined(p)))
            .collect();
        dets.push(Arc::new(source_code_detector()));
        dets.push(Arc::new(sensitivity_label_detector()));
        dets.extend(health_detectors().into_iter().map(Arc::new));
        EngineBuilder {
            dets,
            profiles: Vec::new(),
            context_window: DEFAULT_CONTEXT_WINDOW,
        }
    }

    /// Adds a custom detector. Errors: id clash, invalid id, regex error with position, empty lists.
    pub fn custom_detector(&mut self, spec: CustomDetectorSpec) -> Result<&mut Self> {
        if self.dets.iter().any(|d| d.id == spec.id) {
            return Err(Error::DuplicateDetector(spec.id));
        }
        if let custom::CustomKind::Label { names } = &spec.kind {
            custom::check_id(&spec.id)?;
            let patterns = NamePatterns::new(names).map_err(|message| Error::InvalidDetector {
                detector: spec.id.clone(),
                message,
            })?;
            self.dets
                .push(Arc::new(label_detector(&spec, names, patterns)));
            return Ok(self);
        }
        let matcher = custom::compile(&spec)?;
        let score = if spec.context.is_empty() {
            Score {
                bare: Some(spec.confidence),
                ctx: spec.confidence,
            }
        } else {
            Score {
                bare: Some(spec.confidence),
                ctx: raise(spec.confidence),
            }
        };
        let gate = match &spec.kind {
            custom::CustomKind::Regex { pattern } => Gate::Regex(pattern.clone()),
            custom::CustomKind::Keywords { words, .. } => {
                Gate::Keywords(words.iter().map(|w| w.trim().to_string()).collect())
            }
            custom::CustomKind::ExactData { .. } | custom::CustomKind::Label { .. } => Gate::None,
        };
        let validation = match &spec.kind {
            custom::CustomKind::Regex { .. } => "custom regex".to_string(),
            custom::CustomKind::Keywords {
                case_sensitive,
                whole_word,
                ..
            } => format!(
                "keyword list ({}, {})",
                if *case_sensitive {
                    "case-sensitive"
                } else {
                    "case-insensitive"
                },
                if *whole_word {
                    "whole words"
                } else {
                    "substrings"
                }
            ),
            custom::CustomKind::ExactData { data } => {
                format!("exact data match against {} hashed values", data.len())
            }
            custom::CustomKind::Label { .. } => String::new(),
        };
        self.dets.push(Arc::new(Det {
            id: spec.id.clone(),
            static_id: None,
            description: spec.description.clone(),
            category: Category::Custom,
            validation,
            context_words: spec.context.clone(),
            requires_context: false,
            reveal: (2, 2),
            kind: DetKind::Custom {
                matcher,
                score,
                gate,
            },
            literals: Vec::new(),
        }));
        Ok(self)
    }

    /// Adds a profile. Errors: id clash (predefined ids are reserved), unknown detector ids, bad allow entries.
    pub fn profile(&mut self, spec: ProfileSpec) -> Result<&mut Self> {
        if PREDEFINED_PROFILES.contains(&spec.id.as_str())
            || self.profiles.iter().any(|p| p.id == spec.id)
        {
            return Err(Error::DuplicateProfile(spec.id));
        }
        Profile::compile(&spec, |id| self.dets.iter().position(|d| d.id == id))?;
        self.profiles.push(spec);
        Ok(self)
    }

    /// Bytes on each side of a match searched for context words.
    pub fn context_window(&mut self, bytes: usize) -> &mut Self {
        self.context_window = bytes.min(4096);
        self
    }

    /// Compiles the engine.
    pub fn build(&self) -> Result<Engine> {
        let dets = self.dets.clone();
        let resolve = |id: &str| dets.iter().position(|d| d.id == id);
        let mut profiles = Vec::new();
        for (id, cat, description) in [
            (
                "financial",
                Category::Financial,
                "Payment cards and bank identifiers",
            ),
            (
                "national_ids",
                Category::NationalIds,
                "Government identity numbers",
            ),
            (
                "credentials",
                Category::Credentials,
                "API keys, tokens, private keys and passwords",
            ),
            ("pii", Category::Pii, "Personal contact data"),
            ("health", Category::Health, "Health identifiers and codes"),
            (
                "source_code",
                Category::SourceCode,
                "Source code: whole texts of 500+ characters a classifier reads as code",
            ),
            (
                "classification",
                Category::Classification,
                "Documents carrying a sensitivity label (MIP) or a classification marking",
            ),
        ] {
            let spec = ProfileSpec {
                id: id.into(),
                description: description.into(),
                detectors: dets
                    .iter()
                    .filter(|d| d.category == cat)
                    .map(|d| d.id.clone())
                    .collect(),
                min_confidence: Confidence::Medium,
                min_matches: 1,
                allow: Vec::new(),
            };
            profiles.push(Profile::compile(&spec, resolve)?);
        }
        let all = ProfileSpec {
            id: "all".into(),
            description: "Every pattern detector, predefined and custom (not the source_code classifier, the label detectors, nor the medication and diagnosis dictionaries: select their profiles)".into(),
            // Source code is a kind of text, not a sensitive value: a policy
            // that blocks "all" sensitive data should not start blocking
            // every pasted code snippet; it is chosen on its own.
            // Labels likewise: a document's label is not sensitive data.
            // The health dictionaries read what a text is about (a
            // patient's drugs and conditions), with a measured
            // false-positive rate on prose (BENCHMARKS.md): chosen with
            // the `health` profile.
            detectors: dets
                .iter()
                .filter(|d| {
                    d.category != Category::SourceCode
                        && !d.is_label()
                        && !matches!(d.kind, DetKind::Health(_))
                })
                .map(|d| d.id.clone())
                .collect(),
            min_confidence: Confidence::Medium,
            min_matches: 1,
            allow: Vec::new(),
        };
        profiles.push(Profile::compile(&all, resolve)?);
        // Records of personal data (see `record`): e-mails, phones, dates
        // of birth, with the names and addresses read off the text.
        let record = ProfileSpec {
            id: "pii_record".into(),
            description: "Records of personal data: 3+ kinds (name, postal address, phone, e-mail, date of birth) repeated close together, as in a customer list".into(),
            detectors: ["email", "phone_number", "date_of_birth"]
                .iter()
                .filter(|id| dets.iter().any(|d| d.id == **id))
                .map(|id| id.to_string())
                .collect(),
            min_confidence: Confidence::Low,
            min_matches: super::record::RecordRule::default().min_records,
            allow: Vec::new(),
        };
        let mut record_profile = Profile::compile(&record, resolve)?;
        record_profile.record = Some(super::record::RecordRule::default());
        profiles.push(record_profile);
        for spec in &self.profiles {
            profiles.push(Profile::compile(spec, resolve)?);
        }
        // Two automata: case-sensitive anchor literals (`AKIA`, `ghp_`, `@`:
        // rare bytes, a fast prefilter) and case-insensitive keywords.
        let mut anchor_patterns: Vec<&str> = Vec::new();
        let mut anchor_entries: Vec<usize> = Vec::new();
        let mut keyword_patterns: Vec<&str> = Vec::new();
        let mut keyword_entries: Vec<usize> = Vec::new();
        for (i, d) in dets.iter().enumerate() {
            for (lit, case_sensitive) in &d.literals {
                if *case_sensitive {
                    anchor_patterns.push(lit);
                    anchor_entries.push(i);
                } else {
                    keyword_patterns.push(lit);
                    keyword_entries.push(i);
                }
            }
        }
        let automaton = |patterns: &[&str], case_insensitive: bool| {
            LiteralSet::new(patterns, case_insensitive).map_err(|e| Error::InvalidDetector {
                detector: "(literals)".into(),
                message: e.to_string(),
            })
        };
        let anchors = automaton(&anchor_patterns, false)?;
        let keywords = automaton(&keyword_patterns, true)?;
        let profile_index = profiles
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let token_dets: Vec<(usize, TokenCheck, Shape, bool)> = dets
            .iter()
            .enumerate()
            .filter_map(|(i, d)| match d.kind {
                DetKind::Token(f, shape) => Some((i, f, shape, d.requires_context)),
                _ => None,
            })
            .collect();
        // Context words are searched in normalised text: normalise them the
        // same way (`パスポート` holds a prolonged-sound mark that the
        // normaliser reads as a dash).
        // The health dictionaries find their clue words themselves.
        let normalised_context: Vec<Vec<String>> = dets
            .iter()
            .map(|d| {
                if matches!(d.kind, DetKind::Health(_)) {
                    return Vec::new();
                }
                d.context_words
                    .iter()
                    .map(|w| Normalised::new(w).text.to_string())
                    .collect()
            })
            .collect();
        Ok(Engine {
            inner: Arc::new(Inner {
                id: ENGINE_IDS.fetch_add(1, Ordering::Relaxed),
                tokens: TokenTable::new(&token_dets),
                context: ContextIndex::new(
                    &normalised_context
                        .iter()
                        .enumerate()
                        .map(|(i, words)| (i, words.as_slice()))
                        .collect::<Vec<_>>(),
                ),
                custom_dets: dets
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| matches!(d.kind, DetKind::Custom { .. }))
                    .map(|(i, _)| i)
                    .collect(),
                custom_gate: CustomGate::new(&dets),
                health: [health::Dict::Medication, health::Dict::Diagnosis].map(|want| {
                    dets.iter()
                        .position(|d| matches!(d.kind, DetKind::Health(k) if k == want))
                }),
                dets,
                anchors,
                anchor_entries,
                keywords,
                keyword_entries,
                profiles,
                profile_index,
                context_window: self.context_window,
            }),
        })
    }
}

/// The `source_code` detector (see [`super::classify`]).
fn source_code_detector() -> Det {
    Det {
        id: "source_code".into(),
        static_id: Some("source_code"),
        description: "Source code (Rust, Python, JavaScript, C, shell, Perl, HTML, CSS, SQL) in a whole text of 500+ characters".into(),
        category: Category::SourceCode,
        validation: "naive Bayes classifier over words, symbol runs and line shapes of the whole text (long texts: 4 windows of 4 KB); medium when code, high when clearly code; the finding spans the text, its evidence names the language and score".into(),
        context_words: Vec::new(),
        requires_context: false,
        reveal: (0, 0),
        kind: DetKind::SourceCode,
        literals: Vec::new(),
    }
}

/// The `sensitivity_label` detector: any label (see [`super::labels`]).
fn sensitivity_label_detector() -> Det {
    Det {
        id: "sensitivity_label".into(),
        static_id: Some("sensitivity_label"),
        description: "A sensitivity label: an enabled Microsoft Information Protection label (Office custom properties, LabelInfo, PDF Info/XMP, mail header) or a classification marking (CONFIDENTIAL, INTERNAL USE ONLY...) in a header, footer or on the first or last lines".into(),
        category: Category::Classification,
        validation: "MIP labels only when `_Enabled` is true and not `_Removed`; markings only as whole lines or header cells, never inside a sentence; high confidence; the finding names the label".into(),
        context_words: Vec::new(),
        requires_context: false,
        reveal: (0, 0),
        kind: DetKind::Label(None),
        literals: Vec::new(),
    }
}

/// A custom detector of kind `label`: the labels matching `names`.
fn label_detector(spec: &CustomDetectorSpec, names: &[String], patterns: NamePatterns) -> Det {
    Det {
        id: spec.id.clone(),
        static_id: None,
        description: spec.description.clone(),
        category: Category::Custom,
        validation: format!("sensitivity labels named {}", names.join(", ")),
        context_words: Vec::new(),
        requires_context: false,
        reveal: (0, 0),
        kind: DetKind::Label(Some(patterns)),
        literals: Vec::new(),
    }
}

/// The `medication` and `diagnosis` detectors (see [`super::health`]).
fn health_detectors() -> Vec<Det> {
    health::DETECTORS
        .iter()
        .map(|&(id, dict, description, validation)| Det {
            id: id.into(),
            static_id: Some(id),
            description: description.into(),
            category: Category::Health,
            validation: validation.into(),
            context_words: health::context_words(),
            requires_context: true,
            reveal: (2, 2),
            kind: DetKind::Health(dict),
            literals: Vec::new(),
        })
        .collect()
}

fn compile_predefined(p: predefined::Predefined) -> Det {
    let compile = |pattern: &'static str| LazyRegex::new(p.id, pattern);
    let (kind, literals) = match p.kind {
        Kind::Token(f, shape) => (DetKind::Token(f, shape), Vec::new()),
        Kind::Anchored {
            literals,
            pattern,
            before,
            left,
            matcher,
            after,
            check,
        } => (
            DetKind::Anchored {
                re: compile(pattern),
                before,
                left: left.map(|f| Box::new(std::array::from_fn(|b| f(b as u8)))),
                matcher,
                after,
                check,
            },
            literals.iter().map(|l| (l.to_string(), true)).collect(),
        ),
        Kind::Keyword {
            keywords,
            pattern,
            after,
            check,
        } => {
            let anchored = pattern.starts_with('^');
            let re = compile(pattern.trim_start_matches('^'));
            (
                DetKind::Keyword {
                    re,
                    anchored,
                    after,
                    check,
                },
                keywords.iter().map(|k| (k.to_string(), false)).collect(),
            )
        }
    };
    Det {
        id: p.id.to_string(),
        static_id: Some(p.id),
        description: p.description.to_string(),
        category: p.category,
        validation: p.validation.to_string(),
        context_words: p.context.iter().map(|s| s.to_string()).collect(),
        requires_context: predefined::CONTEXT_ONLY.contains(&p.id),
        reveal: p.reveal,
        kind,
        literals,
    }
}

#[derive(Debug)]
struct Inner {
    id: usize,
    dets: Vec<Arc<Det>>,
    /// Every detector's context words (also what the token pass asks
    /// about a whole chain for the detectors that report nothing without
    /// one: a block's word walk costs the same whatever the words).
    context: ContextIndex,
    /// The token detectors, indexed by what they can take.
    tokens: TokenTable,
    custom_dets: Vec<usize>,
    /// Which custom detectors can match a text at all, in one pass.
    custom_gate: CustomGate,
    /// The `medication` and `diagnosis` detectors' indices.
    health: [Option<usize>; 2],
    /// Case-sensitive anchor literals, and the detector of each pattern.
    anchors: LiteralSet,
    anchor_entries: Vec<usize>,
    /// Case-insensitive keywords (matched as whole words), and their detectors.
    keywords: LiteralSet,
    keyword_entries: Vec<usize>,
    profiles: Vec<Profile>,
    profile_index: HashMap<String, usize>,
    context_window: usize,
}

/// Immutable, Send + Sync, share via Arc (or clone: clones share the compiled state).
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// A finding with the engine's detector index (for profile evaluation).
#[derive(Clone, Debug)]
pub(crate) struct Indexed {
    pub det: usize,
    pub finding: Finding,
}

impl Engine {
    /// An engine with the predefined detectors and profiles only.
    pub fn with_defaults() -> Engine {
        // The predefined set is fixed and covered by tests: building it cannot fail.
        EngineBuilder::new()
            .build()
            .unwrap_or_else(|e| panic!("predefined engine: {e}"))
    }

    /// Scans with every detector; returns all findings, whatever their confidence.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut found = self.scan_indexed(text, None);
        self.classify_into(text, None, &mut found);
        self.text_labels_into(text, None, &mut found);
        found.into_iter().map(|i| i.finding).collect()
    }

    /// Adds the whole-text classifiers' findings (at the front: they start
    /// at 0) when selected by `mask` (all when `None`).
    pub(crate) fn classify_into(
        &self,
        text: &str,
        mask: Option<&[bool]>,
        found: &mut Vec<Indexed>,
    ) {
        let on = |d: usize| mask.is_none_or(|m| m.get(d).copied().unwrap_or(false));
        for (i, det) in self.inner.dets.iter().enumerate() {
            if !matches!(det.kind, DetKind::SourceCode) || !on(i) {
                continue;
            }
            let Some(c) = super::classify::SourceCode::builtin().classify(text) else {
                continue;
            };
            if !c.is_code {
                continue;
            }
            found.insert(
                0,
                Indexed {
                    det: i,
                    finding: Finding {
                        detector: Cow::Borrowed("source_code"),
                        start: 0,
                        end: text.len(),
                        confidence: c.confidence,
                        evidence: Arc::from(format!(
                            "{} source code (score {:.2})",
                            c.language, c.score
                        )),
                    },
                },
            );
        }
    }

    /// Compiles a selection of profiles (unknown profile -> error).
    pub fn selection(&self, profiles: &[&str]) -> Result<Selection> {
        let mut chosen = Vec::with_capacity(profiles.len());
        let mut mask = vec![false; self.inner.dets.len()];
        for id in profiles {
            let &i = self
                .inner
                .profile_index
                .get(*id)
                .ok_or_else(|| Error::UnknownProfile(id.to_string()))?;
            let p = &self.inner.profiles[i];
            if chosen.iter().any(|c: &Profile| c.id == p.id) {
                continue;
            }
            for &d in &p.detectors {
                mask[d] = true;
            }
            chosen.push(p.clone());
        }
        Ok(Selection {
            inner: Arc::new(SelectionInner {
                profiles: chosen,
                mask,
                engine_id: self.inner.id,
            }),
        })
    }

    /// Scans with the detectors of `sel` and evaluates its profiles.
    pub fn scan_selection(&self, text: &str, sel: &Selection) -> ScanReport {
        let mask = self.mask_for(sel);
        // A selection of classifiers only (the `source_code` profile) skips
        // the pattern passes and their normalisation of the whole text.
        let mut found = self.scan_part(text, mask);
        self.text_labels_into(text, Some(mask), &mut found);
        evaluate_owned(text, found, sel)
    }

    /// Pattern detectors and whole-text classifiers on `text` with the
    /// detectors of `mask` (no markings: a file's are its extraction's).
    pub(crate) fn scan_part(&self, text: &str, mask: &[bool]) -> Vec<Indexed> {
        let patterns = mask
            .iter()
            .zip(&self.inner.dets)
            .any(|(&on, d)| on && !matches!(d.kind, DetKind::SourceCode | DetKind::Label(_)));
        let mut found = if patterns {
            self.scan_indexed(text, Some(mask))
        } else {
            Vec::new()
        };
        self.classify_into(text, Some(mask), &mut found);
        found
    }

    /// The label detectors in `mask` (all when `None`), each with its
    /// name patterns (`None`: any label).
    pub(crate) fn label_detectors<'a>(
        &'a self,
        mask: Option<&'a [bool]>,
    ) -> impl Iterator<Item = (usize, &'a str, Option<&'a NamePatterns>)> + 'a {
        let on = move |d: usize| mask.is_none_or(|m| m.get(d).copied().unwrap_or(false));
        self.inner
            .dets
            .iter()
            .enumerate()
            .filter(move |(i, _)| on(*i))
            .filter_map(|(i, d)| match &d.kind {
                DetKind::Label(patterns) => Some((i, d.id.as_str(), patterns.as_ref())),
                _ => None,
            })
    }

    pub(crate) fn mask_for<'s>(&self, sel: &'s Selection) -> &'s [bool] {
        if sel.inner.engine_id != self.inner.id && sel.inner.mask.len() != self.inner.dets.len() {
            // A selection from another engine: fall back to nothing rather than misindex.
            return &[];
        }
        &sel.inner.mask
    }

    /// Every detector: id, description, category, validation, context words, profiles.
    pub fn detectors(&self) -> Vec<DetectorInfo> {
        self.inner
            .dets
            .iter()
            .enumerate()
            .map(|(i, d)| DetectorInfo {
                id: d.id.clone(),
                description: d.description.clone(),
                category: d.category,
                validation: d.validation.clone(),
                context: d.context_words.clone(),
                requires_context: d.requires_context,
                country: if d.static_id.is_some() {
                    predefined::country_of(&d.id).to_string()
                } else {
                    String::new()
                },
                profiles: self
                    .inner
                    .profiles
                    .iter()
                    .filter(|p| p.detectors.contains(&i))
                    .map(|p| p.id.clone())
                    .collect(),
            })
            .collect()
    }

    /// Every profile: id, description, detector ids, thresholds.
    pub fn profiles(&self) -> Vec<ProfileInfo> {
        self.inner
            .profiles
            .iter()
            .map(|p| ProfileInfo {
                id: p.id.clone(),
                description: p.description.clone(),
                detectors: p
                    .detectors
                    .iter()
                    .map(|&d| self.inner.dets[d].id.clone())
                    .collect(),
                min_confidence: p.min_confidence,
                min_matches: p.min_matches,
                allow_entries: p.allow_entries(),
            })
            .collect()
    }

    /// Whether a profile id exists.
    pub fn has_profile(&self, id: &str) -> bool {
        self.inner.profile_index.contains_key(id)
    }

    /// Whether a detector id exists.
    pub fn has_detector(&self, id: &str) -> bool {
        self.inner.dets.iter().any(|d| d.id == id)
    }

    /// The context window in bytes.
    pub fn context_window_bytes(&self) -> usize {
        self.inner.context_window
    }

    /// How far an edit can influence findings: longest span plus context window.
    pub fn reach(&self) -> usize {
        MAX_SPAN + self.inner.context_window
    }

    /// How far an edit can influence findings when no JWT or PEM private
    /// key can be near it and no custom detector is selected: the longest
    /// other span ([`SHORT_SPAN`]) plus the context window.
    pub(crate) fn short_reach(&self, mask: &[bool]) -> usize {
        let health = self
            .inner
            .health
            .iter()
            .flatten()
            .any(|&d| mask.get(d).copied().unwrap_or(false));
        let window = if health { health::clues::WINDOW } else { 0 };
        SHORT_SPAN + self.inner.context_window.max(window)
    }

    /// Whether `mask` selects a custom detector (their spans are unbounded).
    pub(crate) fn selects_custom(&self, mask: &[bool]) -> bool {
        self.inner
            .custom_dets
            .iter()
            .any(|&d| mask.get(d).copied().unwrap_or(false))
    }

    /// An incremental scanner for a text field being typed into.
    pub fn field_scanner(&self, sel: &Selection) -> super::field::FieldScanner {
        super::field::FieldScanner::new(self.clone(), sel.clone())
    }

    /// A scanner for a stream of chunks (bounded memory, no match lost at borders).
    pub fn stream_scanner(&self, sel: &Selection) -> super::stream::StreamScanner {
        super::stream::StreamScanner::new(self.clone(), sel.clone())
    }

    /// Scans `text` with the detectors in `mask` (all when `None`).
    pub(crate) fn scan_indexed(&self, text: &str, mask: Option<&[bool]>) -> Vec<Indexed> {
        super::blocks::scan(self, text, mask, super::blocks::BLOCK)
    }

    /// [`Engine::scan_indexed`] in one piece, however long the text.
    pub(crate) fn scan_whole(&self, text: &str, mask: Option<&[bool]>) -> Vec<Indexed> {
        self.scan_with(text, mask, None)
    }

    /// Whether the engine has custom detectors.
    pub(crate) fn has_custom(&self) -> bool {
        !self.inner.custom_dets.is_empty()
    }

    /// [`Engine::scan_indexed`] with another token table (tests compare
    /// the engine's own with an unfiltered one).
    fn scan_with(
        &self,
        text: &str,
        mask: Option<&[bool]>,
        tokens: Option<&TokenTable>,
    ) -> Vec<Indexed> {
        let inner = &*self.inner;
        let on = |d: usize| mask.is_none_or(|m| m.get(d).copied().unwrap_or(false));
        let n = Normalised::new(text);
        let t: &str = &n.text;
        let mut raws = Scratch::take(&RAWS);
        let window = inner.context_window;
        // One ASCII-lower-cased copy (same offsets) serves every
        // case-insensitive literal search: keywords and context words.
        let lower = super::normalise::AsciiLower::new(t.as_bytes());
        let context = inner.context.scan(&lower);
        let resolve = |d: usize, score: Score, s: usize, e: usize| -> Option<(Confidence, bool)> {
            if score.bare == Some(score.ctx) {
                // Context cannot change it: skip the lookup.
                return score.bare.map(|c| (c, false));
            }
            if context.near(d, s, e, window) {
                Some((score.ctx, true))
            } else {
                score.bare.map(|c| (c, false))
            }
        };

        // Token pass.
        let tokens = tokens.unwrap_or(&inner.tokens);
        tokens.run(
            t,
            tokens.selected(on),
            &context,
            window,
            &resolve,
            &mut raws,
        );

        // Literal pass.
        let any_on = |entries: &[usize]| entries.iter().any(|&d| on(d));
        if any_on(&inner.anchor_entries) || any_on(&inner.keyword_entries) {
            let bytes = t.as_bytes();
            let mut hits = Scratch::take(&HITS);
            inner.anchors.for_each(bytes, 0, bytes.len(), |m| {
                hits.push((
                    inner.anchor_entries[m.pattern().as_usize()],
                    true,
                    m.start(),
                    m.end(),
                ))
            });
            inner.keywords.for_each(&lower, 0, bytes.len(), |m| {
                hits.push((
                    inner.keyword_entries[m.pattern().as_usize()],
                    false,
                    m.start(),
                    m.end(),
                ))
            });
            for (det_idx, case_sensitive, s, e) in hits.drain(..) {
                if !on(det_idx) {
                    continue;
                }
                let det = &inner.dets[det_idx];
                if !case_sensitive {
                    let before_ok = s == 0 || !bytes[s - 1].is_ascii_alphanumeric();
                    let after_ok = e >= bytes.len() || !bytes[e].is_ascii_alphanumeric();
                    if !before_ok || !after_ok {
                        continue;
                    }
                }
                match &det.kind {
                    DetKind::Anchored {
                        re,
                        before,
                        left,
                        matcher,
                        after,
                        check,
                    } => {
                        // The one start a match covering the hit can have,
                        // when known: the hit, or the start of the run of
                        // `left` bytes before it (ASCII: a char boundary).
                        let (lo, anchored) = match left {
                            Some(left) => {
                                let mut lo = s;
                                let min = s.saturating_sub(*before);
                                while lo > min && left[usize::from(bytes[lo - 1])] {
                                    lo -= 1;
                                }
                                (lo, Anchored::Yes)
                            }
                            None if *before == 0 => (s, Anchored::Yes),
                            None => (floor_boundary(t, s.saturating_sub(*before)), Anchored::No),
                        };
                        let hi = ceil_boundary(t, e.saturating_add(*after));
                        let mut emit = |ms: usize, me: usize| {
                            if let Some(score) = check(&t[ms..me]) {
                                if let Some((conf, ctx)) = resolve(det_idx, score, ms, me) {
                                    raws.push(Raw {
                                        det: det_idx,
                                        start: ms,
                                        end: me,
                                        confidence: conf,
                                        ctx,
                                    });
                                }
                            }
                        };
                        if let Some(end) = matcher.and_then(|f| f(t, lo, s, hi)) {
                            if let Some(end) = end.filter(|&end| end >= e) {
                                emit(lo, end);
                            }
                            continue;
                        }
                        let input = Input::new(t).range(lo..hi).anchored(anchored);
                        for mm in re.get().find_iter(input) {
                            if mm.start() > s {
                                break;
                            }
                            if mm.end() >= e {
                                emit(mm.start(), mm.end());
                            }
                        }
                    }
                    DetKind::Keyword {
                        re,
                        anchored,
                        after,
                        check,
                    } => {
                        let hi = ceil_boundary(t, e.saturating_add(*after));
                        let re = re.get();
                        let mut caps = re.create_captures();
                        let mut input = Input::new(t).range(e..hi);
                        if *anchored {
                            input = input.anchored(Anchored::Yes);
                        }
                        let mut from = e;
                        while from < hi {
                            re.search_captures(&input.clone().range(from..hi), &mut caps);
                            let Some(whole) = caps.get_match() else { break };
                            let span = caps.get_group(1).unwrap_or(whole.span());
                            if let Some(score) = check(&t[span.start..span.end]) {
                                let (vs, ve) = if det.id == "password_assignment" {
                                    (s, span.end)
                                } else {
                                    (span.start, span.end)
                                };
                                // The keyword itself is the context.
                                raws.push(Raw {
                                    det: det_idx,
                                    start: vs,
                                    end: ve,
                                    confidence: score.ctx,
                                    ctx: true,
                                });
                                break;
                            }
                            if *anchored || whole.end() <= from {
                                break;
                            }
                            from = whole.end();
                        }
                    }
                    _ => {}
                }
            }
        }

        // Health dictionaries (medication, diagnosis), where selected.
        let [medication, diagnosis] = inner.health.map(|d| d.filter(|&d| on(d)));
        health::scan(&lower, medication, diagnosis, &mut raws);

        // Custom detectors: one gate pass, then each open detector's matcher.
        if inner.custom_dets.iter().any(|&d| on(d)) {
            let mut open = vec![false; inner.dets.len()];
            inner.custom_gate.open(&inner.dets, t, &lower, &mut open);
            for &d in &inner.custom_dets {
                if !on(d) || !open[d] {
                    continue;
                }
                let det = &inner.dets[d];
                let DetKind::Custom { matcher, score, .. } = &det.kind else {
                    continue;
                };
                for (s, e) in matcher.find(t, 0, t.len()) {
                    if let Some((conf, ctx)) = resolve(d, *score, s, e) {
                        raws.push(Raw {
                            det: d,
                            start: s,
                            end: e,
                            confidence: conf,
                            ctx,
                        });
                    }
                }
            }
        }

        // One predefined finding per span (the best); custom detectors keep
        // theirs, since a custom profile may count nothing else. Then drop
        // findings contained in a longer one.
        let custom = |r: &Raw| inner.dets[r.det].category == Category::Custom;
        // Stable and run-aware: the token pass and the literal pass each
        // push in (nearly) start order, so this mostly merges two runs.
        raws.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then_with(|| b.end.cmp(&a.end))
                .then_with(|| custom(a).cmp(&custom(b)))
                .then_with(|| b.confidence.cmp(&a.confidence))
                .then_with(|| b.ctx.cmp(&a.ctx))
                .then_with(|| a.det.cmp(&b.det))
        });
        raws.dedup_by(|b, a| {
            a.start == b.start && a.end == b.end && (a.det == b.det || !custom(a) && !custom(b))
        });
        // A password assignment keeps what it contains (its value may be a
        // key or token of its own).
        let password = inner
            .dets
            .iter()
            .position(|d| d.id == "password_assignment");
        let mut cover: Option<Raw> = None;
        raws.retain(|&r| {
            if let Some(c) = cover {
                let strictly =
                    c.start <= r.start && r.end <= c.end && (c.end - c.start) > (r.end - r.start);
                if strictly
                    && c.det != r.det
                    && c.confidence >= r.confidence
                    && Some(c.det) != password
                {
                    return false;
                }
            }
            if cover.is_none_or(|c| r.end > c.end) {
                cover = Some(r);
            }
            true
        });

        let mut buf = String::new();
        raws.drain(..)
            .map(|r| {
                let det = &inner.dets[r.det];
                let (os, oe) = n.to_original(r.start, r.end);
                let value = &t[r.start..r.end];
                let evidence: Arc<str> = if det.id == "private_key" {
                    Arc::from(format!("{} ****", value.lines().next().unwrap_or("")))
                } else {
                    redact_into(value, det.reveal.0, det.reveal.1, &mut buf);
                    if let DetKind::Health(_) = det.kind {
                        buf.push_str(" (");
                        buf.push_str(&health::category_of(value));
                        buf.push(')');
                    }
                    Arc::from(buf.as_str())
                };
                Indexed {
                    det: r.det,
                    finding: Finding {
                        detector: match det.static_id {
                            Some(id) => Cow::Borrowed(id),
                            None => Cow::Owned(det.id.clone()),
                        },
                        start: os,
                        end: oe,
                        confidence: r.confidence,
                        evidence,
                    },
                }
            })
            .collect()
        // (`raws` and `hits` go back to the thread here, emptied.)
    }
}

/// Buffers a scan needs every time and that grow with the text (dense
/// data: tens of thousands of entries): each thread keeps one of each, up
/// to [`SCRATCH_KEEP`] entries, so a scan does not map and fault in fresh
/// pages for them (measured: 5-10% of a dense scan).
struct Scratch<T: 'static> {
    buf: Vec<T>,
    home: &'static std::thread::LocalKey<std::cell::Cell<Vec<T>>>,
}

/// Most entries a thread keeps per scratch buffer.
const SCRATCH_KEEP: usize = 1 << 16;

thread_local! {
    static RAWS: std::cell::Cell<Vec<Raw>> = const { std::cell::Cell::new(Vec::new()) };
    static HITS: std::cell::Cell<Vec<(usize, bool, usize, usize)>> =
        const { std::cell::Cell::new(Vec::new()) };
}

impl<T> Scratch<T> {
    /// The thread's buffer (empty), or a new one.
    fn take(home: &'static std::thread::LocalKey<std::cell::Cell<Vec<T>>>) -> Scratch<T> {
        let mut buf = home.try_with(std::cell::Cell::take).unwrap_or_default();
        buf.clear();
        Scratch { buf, home }
    }
}

impl<T> std::ops::Deref for Scratch<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.buf
    }
}

impl<T> std::ops::DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.buf
    }
}

impl<T> Drop for Scratch<T> {
    fn drop(&mut self) {
        if self.buf.capacity() <= SCRATCH_KEEP {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            // During thread teardown there is nowhere to keep it: freed.
            let _ = self.home.try_with(|slot| slot.set(buf));
        }
    }
}

/// Applies a selection's profiles to findings of `text`.
pub(crate) fn evaluate(text: &str, found: &[Indexed], sel: &Selection) -> ScanReport {
    evaluate_with(text, found, sel, None)
}

/// [`evaluate`], with the record windows' counts kept in `known` (a field
/// scanner's, from one edit to the next).
pub(crate) fn evaluate_with(
    text: &str,
    found: &[Indexed],
    sel: &Selection,
    known: Option<&mut WindowCounts>,
) -> ScanReport {
    let (mut counts, in_record) = record_counts(text, found, sel, known);
    let mut findings = Vec::with_capacity(found.len());
    findings.extend(
        found
            .iter()
            .enumerate()
            .filter(|(i, f)| counted(text, f, sel, &mut counts, in_record.get(*i)))
            .map(|(_, f)| f.finding.clone()),
    );
    report(findings, &counts, sel)
}

/// [`evaluate`], consuming the findings (no copies).
pub(crate) fn evaluate_owned(text: &str, found: Vec<Indexed>, sel: &Selection) -> ScanReport {
    let (mut counts, in_record) = record_counts(text, &found, sel, None);
    // Collected in place: the findings reuse the scan's allocation.
    let findings = found
        .into_iter()
        .enumerate()
        .filter(|(i, f)| counted(text, f, sel, &mut counts, in_record.get(*i)))
        .map(|(_, f)| f.finding)
        .collect();
    report(findings, &counts, sel)
}

/// Counts of the record profiles of `sel` (their most records in one
/// cluster; 0 for the others), and per finding whether it is in a
/// qualifying record of some record profile (empty without any).
fn record_counts(
    text: &str,
    found: &[Indexed],
    sel: &Selection,
    mut known: Option<&mut WindowCounts>,
) -> (Vec<usize>, Vec<bool>) {
    let mut counts = vec![0usize; sel.inner.profiles.len()];
    let mut in_record = Vec::new();
    for (k, p) in sel.inner.profiles.iter().enumerate() {
        let Some(rule) = &p.record else { continue };
        let (idx, items): (Vec<usize>, Vec<(usize, usize, usize)>) = found
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let value = text.get(f.finding.start..f.finding.end).unwrap_or("");
                p.counts(f.det, f.finding.confidence, value)
            })
            .map(|(i, f)| (i, (f.det, f.finding.start, f.finding.end)))
            .unzip();
        if items.len() < rule.min_records {
            continue;
        }
        let (best, member) = super::record::records_with(text, &items, rule, known.as_deref_mut());
        counts[k] = best;
        if in_record.is_empty() {
            in_record = vec![false; found.len()];
        }
        for (i, m) in idx.into_iter().zip(member) {
            in_record[i] |= m;
        }
    }
    if let Some(known) = known {
        known.done();
    }
    (counts, in_record)
}

/// Whether some profile of `sel` counts `f`; adds it to those profiles'
/// counts (record profiles were counted already: a finding is kept for
/// them when `in_record`).
fn counted(
    text: &str,
    f: &Indexed,
    sel: &Selection,
    counts: &mut [usize],
    in_record: Option<&bool>,
) -> bool {
    let value = text.get(f.finding.start..f.finding.end).unwrap_or("");
    let mut counted = in_record.copied().unwrap_or(false);
    for (k, p) in sel.inner.profiles.iter().enumerate() {
        if p.record.is_none() && p.counts(f.det, f.finding.confidence, value) {
            counts[k] += 1;
            counted = true;
        }
    }
    counted
}

/// The report: counted findings and the profiles whose threshold they reach.
fn report(findings: Vec<Finding>, counts: &[usize], sel: &Selection) -> ScanReport {
    let fired = sel
        .inner
        .profiles
        .iter()
        .zip(counts)
        .filter(|(p, &c)| c >= p.min_matches)
        .map(|(p, _)| p.id.clone())
        .collect();
    ScanReport { findings, fired }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::token;
    use crate::detect::CustomKind;

    fn regex_spec(id: &str, pattern: &str) -> CustomDetectorSpec {
        CustomDetectorSpec {
            id: id.into(),
            description: String::new(),
            kind: CustomKind::Regex {
                pattern: pattern.into(),
            },
            context: Vec::new(),
            confidence: Confidence::Medium,
        }
    }

    /// The gate may only skip a detector whose own matcher finds nothing:
    /// then findings are exactly those of running every matcher.
    #[test]
    fn custom_gate_never_skips_a_detector_that_matches() {
        let patterns = [
            r"\bEMP-[0-9]{6}\b",
            r"\b(?:prod|stg)-db-[0-9]{2}\b",
            r"(?i)\bcase[0-9]{4}\b",
            r"[a-z0-9-]+\.corp\.internal\b",
            r"\bx{2,3}y\b",
            r"(?:ab|cd)+e",
            r"[0-9]{3}-[A-Z]",
        ];
        let mut b = EngineBuilder::new();
        for (i, p) in patterns.iter().enumerate() {
            b.custom_detector(regex_spec(&format!("re{i}"), p)).unwrap();
        }
        b.custom_detector(CustomDetectorSpec {
            id: "kw".into(),
            description: String::new(),
            kind: CustomKind::Keywords {
                words: vec!["Project Falcon".into(), "blue harbor".into()],
                case_sensitive: true,
                whole_word: true,
            },
            context: Vec::new(),
            confidence: Confidence::High,
        })
        .unwrap();
        let engine = b.build().unwrap();
        let inner = &*engine.inner;
        let pieces = [
            "EMP-123456",
            "EMP-12345",
            "prod-db-07",
            "stg-db-1",
            "CASE1234",
            "Case9876",
            "web-01.corp.internal",
            "xxy",
            "xxxxy",
            "ababe",
            "cde",
            "123-A",
            "Project Falcon",
            "project falcon",
            "BLUE HARBOR",
            "blue harbor",
            " ",
            "\n",
            "-",
            "x",
            "é",
            "4111",
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut gated_some = false;
        for _ in 0..3000 {
            let mut t = String::new();
            for _ in 0..(state % 12) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                t.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            state = state.wrapping_add(1);
            let lower = t.as_bytes().to_ascii_lowercase();
            let mut open = vec![false; inner.dets.len()];
            inner.custom_gate.open(&inner.dets, &t, &lower, &mut open);
            for &d in &inner.custom_dets {
                let DetKind::Custom { matcher, .. } = &inner.dets[d].kind else {
                    unreachable!()
                };
                let found = !matcher.find(&t, 0, t.len()).is_empty();
                assert!(open[d] || !found, "{} skipped on {t:?}", inner.dets[d].id);
                gated_some |= !open[d];
            }
        }
        assert!(gated_some, "the gate never skipped anything");
        // Literal prefixes are extracted where they exist, not elsewhere.
        assert!(prefix_literals(r"\bEMP-[0-9]{6}\b").is_some());
        assert!(prefix_literals(r"[a-z0-9-]+\.corp").is_none());
    }

    /// The token table's filters (shape, character class, separators,
    /// context per chain) never change findings: scans agree with an
    /// unfiltered table, where every candidate meets every detector.
    #[test]
    fn token_filters_never_change_findings() {
        let engine = Engine::with_defaults();
        let inner = &*engine.inner;
        let unfiltered = inner.tokens.unfiltered();
        let pieces = [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111111111111111",
            "378282246310005",
            "078-05-1120",
            "078 05 1120",
            "+44 20 7946 0958",
            "(555) 123-4567",
            "555.123.4567",
            "020 7946 0958",
            "1985-04-12",
            "12/04/1985",
            "10.1.2.3",
            "GB82 WEST 1234 5698 7654 32",
            "AB 12 34 56 C",
            "AB123456C",
            "ABCPE1234F",
            "1EG4-TE5-MK73",
            "J45.909",
            "S1234567D",
            "123456789",
            "021000021",
            "12345678",
            "ORD-12345678",
            "1234.56",
            "5e-3",
            "X1234567L",
            "RSSMRA85T10A562S",
            "2 84 12 75 123 456 78",
            "dob: 1985-04-12",
            "routing 021000021",
            "account 12345678 ",
            "passport 123456789",
            "diagnosis J45.909",
            "dob",
            "date of birth",
            "account",
            "routing number",
            "passport",
            "diagnosis",
            "icd",
            "phone",
            "card",
            "ssn",
            " ",
            " ",
            "\n",
            ", ",
            "-",
            "/",
            ".",
            "(",
            "+",
            "the",
            "INFO",
            "7",
            "42",
        ];
        let mut next = crate::detect::test_rng(0x2545_F491_4F6C_DD1Du64);
        let subset: Vec<bool> = (0..inner.dets.len()).map(|d| d % 3 != 0).collect();
        let mut found = 0;
        let mut context_only = 0;
        for round in 0..6000 {
            let mut t = String::new();
            for _ in 0..(2 + next(14)) {
                t.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            let mask = (round % 2 == 1).then_some(subset.as_slice());
            let got = engine.scan_with(&t, mask, None);
            let want = engine.scan_with(&t, mask, Some(&unfiltered));
            let strip = |v: Vec<Indexed>| v.into_iter().map(|i| i.finding).collect::<Vec<_>>();
            let (got, want) = (strip(got), strip(want));
            assert_eq!(got, want, "{t:?}");
            found += got.len();
            context_only += got
                .iter()
                .filter(|f| predefined::CONTEXT_ONLY.contains(&f.detector.as_ref()))
                .count();
        }
        assert!(found > 1400, "only {found} findings");
        assert!(
            context_only > 100,
            "only {context_only} context-only findings"
        );
    }

    /// [`SHORT_SPAN`] bounds every predefined finding that does not start
    /// with a [`LONG_SPAN_ANCHORS`] literal: anchored regexes run in
    /// `[hit - before, hit + after]`, keyword values within `after` of the
    /// keyword, token candidates have at most `MAX_WORDS` words of
    /// `MAX_COMPACT` characters with 3-byte separators and a leading `+`.
    /// Predefined regexes compile on first use: every one must compile
    /// (a failure would panic in a scan).
    #[test]
    fn every_predefined_regex_compiles() {
        let engine = Engine::with_defaults();
        let mut n = 0;
        for d in &engine.inner.dets {
            if let DetKind::Anchored { re, .. } | DetKind::Keyword { re, .. } = &d.kind {
                let _ = re.get().is_match("x");
                n += 1;
            }
        }
        assert!(n >= 60, "{n} regexes");
    }

    #[test]
    fn short_span_bounds_every_short_detector() {
        let engine = Engine::with_defaults();
        for d in &engine.inner.dets {
            let longest_literal = d.literals.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
            let long = d
                .literals
                .iter()
                .any(|(l, _)| LONG_SPAN_ANCHORS.contains(&l.as_str()));
            let bound = match &d.kind {
                DetKind::Anchored { before, after, .. } => before + longest_literal + after,
                DetKind::Keyword { after, .. } => longest_literal + after,
                DetKind::Token(..) => 1 + token::MAX_COMPACT + 3 * (token::MAX_WORDS - 1),
                DetKind::Health(_) => health::MAX_TERM,
                DetKind::Custom { .. } | DetKind::SourceCode | DetKind::Label(_) => continue,
            };
            assert!(long || bound <= SHORT_SPAN, "{}: {bound} bytes", d.id);
            assert!(bound <= MAX_SPAN, "{}: {bound} bytes", d.id);
        }
    }
}
