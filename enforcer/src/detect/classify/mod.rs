//! Whole-text classifiers: the `source_code` detector.
//!
//! Pattern detectors look for values; a classifier reads a whole text and
//! says what kind of text it is. [`SourceCode`] decides whether a text of at
//! least [`MIN_CHARS`] characters is source code, and in which language, so
//! that code pasted into a chat or uploaded to a file share can be blocked
//! while prose that quotes a line of code is not.
//!
//! The model is a multinomial naive Bayes over hashed features of each line
//! (words, word pairs, symbol runs, indentation, first and last byte, width;
//! see [`features`]), trained by `enforcer/examples/train_source_code.rs` on
//! code and documentation installed on the build machine and committed as
//! `source_code.model` ([`model`] describes the format). It is compiled into
//! the binary (`include_bytes!`): nothing is read at run time.
//!
//! Cost is bounded: a text longer than [`WHOLE_LIMIT`] bytes is judged on
//! [`WINDOWS`] windows of [`WINDOW`] bytes spread over it (each starting at a
//! line), so a 100 MB text costs the same as a 16 KB one.
//!
//! Where it runs: [`Engine::scan`](super::Engine::scan) and
//! [`Engine::scan_selection`](super::Engine::scan_selection) add its finding
//! (spanning the whole text) when a selected profile holds `source_code`:
//! pastes, uploads, downloads, page content, the CLI. The incremental
//! [`FieldScanner`](super::FieldScanner) (keystrokes) and the
//! [`StreamScanner`](super::StreamScanner) (chunks) see windows, not whole
//! texts, and do not classify: a keystroke refused because the whole field
//! reads as code would leave the user unable to edit it.
//!
//! Naive Bayes is explainable: each class's score is the mean log-likelihood
//! of the text's features; the finding's score is the margin of the best
//! language over prose, turned into a probability-like number by a logistic.
//! See `enforcer/CLASSIFIERS.md` for the training data, held-out figures and
//! speed.

pub mod features;
pub mod model;

use std::sync::OnceLock;

pub use model::{FormatError, Model, Trainer};

use super::types::Confidence;

/// Shortest text classified, in characters.
pub const MIN_CHARS: usize = 500;
/// Texts up to this many bytes are read whole.
pub const WHOLE_LIMIT: usize = 16 << 10;
/// Longer texts: this many windows...
pub const WINDOWS: usize = 4;
/// ... of this many bytes.
pub const WINDOW: usize = 4 << 10;

/// Classes that are not code: prose, and structured data (JSON, XML,
/// YAML, TOML, configuration files).
pub const NOT_CODE: [&str; 2] = ["prose", "data"];

/// The committed model.
static MODEL_BYTES: &[u8] = include_bytes!("source_code.model");

/// What the classifier says about a text.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    /// The most likely language (a class of the model not in [`NOT_CODE`]).
    pub language: String,
    /// The verdict as a class: `language` when code, else the most likely
    /// class that is not code (`prose` or `data`).
    pub class: String,
    /// Whether the text is code (margin above the model's threshold).
    pub is_code: bool,
    /// Best language's mean log-likelihood per feature minus that of the
    /// best class that is not code (prose, data), in nats.
    pub margin: f32,
    /// `margin` through a logistic centred on the code threshold, in `0..1`.
    pub score: f32,
    /// `High` above the model's high threshold, `Medium` when code, else `Low`.
    pub confidence: Confidence,
}

/// The source-code classifier (cheap to share: the model is parsed once).
#[derive(Debug)]
pub struct SourceCode {
    model: Model,
}

impl SourceCode {
    /// The classifier with the committed model.
    pub fn builtin() -> &'static SourceCode {
        static BUILTIN: OnceLock<SourceCode> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            // The committed model is checked by a test: parsing cannot fail.
            let model = Model::parse(MODEL_BYTES)
                .unwrap_or_else(|e| panic!("committed source-code model: {e}"));
            SourceCode { model }
        })
    }

    /// A classifier with another model (training, tests).
    pub fn with_model(model: Model) -> SourceCode {
        SourceCode { model }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Classifies `text`; `None` when it is shorter than [`MIN_CHARS`]
    /// characters or has no features.
    pub fn classify(&self, text: &str) -> Option<Classification> {
        if !long_enough(text) {
            return None;
        }
        let scores = self.model.scores(&sample(text))?;
        Some(self.judge(&scores))
    }

    /// The classification implied by per-class scores (from [`Model::scores`]).
    pub fn judge(&self, scores: &[f32]) -> Classification {
        let m = &self.model;
        let (mut best, mut best_score) = (0, f32::NEG_INFINITY);
        let (mut other, mut not_code) = (0, f32::NEG_INFINITY);
        for (i, (&s, class)) in scores.iter().zip(&m.classes).enumerate() {
            if NOT_CODE.contains(&class.as_str()) {
                if s > not_code {
                    (other, not_code) = (i, s);
                }
            } else if s > best_score {
                (best, best_score) = (i, s);
            }
        }
        let margin = best_score - not_code;
        let is_code = margin > m.code_threshold;
        let confidence = if margin > m.high_threshold {
            Confidence::High
        } else if is_code {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        // Scaled so that the high threshold maps to about 0.95.
        let spread = (m.high_threshold - m.code_threshold).max(0.01) / 3.0;
        let score = 1.0 / (1.0 + (-(margin - m.code_threshold) / spread).exp());
        Classification {
            language: m.classes[best].clone(),
            class: m.classes[if is_code { best } else { other }].clone(),
            is_code,
            margin,
            score,
            confidence,
        }
    }
}

/// Whether `text` has at least [`MIN_CHARS`] characters.
pub fn long_enough(text: &str) -> bool {
    // Four bytes per character at most.
    text.len() >= 4 * MIN_CHARS
        || (text.len() >= MIN_CHARS && text.chars().nth(MIN_CHARS - 1).is_some())
}

/// What the classifier reads of `text`: the whole text up to
/// [`WHOLE_LIMIT`] bytes, else [`WINDOWS`] windows of [`WINDOW`] bytes
/// spread evenly, each from the start of a line, joined by line breaks.
pub fn sample(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= WHOLE_LIMIT {
        return std::borrow::Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let step = (text.len() - WINDOW) / (WINDOWS - 1);
    let mut out = String::with_capacity(WINDOWS * (WINDOW + 1));
    for w in 0..WINDOWS {
        let mut s = w * step;
        if s > 0 {
            // From the next line start, if one is near.
            if let Some(p) = memchr::memchr(b'\n', &bytes[s..(s + WINDOW / 2).min(bytes.len())]) {
                s += p + 1;
            }
        }
        let s = super::context::ceil_boundary(text, s);
        let e = super::context::floor_boundary(text, (s + WINDOW).min(text.len()));
        // Whole lines only: drop a cut last line.
        let piece = &text[s..e.max(s)];
        let piece = match (e < text.len(), piece.rfind('\n')) {
            (true, Some(p)) => &piece[..p + 1],
            _ => piece,
        };
        out.push_str(piece);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_model_parses() {
        let m = &SourceCode::builtin().model;
        assert_eq!(m.classes[0], "prose");
        assert!(m.classes.len() >= 6, "{:?}", m.classes);
        assert!(m.high_threshold >= m.code_threshold);
    }

    /// Any text, of any length and script, is classified without a panic
    /// (window cuts land on character boundaries) and its sample is bounded.
    #[test]
    fn random_texts_never_panic() {
        let pieces = [
            "fn ",
            "é",
            "日本語",
            "\n",
            "    ",
            "{",
            "};",
            "\r\n",
            "😀",
            "the ",
            "\t",
        ];
        let mut next = crate::detect::test_rng(0x5eed);
        for _ in 0..200 {
            let n = next(40_000) as usize / 3;
            let mut t = String::new();
            while t.len() < n {
                t.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            let s = sample(&t);
            assert!(s.len() <= WINDOWS * (WINDOW + 1) || t.len() <= WHOLE_LIMIT);
            let c = SourceCode::builtin().classify(&t);
            if !long_enough(&t) {
                assert_eq!(c, None);
            }
            if let Some(c) = c {
                assert!((0.0..=1.0).contains(&c.score), "{}", c.score);
            }
        }
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(!long_enough(&"a".repeat(499)));
        assert!(long_enough(&"a".repeat(500)));
        // 600 bytes but 300 characters.
        assert!(!long_enough(&"é".repeat(300)));
        assert!(long_enough(&"é".repeat(500)));
    }

    #[test]
    fn long_texts_are_sampled_in_bounded_windows() {
        let line = "let x = compute(a, b); // é\n";
        let text = line.repeat(100_000);
        let s = sample(&text);
        assert!(s.len() <= WINDOWS * (WINDOW + 1), "{}", s.len());
        assert!(s.len() >= WINDOWS * (WINDOW - line.len()), "{}", s.len());
        // Whole lines.
        assert!(s.lines().all(|l| format!("{l}\n") == line), "cut line");
        let short = "x".repeat(WHOLE_LIMIT);
        assert_eq!(sample(&short), short.as_str());
    }
}
