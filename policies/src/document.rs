//! The serde model of a policy document, as written in TOML by hand or sent
//! as JSON to the admin API.
//!
//! The model is deliberately plain data: it round-trips through TOML and JSON
//! without loss, and carries no compiled state. [`crate::Policy::compile`]
//! checks it and turns it into matchers; nothing here is trusted until then.
//! Unknown keys are refused (`deny_unknown_fields`) so a typo such as
//! `read_onyl = true` is an error, not a silently ignored line.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::action::Action;

/// A whole policy document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// What happens when no rule decides an action. Its selectors must be empty.
    #[serde(default)]
    pub defaults: RuleDoc,
    /// Applications: named groups of host patterns that rules select.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppDoc>,
    /// Custom DLP detectors, usable in profiles next to the predefined ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<DetectorDoc>,
    /// Custom DLP profiles, usable in rules next to the predefined ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileDoc>,
    /// Ordered rules; for each action the first rule that matches and sets it wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleDoc>,
}

/// An application: the hosts (and optional path prefixes) it lives on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDoc {
    /// Name rules use to select it; unique, case-insensitively. `other` is
    /// reserved for the built-in catch-all app.
    pub name: String,
    /// Free text for admins.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Host patterns: `mail.example.com`, `*.example.com` (subdomains only),
    /// optionally with a port (`intranet:8443`) and a path prefix
    /// (`example.com/finance`).
    pub hosts: Vec<String>,
}

/// How a custom detector matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// A regular expression (`pattern`).
    Regex,
    /// A list of words or phrases (`words`).
    Keywords,
    /// Exact values from a CSV file (`csv`, `columns`), hashed on load.
    ExactData,
    /// Documents' sensitivity labels whose name (or id) matches `names`:
    /// MIP labels of Office files, PDFs and mail, and classification
    /// markings in headers, footers and a text's first or last lines.
    Label,
}

impl DetectorKind {
    /// The snake_case name used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectorKind::Regex => "regex",
            DetectorKind::Keywords => "keywords",
            DetectorKind::ExactData => "exact_data",
            DetectorKind::Label => "label",
        }
    }
}

/// Confidence levels, as written in documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Weak evidence.
    Low,
    /// Reasonable evidence.
    Medium,
    /// Strong evidence (validated, or backed by context words).
    High,
}

/// A custom detector.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorDoc {
    /// Stable id, used in profiles and reported in findings.
    pub id: String,
    /// Free text for admins.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How it matches; decides which of the fields below apply.
    pub kind: Option<DetectorKind>,
    /// `regex`: the pattern (Rust `regex` syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// `keywords`: the words or phrases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// `keywords`: match case exactly (default false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub case_sensitive: bool,
    /// `keywords`: only match whole words (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole_word: Option<bool>,
    /// `exact_data`: the CSV file, a name inside the data directory (see
    /// [`crate::DataDir`]); never a host path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<String>,
    /// `exact_data`: the CSV columns to use (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// `label`: label names or MIP label ids that fire the detector, `*`
    /// standing for any characters (`"Highly Confidential*"`); case,
    /// punctuation and spacing are ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Words near a match that raise its confidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// Confidence of a bare match (default medium).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Level>,
}

/// A custom DLP profile: which detectors, and how much evidence fires it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDoc {
    /// Stable id, used by rules.
    pub id: String,
    /// Free text for admins.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Detector ids, predefined or custom.
    pub detectors: Vec<String>,
    /// Findings below this confidence are ignored (default low).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<Level>,
    /// How many findings fire the profile (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_matches: Option<usize>,
    /// Values never reported: exact strings, or `re:<regex>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
}

/// A rule: who and where it applies to, and what it says per action.
///
/// The same shape serves as the document's `defaults` (with empty selectors
/// and no name).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Unique name, shown in decisions, incidents and `explain`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Free text for admins.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// App names; empty means every app (including `other`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    /// User names; with `groups`, the rule applies to a user listed here OR
    /// in one of the groups. Both empty means everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Group names (see `users`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Profiles used by every `scan` setting of this rule that lists none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// What a scan match does when the setting does not say (default block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_match: Option<OnMatch>,
    /// Remote-to-local clipboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<ActionSetting>,
    /// Local-to-remote clipboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paste: Option<ActionSetting>,
    /// Files given to the remote page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<ActionSetting>,
    /// Files offered by the remote page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<ActionSetting>,
    /// Typed input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard: Option<ActionSetting>,
    /// Printing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub print: Option<ActionSetting>,
    /// Form, XHR and fetch bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<ActionSetting>,
    /// Page content shown to the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<ActionSetting>,
    /// No input at all: blocks paste, upload, keyboard and submit.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Largest clipboard text (copy and paste) in bytes; `"64 KiB"` also works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clipboard_bytes: Option<ByteSize>,
    /// Allowed upload file types (extensions or detected kinds, e.g. `pdf`);
    /// empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upload_types: Vec<String>,
    /// Largest upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_upload_bytes: Option<ByteSize>,
    /// Allowed download file types; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub download_types: Vec<String>,
    /// Largest download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_download_bytes: Option<ByteSize>,
    /// Detector ids whose matches are masked in page content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mask: Vec<String>,
    /// Also OCR the page's images, canvases and SVG images (page-content
    /// gate): their text is scanned with this rule's `page` profiles and
    /// masked like page text. Needs `page = "scan"` on the same rule.
    /// Default false: OCR costs ~100-300 ms of CPU per image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_images: Option<bool>,
    /// Keep typed text in recordings (default false: only lengths are kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_typed_text: Option<bool>,
}

impl RuleDoc {
    /// The setting this rule writes for `action`, if any.
    pub fn setting(&self, action: Action) -> Option<&ActionSetting> {
        match action {
            Action::Copy => self.copy.as_ref(),
            Action::Paste => self.paste.as_ref(),
            Action::Upload => self.upload.as_ref(),
            Action::Download => self.download.as_ref(),
            Action::Keyboard => self.keyboard.as_ref(),
            Action::Print => self.print.as_ref(),
            Action::Submit => self.submit.as_ref(),
            Action::Page => self.page.as_ref(),
        }
    }

    /// Mutable access to the setting for `action`.
    pub fn setting_mut(&mut self, action: Action) -> &mut Option<ActionSetting> {
        match action {
            Action::Copy => &mut self.copy,
            Action::Paste => &mut self.paste,
            Action::Upload => &mut self.upload,
            Action::Download => &mut self.download,
            Action::Keyboard => &mut self.keyboard,
            Action::Print => &mut self.print,
            Action::Submit => &mut self.submit,
            Action::Page => &mut self.page,
        }
    }
}

/// What an action is: let through, refused, or let through only if clean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Always let through.
    Allow,
    /// Always refused.
    Block,
    /// Scanned with DLP profiles; let through only if none fires (see [`OnMatch`]).
    Scan,
}

impl Mode {
    /// The lowercase name used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Allow => "allow",
            Mode::Block => "block",
            Mode::Scan => "scan",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a scan that fires does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnMatch {
    /// Refuse the action and record an incident.
    #[default]
    Block,
    /// Let the action through and record an incident.
    Audit,
}

impl fmt::Display for OnMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnMatch::Block => "block",
            OnMatch::Audit => "audit",
        })
    }
}

/// The setting for one action: `paste = "block"`, or
/// `paste = { mode = "scan", profiles = ["financial"], on_match = "audit" }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionSetting {
    /// Allow, block or scan.
    pub mode: Mode,
    /// Profiles for `scan`; empty means the rule's `profiles`.
    pub profiles: Vec<String>,
    /// What a match does; `None` means the rule's `on_match`.
    pub on_match: Option<OnMatch>,
}

impl ActionSetting {
    /// A setting with just a mode.
    pub fn mode(mode: Mode) -> Self {
        ActionSetting {
            mode,
            profiles: Vec::new(),
            on_match: None,
        }
    }
}

impl Serialize for ActionSetting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.profiles.is_empty() && self.on_match.is_none() {
            return s.serialize_str(self.mode.as_str());
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("mode", &self.mode)?;
        if !self.profiles.is_empty() {
            m.serialize_entry("profiles", &self.profiles)?;
        }
        if let Some(on) = self.on_match {
            m.serialize_entry("on_match", &on)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ActionSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ActionSetting;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#""allow", "block", "scan", or a table { mode = "scan", profiles = [...], on_match = "block"|"audit" }"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ActionSetting, E> {
                let mode = Mode::deserialize(de::value::StrDeserializer::<E>::new(v))
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))?;
                Ok(ActionSetting::mode(mode))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ActionSetting, A::Error> {
                let mut mode = None;
                let mut profiles = None;
                let mut on_match = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "mode" if mode.is_none() => mode = Some(map.next_value::<Mode>()?),
                        "profiles" if profiles.is_none() => profiles = Some(map.next_value()?),
                        "on_match" if on_match.is_none() => on_match = Some(map.next_value()?),
                        "mode" | "profiles" | "on_match" => {
                            return Err(de::Error::duplicate_field("mode, profiles or on_match"))
                        }
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["mode", "profiles", "on_match"],
                            ))
                        }
                    }
                }
                Ok(ActionSetting {
                    mode: mode.ok_or_else(|| de::Error::missing_field("mode"))?,
                    profiles: profiles.unwrap_or_default(),
                    on_match,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A size in bytes: an integer, or a string such as `"10 MiB"`, `"512KB"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `"10 MiB"`, `"1.5 GB"`, `"4096"`, `"64k"`.
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: f64 = num.parse().map_err(|_| {
            format!("`{s}` is not a size (expected e.g. 4096, \"64 KiB\", \"10 MB\")")
        })?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1_000,
            "kib" => 1 << 10,
            "m" | "mb" => 1_000_000,
            "mib" => 1 << 20,
            "g" | "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown size unit `{other}` in `{s}` (use B, KB, KiB, MB, MiB, GB or GiB)"
                ))
            }
        };
        let bytes = num * mult as f64;
        if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
            return Err(format!("size `{s}` is out of range"));
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // TOML integers are i64; sizes that large are not realistic anyway.
        s.serialize_i64(i64::try_from(self.0).unwrap_or(i64::MAX))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size in bytes: an integer or a string such as \"10 MiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("size {v} is negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}
