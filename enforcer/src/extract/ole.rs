//! OLE2 compound files (the `cfb` crate): Outlook `.msg`, and legacy Word,
//! Excel and PowerPoint files.
//!
//! A compound file is a little file system of streams. Every stream is
//! charged as a member and read within the budget, then:
//! - Outlook `.msg`: each property stream (`__substg1.0_TTTTYYYY`) of a
//!   string type is decoded (`001F` UTF-16LE, `001E` 8-bit) and joined into
//!   `msg!/properties` (subject, body, sender and recipients, names...);
//!   attachment data (`__attach_version1.0_#N/__substg1.0_37010102`) is
//!   extracted as a file of its own, named by its attachment file name;
//! - PowerPoint 97-2003: the `PowerPoint Document` stream is walked record by
//!   record and only text atoms are read (`TextCharsAtom`, `TextBytesAtom`,
//!   `CString`): reading its bytes as strings turned record data into
//!   digit runs that looked like phone numbers;
//! - the summary information streams (title, subject, author, keywords,
//!   comments...) of any compound file are parsed as property sets and their
//!   string properties read;
//! - Word 97-2003: the `WordDocument` stream's text is read through the
//!   piece table (8-bit and UTF-16 pieces in order), so a word cut by a
//!   curly quote is whole (`It’s`);
//! - any other stream (Excel's binary records, embedded objects) is read
//!   for its printable strings, ASCII and UTF-16LE.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_16LE, WINDOWS_1252};

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::strings;

/// PowerPoint record types holding text.
const TEXT_CHARS_ATOM: u16 = 0x0FA0;
const TEXT_BYTES_ATOM: u16 = 0x0FA8;
const CSTRING: u16 = 0x0FBA;

/// PowerPoint streams that hold pictures, fonts and user state, not text.
const PPT_SKIPPED: [&str; 2] = ["Pictures", "Current User"];

/// Extracts the streams of a compound file; attachments are at `depth`.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| Error::corrupt("OLE2 compound file", format!("{path}: {e}")))?;
    let streams: Vec<(PathBuf, u64)> = file
        .walk()
        .filter(|e| e.is_stream())
        .map(|e| (e.path().to_path_buf(), e.len()))
        .collect();
    ctx.budget.charge_members(streams.len() as u64)?;
    let is_msg = file.is_stream("/__properties_version1.0");
    let is_doc = file.is_stream("/WordDocument");
    let codepage = if is_msg {
        msg_codepage(&mut file)
    } else {
        WINDOWS_1252
    };
    let is_ppt = file.is_stream("/PowerPoint Document");
    let mut properties = String::new();
    for (stream, len) in streams {
        ctx.budget.check_time()?;
        let name = stream
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let allowed = ctx.budget.expandable();
        if len > allowed {
            return Err(ctx
                .budget
                .expansion_error(&format!("stream {name} ({len} bytes)")));
        }
        let mut data = Vec::with_capacity(len.min(16 << 20) as usize);
        file.open_stream(&stream)
            .and_then(|s| s.take(allowed.saturating_add(1)).read_to_end(&mut data))
            .map_err(|e| Error::read("OLE2 compound file", &format!("stream {name}"), e))?;
        ctx.budget.charge_expanded(data.len() as u64)?;
        let stream_path = join(
            path,
            &stream
                .to_string_lossy()
                .trim_start_matches('/')
                .replace('\u{5}', ""),
        );
        if name.ends_with("SummaryInformation") {
            ctx.push(stream_path, property_set_strings(&data), Vec::new())?;
        } else if is_msg {
            if let Some(text) = msg_string(&name, &data, codepage) {
                properties.push_str(&text);
                properties.push('\n');
            } else if name == "__substg1.0_37010102" {
                let member = join(path, &attachment_name(&mut file, &stream));
                ctx.member(&member, &data, depth)?;
            }
        } else if is_doc && name == "WordDocument" {
            let text = match word_text(&mut file, &data) {
                Some(text) => text,
                None => strings::printable(&data, ctx.budget.expandable()),
            };
            ctx.push(stream_path, text, Vec::new())?;
        } else if is_doc && (name == "0Table" || name == "1Table") {
            // The piece table and formatting: read through WordDocument.
        } else if is_ppt {
            if name == "PowerPoint Document" {
                ctx.push(stream_path, ppt_text(&data), Vec::new())?;
            } else if !PPT_SKIPPED.contains(&name.as_str()) {
                let text = strings::printable(&data, ctx.budget.expandable());
                ctx.push(stream_path, text, Vec::new())?;
            }
        } else {
            let text = strings::printable(&data, ctx.budget.expandable());
            ctx.push(stream_path, text, Vec::new())?;
        }
    }
    ctx.push(join(path, "properties"), properties, Vec::new())
}

/// A `.msg` property stream of a string type, decoded (8-bit strings in
/// the message's code page).
fn msg_string(name: &str, data: &[u8], codepage: &'static Encoding) -> Option<String> {
    let tag = name.strip_prefix("__substg1.0_")?;
    let text = match tag.get(4..8)? {
        "001F" => UTF_16LE.decode(data).0,
        "001E" => codepage.decode(data).0,
        _ => return None,
    };
    Some(text.trim_end_matches('\0').to_string())
}

/// The code page of a message's 8-bit strings: `PR_MESSAGE_CODEPAGE`
/// (0x3FFD) or `PR_INTERNET_CPID` (0x3FDE) among the fixed-size properties
/// of the top-level property stream (a 32-byte header, then 16-byte
/// entries: tag, flags, value); Windows-1252 when neither is there.
fn msg_codepage(file: &mut cfb::CompoundFile<Cursor<&[u8]>>) -> &'static Encoding {
    let mut data = Vec::new();
    let read = file
        .open_stream("/__properties_version1.0")
        .and_then(|s| s.take(64 << 10).read_to_end(&mut data));
    if read.is_err() {
        return WINDOWS_1252;
    }
    let mut found = None;
    for entry in data.get(32..).unwrap_or_default().chunks_exact(16) {
        let tag = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
        let value = u32::from_le_bytes([entry[8], entry[9], entry[10], entry[11]]);
        match tag {
            0x3FFD_0003 => found = Some(value),
            0x3FDE_0003 if found.is_none() => found = Some(value),
            _ => {}
        }
    }
    found.and_then(codepage_encoding).unwrap_or(WINDOWS_1252)
}

/// The encoding of a Windows code page number.
fn codepage_encoding(codepage: u32) -> Option<&'static Encoding> {
    let label = match codepage {
        932 => "shift_jis".to_string(),
        936 => "gbk".to_string(),
        949 => "euc-kr".to_string(),
        950 => "big5".to_string(),
        20866 => "koi8-r".to_string(),
        21866 => "koi8-u".to_string(),
        28591..=28606 => format!("iso-8859-{}", codepage - 28590),
        65001 => "utf-8".to_string(),
        other => format!("windows-{other}"),
    };
    Encoding::for_label(label.as_bytes())
}

/// The file name of the attachment whose data stream is `data_stream`: its
/// long name (`3707`), short name (`3704`) or display name (`3001`).
fn attachment_name(file: &mut cfb::CompoundFile<Cursor<&[u8]>>, data_stream: &Path) -> String {
    let storage = data_stream.parent().unwrap_or(Path::new("/"));
    for tag in ["3707001F", "3704001F", "3001001F"] {
        let candidate = storage.join(format!("__substg1.0_{tag}"));
        let mut data = Vec::new();
        let read = file
            .open_stream(&candidate)
            .and_then(|s| s.take(1024).read_to_end(&mut data));
        if read.is_ok() {
            let name = UTF_16LE.decode(&data).0.trim_end_matches('\0').to_string();
            let name: String = name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or("")
                .chars()
                .map(|c| if c.is_control() || c == '!' { '_' } else { c })
                .collect();
            if !name.trim().is_empty() {
                return name;
            }
        }
    }
    storage
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".into())
}

/// The text of a Word 97-2003 document: the pieces its piece table lists
/// (in the `0Table` or `1Table` stream, as the FIB says), each 8-bit
/// (Windows-1252) or UTF-16LE, in character order; paragraph and cell marks
/// become line breaks and tabs. `None` when the tables do not parse (the
/// caller falls back to printable strings).
fn word_text(file: &mut cfb::CompoundFile<Cursor<&[u8]>>, doc: &[u8]) -> Option<String> {
    let u16_at = |b: &[u8], at: usize| b.get(at..at + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32_at = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    if u16_at(doc, 0)? != 0xA5EC {
        return None;
    }
    let table_name = if u16_at(doc, 0x0A)? & 0x0200 != 0 {
        "/1Table"
    } else {
        "/0Table"
    };
    let (fc_clx, lcb_clx) = (u32_at(doc, 0x01A2)? as usize, u32_at(doc, 0x01A6)? as usize);
    let mut table = Vec::new();
    file.open_stream(table_name)
        .and_then(|s| s.take(64 << 20).read_to_end(&mut table))
        .ok()?;
    let clx = table.get(fc_clx..fc_clx.checked_add(lcb_clx)?)?;
    // Skip the Prc entries (0x01, size, grpprl) to the Pcdt (0x02).
    let mut pos = 0;
    while *clx.get(pos)? == 0x01 {
        pos += 3 + usize::from(u16_at(clx, pos + 1)?);
    }
    if *clx.get(pos)? != 0x02 {
        return None;
    }
    let lcb = u32_at(clx, pos + 1)? as usize;
    let plc = clx.get(pos + 5..(pos + 5).checked_add(lcb)?)?;
    // (n + 1) character positions, then n piece descriptors of 8 bytes.
    if plc.len() < 4 || (plc.len() - 4) % 12 != 0 {
        return None;
    }
    let pieces = (plc.len() - 4) / 12;
    let mut out = String::new();
    for i in 0..pieces {
        let (start, end) = (u32_at(plc, i * 4)?, u32_at(plc, i * 4 + 4)?);
        let chars = end.checked_sub(start)? as usize;
        let fc = u32_at(plc, (pieces + 1) * 4 + i * 8 + 2)?;
        let text = if fc & 0x4000_0000 != 0 {
            let at = ((fc & !0x4000_0000) / 2) as usize;
            WINDOWS_1252
                .decode(doc.get(at..at.checked_add(chars)?)?)
                .0
                .into_owned()
        } else {
            let at = fc as usize;
            UTF_16LE
                .decode(doc.get(at..at.checked_add(chars * 2)?)?)
                .0
                .into_owned()
        };
        out.extend(text.chars().map(|c| match c {
            '\r' | '\u{b}' | '\u{c}' => '\n',
            '\u{7}' => '\t',
            c if c.is_control() && c != '\n' && c != '\t' => ' ',
            c => c,
        }));
    }
    Some(out)
}

/// The text atoms of a PowerPoint document stream, one per line. Records
/// are a flat walk: a container's children follow its header, so the walk
/// steps into containers and over atoms, never recursing.
fn ppt_text(data: &[u8]) -> String {
    let mut out = String::new();
    let mut pos = 0usize;
    while pos + 8 <= data.len() {
        let ver_inst = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let kind = u16::from_le_bytes([data[pos + 2], data[pos + 3]]);
        let len = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]);
        let body = pos + 8;
        if ver_inst & 0x000F == 0x000F {
            pos = body;
            continue;
        }
        let end = body.saturating_add(len as usize).min(data.len());
        let bytes = &data[body..end];
        let text = match kind {
            TEXT_CHARS_ATOM | CSTRING => Some(UTF_16LE.decode(bytes).0.into_owned()),
            TEXT_BYTES_ATOM => Some(WINDOWS_1252.decode(bytes).0.into_owned()),
            _ => None,
        };
        if let Some(text) = text {
            out.push_str(&text.replace(['\r', '\u{b}'], "\n"));
            out.push('\n');
        }
        pos = end.max(body);
    }
    out
}

/// String properties (`VT_LPSTR`, `VT_LPWSTR`) of every section of an OLE
/// property set stream (`\u{5}SummaryInformation` and its document
/// counterpart), one per line.
fn property_set_strings(data: &[u8]) -> String {
    let u32_at = |at: usize| -> Option<u32> {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut out = String::new();
    let sections = u32_at(24).unwrap_or(0).min(4) as usize;
    for s in 0..sections {
        let Some(offset) = u32_at(28 + s * 20 + 16).map(|o| o as usize) else {
            break;
        };
        let count = u32_at(offset + 4).unwrap_or(0).min(1024) as usize;
        for p in 0..count {
            let Some(prop_offset) = u32_at(offset + 8 + p * 8 + 4) else {
                break;
            };
            let at = offset.saturating_add(prop_offset as usize);
            let (Some(kind), Some(len)) = (u32_at(at), u32_at(at + 4)) else {
                continue;
            };
            let len = len as usize;
            let text = match kind {
                0x1E => data
                    .get(at + 8..(at + 8).saturating_add(len))
                    .map(|b| WINDOWS_1252.decode(b).0.into_owned()),
                0x1F => data
                    .get(at + 8..(at + 8).saturating_add(len.saturating_mul(2)))
                    .map(|b| UTF_16LE.decode(b).0.into_owned()),
                _ => None,
            };
            if let Some(text) = text {
                let text = text.trim_end_matches('\0');
                if !text.trim().is_empty() {
                    out.push_str(text);
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use crate::extract::{extract, Extraction, FileKind, Limits};

    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    /// A compound file holding `streams` (`/a/b` paths; storages made).
    fn compound(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).expect("cfb");
        for (path, data) in streams {
            let parent = std::path::Path::new(path).parent().expect("parent");
            if parent != std::path::Path::new("/") {
                file.create_storage_all(parent).expect("storage");
            }
            file.create_stream(path)
                .expect("stream")
                .write_all(data)
                .expect("write");
        }
        file.flush().expect("flush");
        file.into_inner().into_inner()
    }

    fn parts(name: &str, bytes: &[u8]) -> Vec<(String, String)> {
        match extract(name, bytes, &Limits::default()) {
            Extraction::Text { kind, parts, .. } => {
                assert_eq!(kind, FileKind::Ole);
                parts.into_iter().map(|p| (p.path, p.text)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn outlook_msg_properties_and_attachments() {
        let msg = compound(&[
            ("/__properties_version1.0", vec![0; 32]),
            ("/__substg1.0_0037001F", utf16("Card 4111 1111 1111 1111")),
            ("/__substg1.0_1000001E", b"SSN 536-22-8452".to_vec()),
            (
                "/__substg1.0_10090102",
                vec![0x4c, 0x5a, 0x46, 0x75, 7, 7, 7, 7],
            ),
            (
                "/__attach_version1.0_#00000000/__substg1.0_3707001F",
                utf16("iban.txt"),
            ),
            (
                "/__attach_version1.0_#00000000/__substg1.0_37010102",
                b"IBAN GB82 WEST 1234 5698 7654 32".to_vec(),
            ),
        ]);
        let parts = parts("mail.msg", &msg);
        let find = |path: &str| {
            parts
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, t)| t.as_str())
                .unwrap_or_else(|| panic!("no {path} in {parts:?}"))
        };
        let props = find("mail.msg!/properties");
        assert!(props.contains("Card 4111 1111 1111 1111"), "{props}");
        assert!(props.contains("SSN 536-22-8452"), "{props}");
        assert!(find("mail.msg!/iban.txt").contains("GB82 WEST"));
    }

    #[test]
    fn powerpoint_reads_text_atoms_not_record_bytes() {
        let atom = |kind: u16, body: &[u8]| {
            let mut r = vec![0, 0];
            r.extend(kind.to_le_bytes());
            r.extend((body.len() as u32).to_le_bytes());
            r.extend(body);
            r
        };
        let mut children = atom(0x0FA0, &utf16("Card 4111 1111 1111 1111"));
        children.extend(atom(0x0FA8, b"SSN 536-22-8452"));
        // A record whose bytes look like a phone number to `strings`.
        children.extend(atom(0x0FF5, b"(555) 123-4567 0000"));
        let mut document = vec![0x0F, 0x00, 0xE8, 0x03];
        document.extend((children.len() as u32).to_le_bytes());
        document.extend(children);
        let ppt = compound(&[
            ("/PowerPoint Document", document),
            ("/Current User", vec![0; 8]),
        ]);
        let parts = parts("deck.ppt", &ppt);
        let all: String = parts.iter().map(|(_, t)| t.as_str()).collect();
        assert!(all.contains("Card 4111 1111 1111 1111"), "{all}");
        assert!(all.contains("SSN 536-22-8452"), "{all}");
        assert!(!all.contains("555"), "{all}");
    }
}
