//! The server's model of the text field a user is typing into, for the
//! keyboard gate.
//!
//! Every keystroke passes through the isolator, so the server can know what
//! a field will hold *before* the keystroke reaches the page. The model is a
//! [`FieldScanner`] (incremental: the cost of an edit does not grow with the
//! field) plus the caret. Typing, deleting and pasting update it as they are
//! dispatched; the page script reports the field's real value and selection
//! on focus, after typing pauses, and after caret moves (arrow keys, clicks),
//! and the model re-synchronises from those reports when no keystroke is in
//! flight. A keystroke that would complete a finding is refused, so the field
//! never holds the full value.
//!
//! Text typed where no editable field has focus (canvas editors, key
//! handlers on the page) goes into a "typed run" model of its own, so a value
//! typed there is still caught.

use std::time::{Duration, Instant};

use enforcer::{FieldScanner, ScanReport};

/// What the page script reports about the focused field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldReport {
    /// Field id (stable per element for the life of its document; 0 = none).
    pub field: u64,
    /// Its value (UTF-8).
    pub value: String,
    /// Selection start, in UTF-16 code units (as the DOM counts).
    pub start_utf16: usize,
    /// Selection end, in UTF-16 code units.
    pub end_utf16: usize,
    /// Enter inserts a line break (textarea, contenteditable).
    pub multiline: bool,
    /// The values of the short inputs just before this one in its form,
    /// joined with spaces (the other boxes of a card number): the model
    /// judges them with the field. Empty for none.
    pub before: String,
    /// The values of the short inputs just after this one, joined with
    /// spaces (a card form filled from its last box backwards).
    pub after: String,
    /// Where the caret is is not known (a code editor's hidden input
    /// proxy: the value is the editor's text). Edits are then judged at
    /// every position.
    pub caret_unknown: bool,
    /// The page's document (a random id) and the trusted key-downs it had
    /// seen when it made the report: a report made before keys the server
    /// has sent since is out of date.
    pub keys_seen: Option<(u64, u64)>,
}

/// Keystrokes in flight within this much of a report make it untrustworthy.
const QUIET: Duration = Duration::from_millis(120);

/// Most bytes of a field modelled; a longer field is modelled from the
/// caret's neighbourhood only (typed text is still scanned as it grows).
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// An edit the keyboard gate considers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit<'a> {
    /// Insert text at the caret (replacing the selection).
    Insert(&'a str),
    /// Backspace: delete the selection or the character before the caret.
    Backspace,
    /// Delete: the selection or the character after the caret.
    Delete,
    /// Cut (Ctrl/Cmd+X, Shift+Delete): the selection, nothing without one.
    Cut,
    /// Ctrl+Backspace (Alt on a Mac): the selection or the word before the caret.
    WordBack,
    /// Ctrl+Delete: the selection or the word after the caret.
    WordForward,
    /// Cmd+Backspace on a Mac: the selection or the line before the caret.
    LineBack,
}

impl Edit<'_> {
    /// Where the deleted span ends is the browser's guess (word and line
    /// boundaries): the model judges each plausible span and is stale after.
    fn fuzzy(self) -> bool {
        matches!(self, Edit::WordBack | Edit::WordForward | Edit::LineBack)
    }
}

/// What the incremental scanner cannot see: whether an edit makes the
/// field share enough of a registered confidential document. Called with
/// the text around the edit as it would be after it, and a way to get the
/// same text before it (built only when needed); returns the report of
/// what the edit newly matches.
pub type PassageCheck = Box<dyn Fn(&str, &dyn Fn() -> String) -> Option<ScanReport> + Send + Sync>;

/// Bytes on each side of an edit a [`PassageCheck`] sees: a matching
/// passage is about 40 words, and a field's other text far from the edit
/// was checked when it was typed.
pub const PASSAGE_REACH: usize = 8 << 10;

/// The model of one field.
pub struct FieldModel {
    /// Field id from the page script (0: the typed run, no field focused).
    pub field: u64,
    /// Enter inserts a line break.
    pub multiline: bool,
    scanner: FieldScanner,
    /// Selection as byte offsets into the scanner's text.
    sel: (usize, usize),
    /// The caret may be wrong (a key moved it or changed the text in a way
    /// the model does not follow); the next report is applied whatever its age.
    stale: bool,
    last_edit: Option<Instant>,
    pending: Option<FieldReport>,
    passages: Option<PassageCheck>,
}

impl std::fmt::Debug for FieldModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldModel")
            .field("field", &self.field)
            .field("len", &self.scanner.text().len())
            .field("sel", &self.sel)
            .field("stale", &self.stale)
            .finish_non_exhaustive()
    }
}

/// The result of trying an edit.
#[derive(Debug)]
pub enum Tried {
    /// The edit completes no finding; it has been applied to the model.
    Clean,
    /// The edit would complete a finding that makes a profile fire; the model
    /// is unchanged. Holds the report of the field as it would have been.
    Completes(ScanReport),
    /// As `Completes`, for an `audit` rule: the edit has been applied.
    Applied(ScanReport),
}

impl FieldModel {
    /// A model over `scanner` (empty), for field `field`.
    pub fn new(scanner: FieldScanner, field: u64) -> FieldModel {
        FieldModel {
            field,
            multiline: false,
            scanner,
            sel: (0, 0),
            stale: false,
            last_edit: None,
            pending: None,
            passages: None,
        }
    }

    /// The model also refuses edits that `check` says make the field
    /// share a registered document's passages.
    pub fn with_passages(mut self, check: Option<PassageCheck>) -> FieldModel {
        self.passages = check;
        self
    }

    /// The modelled text.
    pub fn text(&self) -> &str {
        self.scanner.text()
    }

    /// The selection in bytes.
    pub fn selection(&self) -> (usize, usize) {
        self.sel
    }

    /// Marks the caret as unknown until the next report.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Takes a report from the page: applied at once when no keystroke is in
    /// flight (or the model is stale), else kept and applied at the next
    /// quiet moment ([`FieldModel::settle`]). The cost is one comparison of
    /// the value when nothing changed.
    pub fn report(&mut self, report: FieldReport, now: Instant) {
        let quiet = self
            .last_edit
            .is_none_or(|t| now.duration_since(t) >= QUIET);
        if quiet || self.stale {
            self.apply(report);
        } else {
            self.pending = Some(report);
        }
    }

    /// Applies a pending report once typing has paused.
    pub fn settle(&mut self, now: Instant) {
        if self
            .last_edit
            .is_none_or(|t| now.duration_since(t) >= QUIET)
        {
            if let Some(r) = self.pending.take() {
                self.apply(r);
            }
        }
    }

    fn apply(&mut self, r: FieldReport) {
        self.pending = None;
        self.stale = r.caret_unknown;
        self.multiline = r.multiline;
        let value = if r.value.len() > MAX_FIELD_BYTES {
            let mut cut = MAX_FIELD_BYTES;
            while !r.value.is_char_boundary(cut) {
                cut -= 1;
            }
            &r.value[..cut]
        } else {
            r.value.as_str()
        };
        let joined;
        let (text, shift) = if r.before.is_empty() && r.after.is_empty() {
            (value, 0)
        } else {
            let sep = |s: &str| if s.is_empty() { "" } else { " " };
            let (b, a) = (r.before.as_str(), r.after.as_str());
            joined = format!("{b}{}{value}{}{a}", sep(b), sep(a));
            (joined.as_str(), b.len() + sep(b).len())
        };
        if self.scanner.text() != text {
            self.scanner.set_text(text);
        }
        let a = shift + utf16_to_byte(value, r.start_utf16);
        let b = shift + utf16_to_byte(value, r.end_utf16);
        self.sel = (a.min(b), a.max(b));
    }

    /// Tab (or Shift+Tab) moved the focus to the next (previous) field of
    /// the form, which the page has not reported yet. Until it does, keys
    /// are judged as if that field continued this one after a space (before
    /// it, going back): typed fast across a card form's boxes, the digits
    /// meet the ones already in the boxes. The report of the new field
    /// replaces this model with one of that field and its neighbours.
    pub fn focus_moves(&mut self, forward: bool) {
        let n = self.scanner.text().len();
        let at = if forward { n } else { 0 };
        if self.scanner.replace(at..at, " ").is_err() {
            self.stale = true;
            return;
        }
        let caret = if forward { n + 1 } else { 0 };
        self.sel = (caret, caret);
        self.stale = false;
        self.pending = None;
    }

    /// Moves the caret as a key without modifiers does in a single-line
    /// field; `false` when the model cannot follow (it is then stale until
    /// the next report).
    pub fn move_caret(&mut self, key: &str) -> bool {
        let text = self.scanner.text();
        let (a, b) = self.sel;
        if self.stale || b > text.len() || a > b {
            self.stale = true;
            return false;
        }
        let at = match key {
            "ArrowLeft" if a != b => a,
            "ArrowRight" if a != b => b,
            "ArrowLeft" => prev_char(text, a),
            "ArrowRight" => next_char(text, b),
            "Home" if !self.multiline => 0,
            "End" if !self.multiline => text.len(),
            _ => {
                self.stale = true;
                return false;
            }
        };
        self.sel = (at, at);
        true
    }

    /// Tries `edit` at the caret. `audit` applies a completing edit anyway
    /// (the rule only records). Refused (`Completes`), unless `audit`:
    /// - an edit, insertion or deletion, after which the field holds a
    ///   value of a detector that fires, touching the edit;
    /// - an edit after which one more digit at the caret would complete
    ///   such a value: a page logging keys would otherwise hold all of it
    ///   but a digit it can compute (a card's Luhn digit);
    /// - while the caret is unknown (a key the model does not follow, and
    ///   no report since), an edit that would complete a value at any
    ///   caret position of a field up to [`MAX_ANYWHERE_BYTES`].
    ///
    /// Costs one incremental scan of the edit's neighbourhood, plus one
    /// more to undo a refused edit; ten more after a digit in a run of
    /// digits; two per position while the caret is unknown.
    pub fn try_edit(&mut self, edit: Edit<'_>, audit: bool, now: Instant) -> Tried {
        self.settle(now);
        let text_len = self.scanner.text().len();
        if self.stale && !audit && text_len <= MAX_ANYWHERE_BYTES {
            if let Some(report) = self.completes_anywhere(edit) {
                return Tried::Completes(report);
            }
        }
        let (mut a, mut b) = self.sel;
        if b > text_len || a > b {
            // The model lost track: put the caret at the end.
            a = text_len;
            b = text_len;
        }
        let mut spans = edit_ranges(self.scanner.text(), edit, (a, b));
        if spans.is_empty() {
            return Tried::Clean;
        }
        let (range, insert) = spans.remove(0);
        if !audit {
            // The other spans the browser may delete: refused if any completes.
            if let Some(report) = spans.into_iter().find_map(|s| self.would_complete(s)) {
                return Tried::Completes(report);
            }
        }
        let removed = self.scanner.text()[range.clone()].to_owned();
        let report = match self.scanner.replace(range.clone(), insert) {
            Ok(r) => r,
            Err(_) => {
                self.stale = true;
                return Tried::Clean;
            }
        };
        let new_end = range.start + insert.len();
        self.last_edit = Some(now);
        let completes = touches(&report, range.start, new_end);
        let passage = if completes {
            None
        } else {
            self.passage_crossed(range.start..new_end, &removed)
        };
        if !audit {
            let refusal = if completes {
                Some(report.clone())
            } else {
                passage
                    .clone()
                    .or_else(|| self.one_digit_completes(new_end))
            };
            if let Some(report) = refusal {
                // Undo: the page never receives this keystroke.
                let _ = self.scanner.replace(range.start..new_end, &removed);
                return Tried::Completes(report);
            }
        }
        self.sel = (new_end, new_end);
        if edit.fuzzy() {
            self.stale = true;
        }
        match passage {
            _ if completes => Tried::Applied(report),
            Some(p) => Tried::Applied(p),
            None => Tried::Clean,
        }
    }

    /// What the edit that put `inserted` where `removed` was makes the
    /// field newly share with a registered document, judged on the text
    /// within [`PASSAGE_REACH`] of it.
    fn passage_crossed(
        &self,
        inserted: std::ops::Range<usize>,
        removed: &str,
    ) -> Option<ScanReport> {
        let check = self.passages.as_ref()?;
        let text = self.scanner.text();
        let mut from = inserted.start.saturating_sub(PASSAGE_REACH);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (inserted.end + PASSAGE_REACH).min(text.len());
        while !text.is_char_boundary(to) {
            to += 1;
        }
        let before = || {
            format!(
                "{}{removed}{}",
                &text[from..inserted.start],
                &text[inserted.end..to]
            )
        };
        check(&text[from..to], &before)
    }

    /// The report of a value one digit typed at `at` would complete, when
    /// the text around `at` is a run dense in digits that `at` touches (a
    /// missing digit is computable wherever it stands, Luhn fixes any one).
    fn one_digit_completes(&mut self, at: usize) -> Option<ScanReport> {
        let text = self.scanner.text();
        let mut from = at.saturating_sub(DIGIT_WINDOW);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (at + DIGIT_WINDOW).min(text.len());
        while !text.is_char_boundary(to) {
            to += 1;
        }
        let digits = text[from..to].bytes().filter(u8::is_ascii_digit).count();
        let in_run = |c: char| c.is_ascii_digit() || GROUP_SEPARATORS.contains(c);
        if digits < MIN_DIGITS_BEFORE
            || !(text[..at].ends_with(in_run) || text[at..].starts_with(in_run))
        {
            return None;
        }
        for d in ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] {
            let Ok(report) = self.scanner.replace(at..at, d) else {
                return None;
            };
            let _ = self.scanner.replace(at..at + 1, "");
            if touches(&report, at, at + 1) {
                return Some(report);
            }
        }
        None
    }

    /// Whether `edit` would complete a value at some caret position.
    fn completes_anywhere(&mut self, edit: Edit<'_>) -> Option<ScanReport> {
        let positions: Vec<usize> = self
            .scanner
            .text()
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(self.scanner.text().len()))
            .collect();
        for p in positions {
            for span in edit_ranges(self.scanner.text(), edit, (p, p)) {
                if let Some(report) = self.would_complete(span) {
                    return Some(report);
                }
            }
        }
        None
    }

    /// The report of the value replacing `range` with `insert` would
    /// complete, touching the edit; the model is left unchanged.
    fn would_complete(
        &mut self,
        (range, insert): (std::ops::Range<usize>, &str),
    ) -> Option<ScanReport> {
        let removed = self.scanner.text()[range.clone()].to_owned();
        let report = self.scanner.replace(range.clone(), insert).ok()?;
        let new_end = range.start + insert.len();
        let _ = self.scanner.replace(range.start..new_end, &removed);
        touches(&report, range.start, new_end).then_some(report)
    }
}

/// Fields up to this many bytes are checked at every caret position while
/// the caret is unknown; longer ones at the modelled caret only.
pub const MAX_ANYWHERE_BYTES: usize = 512;
/// What may stand between the digit groups of a card number.
const GROUP_SEPARATORS: &str = " -./_\t\n";
/// How far back from the caret digits are counted, in bytes.
const DIGIT_WINDOW: usize = 32;
/// Digits within [`DIGIT_WINDOW`] around the caret from which one more
/// digit is tried: the shortest card numbers still issued have 14 digits
/// (Diners), and 15 of a 16-digit number fix the 16th.
const MIN_DIGITS_BEFORE: usize = 13;

/// The byte ranges `edit` may replace and the text it inserts at selection
/// `(a, b)`, the likeliest first; empty when it changes nothing. Word and
/// line deletions have several candidates: browsers differ on whether the
/// spaces around a word go with it.
fn edit_ranges<'e>(
    text: &str,
    edit: Edit<'e>,
    (a, b): (usize, usize),
) -> Vec<(std::ops::Range<usize>, &'e str)> {
    let spans: Vec<(std::ops::Range<usize>, &'e str)> = match edit {
        Edit::Insert(s) => vec![(a..b, s)],
        _ if a != b => vec![(a..b, "")],
        Edit::Cut => Vec::new(),
        Edit::Backspace => vec![(prev_char(text, a)..a, "")],
        Edit::Delete => vec![(a..next_char(text, a), "")],
        Edit::WordBack => {
            let word = word_start(text, skip_back(text, a, |c| !is_word(c)));
            let bare = skip_back(text, word, char::is_whitespace);
            vec![(word..a, ""), (bare..a, "")]
        }
        Edit::WordForward => {
            let word = word_end(text, skip_forward(text, a, |c| !is_word(c)));
            let bare = skip_forward(text, word, char::is_whitespace);
            vec![(a..word, ""), (a..bare, "")]
        }
        Edit::LineBack => {
            let line = text[..a].rfind('\n').map_or(0, |i| i + 1);
            vec![(line..a, "")]
        }
    };
    let mut out: Vec<_> = Vec::with_capacity(spans.len());
    for (range, insert) in spans {
        let changes = !(range.is_empty() && insert.is_empty());
        if changes && !out.iter().any(|(r, _)| *r == range) {
            out.push((range, insert));
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The offset before the run of `pred` characters ending at `at`.
fn skip_back(s: &str, at: usize, pred: impl Fn(char) -> bool) -> usize {
    s[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| !pred(*c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The offset after the run of `pred` characters starting at `at`.
fn skip_forward(s: &str, at: usize, pred: impl Fn(char) -> bool) -> usize {
    s[at..]
        .char_indices()
        .find(|(_, c)| !pred(*c))
        .map_or(s.len(), |(i, _)| at + i)
}

fn word_start(s: &str, at: usize) -> usize {
    skip_back(s, at, is_word)
}

fn word_end(s: &str, at: usize) -> usize {
    skip_forward(s, at, is_word)
}

/// Whether a match of `report` touches the edited span `[start, end]`:
/// the edit completed it (an insertion, or a deletion that joined its parts).
fn touches(report: &ScanReport, start: usize, end: usize) -> bool {
    report.is_match()
        && report
            .findings
            .iter()
            .any(|f| f.start <= end && f.end >= start)
}

fn prev_char(s: &str, at: usize) -> usize {
    s[..at].char_indices().next_back().map_or(0, |(i, _)| i)
}

fn next_char(s: &str, at: usize) -> usize {
    s[at..].chars().next().map_or(at, |c| at + c.len_utf8())
}

/// The byte offset of UTF-16 offset `u` in `s` (clamped to the end).
pub fn utf16_to_byte(s: &str, u: usize) -> usize {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        if units >= u {
            return i;
        }
        units += c.len_utf16();
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> FieldModel {
        let engine = enforcer::Engine::with_defaults();
        let sel = engine.selection(&["financial"]).unwrap();
        FieldModel::new(engine.field_scanner(&sel), 1)
    }

    fn type_all(m: &mut FieldModel, s: &str, t: Instant) -> Vec<bool> {
        s.chars()
            .map(|c| {
                let mut buf = [0u8; 4];
                !matches!(
                    m.try_edit(Edit::Insert(c.encode_utf8(&mut buf)), false, t),
                    Tried::Completes(_)
                )
            })
            .collect()
    }

    #[test]
    fn the_keystroke_completing_a_card_number_is_refused() {
        let mut m = model();
        let t = Instant::now();
        let delivered = type_all(&mut m, "card 4111 1111 1111 1111", t);
        // Every key but the last two is delivered: the 15th digit would let
        // anyone compute the 16th (Luhn), the 16th would complete the number.
        let n = delivered.len();
        assert!(delivered[..n - 2].iter().all(|d| *d));
        assert!(!delivered[n - 2] && !delivered[n - 1]);
        assert_eq!(m.text(), "card 4111 1111 1111 11");
        // Typing on is refused again; deleting works; other text flows.
        assert!(!type_all(&mut m, "1", t)[0]);
        assert!(matches!(
            m.try_edit(Edit::Backspace, false, t),
            Tried::Clean
        ));
        assert_eq!(m.text(), "card 4111 1111 1111 1");
        assert!(type_all(&mut m, "x", t)[0]);
    }

    #[test]
    fn reports_resynchronise_when_typing_pauses() {
        let mut m = model();
        let t0 = Instant::now();
        type_all(&mut m, "abc", t0);
        // A report while keys are in flight waits...
        let r = FieldReport {
            field: 1,
            value: "4111 1111 1111 111 and more".into(),
            start_utf16: 18,
            end_utf16: 18,
            multiline: false,
            before: String::new(),
            after: String::new(),
            caret_unknown: false,
            keys_seen: None,
        };
        m.report(r, t0);
        assert_eq!(m.text(), "abc");
        // ...and applies once typing has paused.
        let later = t0 + Duration::from_millis(500);
        assert!(matches!(
            m.try_edit(Edit::Insert("1"), false, later),
            Tried::Completes(_)
        ));
        assert_eq!(m.text(), "4111 1111 1111 111 and more");
        assert_eq!(m.selection(), (18, 18));
    }

    #[test]
    fn utf16_offsets_map_to_bytes() {
        assert_eq!(utf16_to_byte("a😀b", 0), 0);
        assert_eq!(utf16_to_byte("a😀b", 1), 1);
        assert_eq!(utf16_to_byte("a😀b", 3), 5);
        assert_eq!(utf16_to_byte("a😀b", 9), 6);
        assert_eq!(utf16_to_byte("éa", 1), 2);
    }

    #[test]
    fn audit_rules_let_the_keystroke_through_and_say_so() {
        let mut m = model();
        let t = Instant::now();
        for c in "4111 1111 1111 111".chars() {
            let mut b = [0u8; 4];
            m.try_edit(Edit::Insert(c.encode_utf8(&mut b)), true, t);
        }
        assert!(matches!(
            m.try_edit(Edit::Insert("1"), true, t),
            Tried::Applied(_)
        ));
        assert_eq!(m.text(), "4111 1111 1111 1111");
    }
}
