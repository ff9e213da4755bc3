//! Rich Text Format: the text a word processor shows, and the document
//! information (title, author, subject, keywords, comments).
//!
//! RTF starts with `{`, ends with `}` and was typed as JSON (then its
//! control words and the generator's version, `{\*\generator
//! LibreOffice/7.4.7.2...}`, reached the detectors as text). This reader
//! walks the groups with an explicit stack (no recursion on input
//! structure), drops control words, skips destinations that hold no text
//! people wrote (font, colour and style tables, pictures, embedded object
//! data, `\*` destinations such as the generator), decodes `\'hh` in the
//! document's ANSI code page and `\uN` as Unicode (skipping its `\ucN`
//! fallback characters), and turns paragraph, line, cell and tab marks into
//! line breaks and spaces.

use encoding_rs::{Encoding, WINDOWS_1252};

/// Destinations whose content is not text people wrote.
const SKIPPED: [&str; 17] = [
    "fonttbl",
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "pict",
    "objdata",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "xmlnstbl",
    "generator",
    "fldinst",
    "bkmkstart",
    "bkmkend",
];

/// Document information fields, each ended by a line break.
const INFO_FIELDS: [&str; 10] = [
    "title", "subject", "author", "manager", "company", "operator", "category", "keywords",
    "comment", "doccomm",
];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    /// An information field (`{\title ...}`): a line break at its end.
    field: bool,
    /// Fallback characters after `\uN` (`\ucN`, default 1).
    uc: u32,
}

/// The visible text of an RTF document.
pub(crate) fn text(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::new();
    let mut stack: Vec<Group> = Vec::new();
    let mut group = Group {
        skip: false,
        field: false,
        uc: 1,
    };
    let mut encoding: &'static Encoding = WINDOWS_1252;
    // Fallback characters still to drop after a `\uN`.
    let mut pending_skip = 0u32;
    // Bytes of `\'hh` escapes in a row, decoded together (double-byte code
    // pages split characters across escapes).
    let mut hex: Vec<u8> = Vec::new();
    let mut i = 0;
    // A group's first control word decides whether it is a skipped
    // destination.
    let mut group_start = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c != b'\\' || bytes.get(i + 1) != Some(&b'\'') {
            flush_hex(&mut hex, encoding, group.skip, &mut out);
        }
        match c {
            b'{' => {
                // A fallback ends with its group.
                pending_skip = 0;
                stack.push(group);
                group.field = false;
                group_start = true;
                i += 1;
            }
            b'}' => {
                pending_skip = 0;
                if group.field && !group.skip {
                    out.push('\n');
                }
                group = stack.pop().unwrap_or(Group {
                    skip: false,
                    field: false,
                    uc: 1,
                });
                group_start = false;
                i += 1;
            }
            b'\\' => {
                let (word, param, next) = control(bytes, i + 1);
                i = next;
                let first = std::mem::replace(&mut group_start, false);
                match word {
                    Control::Star => group.skip = true,
                    Control::Hex(byte) => {
                        if pending_skip > 0 {
                            pending_skip -= 1;
                        } else {
                            hex.push(byte);
                        }
                    }
                    Control::Symbol(ch) => {
                        if pending_skip > 0 {
                            pending_skip -= 1;
                        } else if !group.skip {
                            out.push(ch);
                        }
                    }
                    // A control word counts as one fallback character.
                    Control::Word(name) if pending_skip > 0 && name != "u" => pending_skip -= 1,
                    Control::Word(name) => {
                        if first && SKIPPED.contains(&name) {
                            group.skip = true;
                        }
                        if first && INFO_FIELDS.contains(&name) {
                            group.field = true;
                        }
                        match name {
                            "par" | "line" | "sect" | "page" | "row" if !group.skip => {
                                out.push('\n');
                            }
                            "tab" | "cell" if !group.skip => out.push('\t'),
                            // `\binN`: N bytes of binary data, not text.
                            "bin" => {
                                let skip = usize::try_from(param.unwrap_or(0)).unwrap_or(0);
                                let mut end = i.saturating_add(skip).min(bytes.len());
                                while !source.is_char_boundary(end) {
                                    end += 1;
                                }
                                i = end;
                            }
                            "uc" => group.uc = param.unwrap_or(1).clamp(0, 16) as u32,
                            "u" => {
                                let n = param.unwrap_or(0);
                                let code = if n < 0 { n + 65536 } else { n };
                                if !group.skip {
                                    if let Some(ch) =
                                        u32::try_from(code).ok().and_then(char::from_u32)
                                    {
                                        out.push(ch);
                                    }
                                }
                                pending_skip = group.uc;
                            }
                            "ansicpg" => {
                                let label = format!("windows-{}", param.unwrap_or(1252));
                                encoding = Encoding::for_label(label.as_bytes())
                                    .or_else(|| {
                                        let cp = format!("cp{}", param.unwrap_or(1252));
                                        Encoding::for_label(cp.as_bytes())
                                    })
                                    .unwrap_or(WINDOWS_1252);
                            }
                            _ => {}
                        }
                    }
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                // Plain text up to the next special character.
                let end = bytes[i..]
                    .iter()
                    .position(|b| matches!(b, b'{' | b'}' | b'\\' | b'\r' | b'\n'))
                    .map_or(bytes.len(), |p| i + p);
                let mut chunk = &source[i..end];
                while pending_skip > 0 && !chunk.is_empty() {
                    let mut chars = chunk.chars();
                    chars.next();
                    chunk = chars.as_str();
                    pending_skip -= 1;
                }
                if !group.skip {
                    out.push_str(chunk);
                }
                group_start = false;
                i = end;
            }
        }
    }
    flush_hex(&mut hex, encoding, group.skip, &mut out);
    out
}

fn flush_hex(hex: &mut Vec<u8>, encoding: &'static Encoding, skip: bool, out: &mut String) {
    if hex.is_empty() {
        return;
    }
    if !skip {
        let (decoded, _, _) = encoding.decode(hex);
        out.push_str(&decoded);
    }
    hex.clear();
}

enum Control<'a> {
    /// `\*`: the group is an optional destination.
    Star,
    /// `\'hh`.
    Hex(u8),
    /// A control symbol that stands for a character (`\\`, `\{`, `\~`...).
    Symbol(char),
    /// A control word (`\par`), possibly unknown.
    Word(&'a str),
}

/// Reads the control word or symbol after a backslash at `i`: the control,
/// its numeric parameter, and where the text after it starts.
fn control(bytes: &[u8], i: usize) -> (Control<'_>, Option<i64>, usize) {
    let Some(&c) = bytes.get(i) else {
        return (Control::Word(""), None, i);
    };
    if c.is_ascii_alphabetic() {
        let start = i;
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_alphabetic() && j - start < 32 {
            j += 1;
        }
        let name = std::str::from_utf8(&bytes[start..j]).unwrap_or("");
        let num_start = j;
        if bytes.get(j) == Some(&b'-') {
            j += 1;
        }
        while j < bytes.len() && bytes[j].is_ascii_digit() && j - num_start < 10 {
            j += 1;
        }
        let param = std::str::from_utf8(&bytes[num_start..j])
            .ok()
            .and_then(|s| s.parse().ok());
        if bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        return (Control::Word(name), param, j);
    }
    match c {
        b'*' => (Control::Star, None, i + 1),
        b'\'' => {
            let byte = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match byte {
                Some(b) => (Control::Hex(b), None, i + 3),
                None => (Control::Word(""), None, i + 1),
            }
        }
        b'~' => (Control::Symbol(' '), None, i + 1),
        b'_' => (Control::Symbol('-'), None, i + 1),
        b'\\' | b'{' | b'}' => (Control::Symbol(char::from(c)), None, i + 1),
        b'\n' | b'\r' => (Control::Symbol('\n'), None, i + 1),
        // A backslash before a non-ASCII character: the character is text.
        _ if !c.is_ascii() => (Control::Word(""), None, i),
        // `\-` (optional hyphen), `\:` and anything else: no text.
        _ => (Control::Word(""), None, i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn text_info_and_escapes_without_tables_or_generator() {
        let rtf = r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman Times 4111;}}
{\*\generator LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2}
{\info{\title Card 4111 1111 1111 1111}{\author Jane Roe}}
\pard\plain caf\'e9 SSN 078-05-1120\par \u8364\'80 IBAN GB82{\b  WEST} 1234\tab x\par}";
        let t = text(rtf);
        assert!(t.contains("Card 4111 1111 1111 1111"), "{t}");
        assert!(t.contains("Jane Roe"), "{t}");
        assert!(t.contains("café SSN 078-05-1120\n"), "{t}");
        assert!(t.contains("€ IBAN GB82 WEST 1234\tx"), "{t}");
        assert!(!t.contains("7.4.7.2"), "{t}");
        assert!(!t.contains("Times"), "{t}");
    }

    #[test]
    fn binary_data_is_skipped_and_text_after_it_read() {
        let rtf = "{\\rtf1 {\\object{\\objdata \\bin4 \u{0}\u{1}{}}} SSN 536-22-8452\\par}";
        let t = text(rtf);
        assert!(t.contains("SSN 536-22-8452"), "{t:?}");
        assert!(!t.contains('\u{1}'), "{t:?}");
    }
}
