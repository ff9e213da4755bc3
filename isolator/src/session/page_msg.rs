//! What the server's page scripts tell it, typed and parsed in one place.
//!
//! Two scripts report through CDP bindings: `page_script.js` (isolated
//! world, binding `__isolatorReport`) says which field has focus and what it
//! holds, the page's title, the mouse cursor and that the page may be
//! changing on its own; `page_copy.js` (main world,
//! binding `__isolatorCopy`) hands over what the page tried to put on the
//! clipboard. A binding's payload is whatever a page managed to send, so
//! every field is bounded here and anything malformed is dropped (the
//! caller logs it at debug level): a page learns nothing from a refusal.
//! The page-content gate's own binding is parsed by [`crate::gates::page`].

use serde::Deserialize;

use crate::gates::copy::CopyHow;
use crate::gates::keyboard::field::FieldReport;

/// Longest title kept, in characters.
const MAX_TITLE: usize = 512;
/// Longest text of the fields before (and after) a field kept, in characters.
const MAX_BEFORE: usize = 256;
/// Longest cursor name accepted (`ew-resize`...).
const MAX_CURSOR: usize = 32;

/// A report of `page_script.js`.
#[derive(Debug, PartialEq)]
pub enum PageMsg {
    /// The focused text field (field 0: none) and its value and selection.
    Field(FieldReport),
    /// The document's title.
    Title(String),
    /// The CSS cursor over the pointer (a safe name, else `default`).
    Cursor(String),
    /// The page changed, or started something that changes what it shows
    /// (DOM, animation, media, scrolling, canvas drawing): wakes a resting
    /// screencast.
    Changed,
}

/// The wire form: `{k: "field"|"title"|"cursor"|"changed", ...}` with short keys.
#[derive(Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum Wire {
    Field {
        #[serde(default)]
        f: u64,
        #[serde(default)]
        v: String,
        #[serde(default)]
        s: usize,
        #[serde(default)]
        e: usize,
        #[serde(default)]
        m: bool,
        #[serde(default)]
        p: String,
        #[serde(default)]
        a: String,
        #[serde(default)]
        u: bool,
        #[serde(default)]
        n: Option<u64>,
        #[serde(default)]
        d: u64,
    },
    Title {
        #[serde(default)]
        title: String,
    },
    Cursor {
        #[serde(default)]
        cursor: String,
    },
    Changed {},
}

impl PageMsg {
    /// Parses a binding payload; `Err` says what was wrong with it.
    pub fn parse(payload: &str) -> Result<PageMsg, String> {
        let wire: Wire = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        Ok(match wire {
            Wire::Field {
                f,
                v,
                s,
                e,
                m,
                p,
                a,
                u,
                n,
                d,
            } => PageMsg::Field(FieldReport {
                field: f,
                value: v,
                start_utf16: s,
                end_utf16: e,
                multiline: m,
                before: p.chars().take(MAX_BEFORE).collect(),
                after: a.chars().take(MAX_BEFORE).collect(),
                caret_unknown: u,
                keys_seen: n.map(|n| (d, n)),
            }),
            Wire::Title { title } => PageMsg::Title(title.chars().take(MAX_TITLE).collect()),
            Wire::Cursor { cursor } => {
                let safe = cursor.len() <= MAX_CURSOR
                    && !cursor.is_empty()
                    && cursor.chars().all(|c| c.is_ascii_lowercase() || c == '-');
                PageMsg::Cursor(if safe { cursor } else { "default".into() })
            }
            Wire::Changed {} => PageMsg::Changed,
        })
    }
}

/// A report of `page_copy.js`: `{text, how}`.
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct CopyMsg {
    /// What the page copied.
    #[serde(default)]
    pub text: String,
    /// How.
    #[serde(default = "default_how", deserialize_with = "lenient_how")]
    pub how: CopyHow,
}

fn default_how() -> CopyHow {
    CopyHow::Copy
}

/// An unknown `how` is a copy: the text is gated all the same.
fn lenient_how<'de, D: serde::Deserializer<'de>>(d: D) -> Result<CopyHow, D::Error> {
    let s = String::deserialize(d)?;
    Ok(match s.as_str() {
        "cut" => CopyHow::Cut,
        "api" => CopyHow::Api,
        _ => CopyHow::Copy,
    })
}

impl CopyMsg {
    /// Parses a binding payload; `Err` says what was wrong with it.
    pub fn parse(payload: &str) -> Result<CopyMsg, String> {
        serde_json::from_str(payload).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_reports_read_their_short_keys() {
        let m = PageMsg::parse(r#"{"k":"field","f":3,"v":"4111","s":4,"e":4,"m":true}"#).unwrap();
        assert_eq!(
            m,
            PageMsg::Field(FieldReport {
                field: 3,
                value: "4111".into(),
                start_utf16: 4,
                end_utf16: 4,
                multiline: true,
                before: String::new(),
                after: String::new(),
                caret_unknown: false,
                keys_seen: None,
            })
        );
        // Blur: no field.
        let m = PageMsg::parse(r#"{"k":"field","f":0}"#).unwrap();
        assert!(matches!(m, PageMsg::Field(FieldReport { field: 0, .. })));
    }

    #[test]
    fn titles_are_bounded_and_cursors_sanitised() {
        let long = "x".repeat(2000);
        let m = PageMsg::parse(&format!(r#"{{"k":"title","title":"{long}"}}"#)).unwrap();
        assert_eq!(m, PageMsg::Title("x".repeat(MAX_TITLE)));
        for (sent, kept) in [
            ("pointer", "pointer"),
            ("ew-resize", "ew-resize"),
            ("url(http://evil/x.png), auto", "default"),
            ("POINTER", "default"),
            ("", "default"),
        ] {
            let m = PageMsg::parse(&format!(r#"{{"k":"cursor","cursor":"{sent}"}}"#)).unwrap();
            assert_eq!(m, PageMsg::Cursor(kept.into()), "{sent}");
        }
        assert_eq!(
            PageMsg::parse(r#"{"k":"changed"}"#).unwrap(),
            PageMsg::Changed
        );
    }

    #[test]
    fn malformed_reports_are_errors_not_panics() {
        for bad in [
            "",
            "null",
            "[]",
            r#"{"k":"nope"}"#,
            r#"{"k":"field","f":-1}"#,
            r#"{"k":"field","s":"x"}"#,
            r#"{"title":"no kind"}"#,
        ] {
            assert!(PageMsg::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn copies_know_how_they_were_made() {
        let c = CopyMsg::parse(r#"{"text":"hi","how":"cut"}"#).unwrap();
        assert_eq!((c.text.as_str(), c.how), ("hi", CopyHow::Cut));
        let c = CopyMsg::parse(r#"{"text":"hi","how":"something else"}"#).unwrap();
        assert_eq!(c.how, CopyHow::Copy);
        let c = CopyMsg::parse(r#"{"text":"hi"}"#).unwrap();
        assert_eq!(c.how, CopyHow::Copy);
        assert!(CopyMsg::parse(r#"{"text":5}"#).is_err());
    }
}
