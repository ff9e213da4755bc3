//! Excel (xlsx): every sheet in workbook order, one part per sheet named by
//! the sheet (`book.xlsx!/Sheet1`), cells tab-separated and rows on lines.
//!
//! Numbers are written as shown where that matters: fixed decimals, thousands
//! separators, percentages, dates (ISO `yyyy-mm-dd`, locale-free) and literal
//! prefixes such as currency signs. One deliberate difference from Excel's
//! screen: "General" integers are written in full rather than as `4.11E+15`,
//! because a card or account number must reach the engine whole.
//!
//! Sensitivity labels: the package's MIP labels (`office_labels`) and the
//! classification markings of each sheet's headers and footers (`&L`,
//! `&C`, `&R` sections read as lines, formatting codes dropped).

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::office_labels;
use super::ooxml::embedded;
use super::zipread;

/// Extracts a workbook; embedded members are at nesting `depth`.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let mut archive = zipread::open(bytes, &mut ctx.budget)?;
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    office_labels::read(ctx, path, &mut archive, &names)?;
    let mut read = |name: &str, ctx: &mut Ctx<'_>| -> Result<Option<Vec<u8>>> {
        zipread::read_named(&mut archive, name, &mut ctx.budget)
            .map_err(|e| e.in_member(&join(path, name)))
    };
    let workbook = read("xl/workbook.xml", ctx)?.unwrap_or_default();
    let rels = read("xl/_rels/workbook.xml.rels", ctx)?.unwrap_or_default();
    let shared = match read("xl/sharedStrings.xml", ctx)? {
        Some(data) => shared_strings(&data)?,
        None => Vec::new(),
    };
    let styles = match read("xl/styles.xml", ctx)? {
        Some(data) => Styles::parse(&data)?,
        None => Styles::default(),
    };
    let targets = relationships(&rels)?;
    for (sheet_name, rel_id) in sheets(&workbook)? {
        let Some(target) = targets.get(&rel_id) else {
            continue;
        };
        let entry = match target.strip_prefix('/') {
            Some(absolute) => absolute.to_string(),
            None => format!("xl/{target}"),
        };
        let part_path = join(path, &sheet_name);
        let Some(data) = read(&entry, ctx)? else {
            return Err(Error::corrupt(
                "xlsx",
                format!("sheet {sheet_name}: missing part {entry}"),
            ));
        };
        let (text, header_footer) =
            sheet_text(&data, &shared, &styles).map_err(|e| e.in_member(&part_path))?;
        ctx.header_footer(path, &header_footer_text(&header_footer));
        ctx.push(part_path, text, Vec::new())?;
    }
    // Cell comments and notes: legacy (`xl/comments1.xml`) and threaded.
    for name in names.iter().filter(|n| is_comments(n)) {
        let Some(data) = read(name, ctx)? else {
            continue;
        };
        let part_path = join(path, name);
        let text = super::xml::generic_text(&data).map_err(|e| e.in_member(&part_path))?;
        ctx.push(part_path, text, Vec::new())?;
    }
    embedded(
        ctx,
        path,
        &mut archive,
        &names,
        &["xl/media/", "xl/embeddings/"],
        depth,
    )
}

/// Whether a package part holds cell comments or notes.
fn is_comments(name: &str) -> bool {
    name.ends_with(".xml")
        && (name.starts_with("xl/comments") || name.starts_with("xl/threadedComments/"))
}

fn reader(bytes: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    reader
}

fn attr(e: &quick_xml::events::BytesStart<'_>, local: &[u8]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local).then(|| {
            a.unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned())
        })
    })
}

fn xml_error(e: quick_xml::Error) -> Error {
    Error::corrupt("xlsx", e)
}

/// `(sheet name, relationship id)` in workbook order.
fn sheets(workbook: &[u8]) -> Result<Vec<(String, String)>> {
    let mut reader = reader(workbook);
    let mut out = Vec::new();
    loop {
        match reader.read_event().map_err(xml_error)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sheet" => {
                if let (Some(name), Some(id)) = (attr(&e, b"name"), attr(&e, b"id")) {
                    out.push((name, id));
                }
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

fn relationships(rels: &[u8]) -> Result<HashMap<String, String>> {
    let mut reader = reader(rels);
    let mut out = HashMap::new();
    loop {
        match reader.read_event().map_err(xml_error)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Relationship" => {
                if let (Some(id), Some(target)) = (attr(&e, b"Id"), attr(&e, b"Target")) {
                    out.insert(id, target);
                }
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

fn shared_strings(data: &[u8]) -> Result<Vec<String>> {
    let mut reader = reader(data);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event().map_err(xml_error)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"si" => current.clear(),
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => out.push(String::new()),
            Event::Text(t) if in_text => {
                current.push_str(&t.decode().map_err(|e| Error::corrupt("xlsx", e))?);
            }
            Event::GeneralRef(r) if in_text => {
                let name = r.decode().map_err(|e| Error::corrupt("xlsx", e))?;
                let entity = format!("&{name};");
                current.push_str(&quick_xml::escape::unescape(&entity).unwrap_or_default());
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"si" => out.push(std::mem::take(&mut current)),
                _ => {}
            },
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// Number formats of cell styles.
#[derive(Default)]
struct Styles {
    /// numFmtId of each cellXfs entry (the `s` attribute of a cell).
    xf_formats: Vec<u32>,
    /// Custom format codes by id.
    custom: HashMap<u32, String>,
}

impl Styles {
    fn parse(data: &[u8]) -> Result<Styles> {
        let mut reader = reader(data);
        let mut styles = Styles::default();
        let mut in_cell_xfs = false;
        loop {
            match reader.read_event().map_err(xml_error)? {
                Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                    b"numFmt" => {
                        if let (Some(id), Some(code)) =
                            (attr(&e, b"numFmtId"), attr(&e, b"formatCode"))
                        {
                            if let Ok(id) = id.parse() {
                                styles.custom.insert(id, code);
                            }
                        }
                    }
                    b"cellXfs" => in_cell_xfs = true,
                    b"xf" if in_cell_xfs => {
                        let id = attr(&e, b"numFmtId")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        styles.xf_formats.push(id);
                    }
                    _ => {}
                },
                Event::End(e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = false,
                Event::Eof => return Ok(styles),
                _ => {}
            }
        }
    }

    fn format_of(&self, style: Option<usize>) -> NumberFormat<'_> {
        let id = style
            .and_then(|s| self.xf_formats.get(s))
            .copied()
            .unwrap_or(0);
        if let Some(code) = self.custom.get(&id) {
            return NumberFormat::Code(code);
        }
        NumberFormat::Builtin(id)
    }
}

enum NumberFormat<'a> {
    Builtin(u32),
    Code(&'a str),
}

/// Whether an element of a sheet's `headerFooter` holds a header or footer.
fn is_header_footer(local: &[u8]) -> bool {
    matches!(
        local,
        b"oddHeader"
            | b"oddFooter"
            | b"evenHeader"
            | b"evenFooter"
            | b"firstHeader"
            | b"firstFooter"
    )
}

/// The text of one worksheet, and its headers and footers as written
/// (with Excel's `&` codes, one per line).
fn sheet_text(data: &[u8], shared: &[String], styles: &Styles) -> Result<(String, String)> {
    let mut reader = reader(data);
    let mut out = String::new();
    let mut header_footer = String::new();
    let mut in_header_footer = false;
    let mut cell_type = String::new();
    let mut cell_style: Option<usize> = None;
    let mut value = String::new();
    let mut in_value = false;
    let mut row_has_cells = false;
    loop {
        match reader.read_event().map_err(xml_error)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"c" => {
                    cell_type = attr(&e, b"t").unwrap_or_default();
                    cell_style = attr(&e, b"s").and_then(|s| s.parse().ok());
                    value.clear();
                }
                b"v" | b"t" => in_value = true,
                name if is_header_footer(name) => in_header_footer = true,
                _ => {}
            },
            Event::Text(t) if in_header_footer => {
                header_footer.push_str(&t.decode().map_err(|e| Error::corrupt("xlsx", e))?);
            }
            Event::GeneralRef(r) if in_header_footer => {
                let name = r.decode().map_err(|e| Error::corrupt("xlsx", e))?;
                let entity = format!("&{name};");
                header_footer.push_str(&quick_xml::escape::unescape(&entity).unwrap_or_default());
            }
            Event::Text(t) if in_value => {
                value.push_str(&t.decode().map_err(|e| Error::corrupt("xlsx", e))?);
            }
            Event::GeneralRef(r) if in_value => {
                let name = r.decode().map_err(|e| Error::corrupt("xlsx", e))?;
                let entity = format!("&{name};");
                value.push_str(&quick_xml::escape::unescape(&entity).unwrap_or_default());
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"v" | b"t" => in_value = false,
                name if is_header_footer(name) => {
                    in_header_footer = false;
                    header_footer.push('\n');
                }
                b"c" => {
                    let shown = match cell_type.as_str() {
                        "s" => value
                            .trim()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| shared.get(i))
                            .cloned()
                            .unwrap_or_default(),
                        "b" => if value.trim() == "1" { "TRUE" } else { "FALSE" }.to_string(),
                        "str" | "inlineStr" | "e" => value.clone(),
                        _ => format_number(&value, styles.format_of(cell_style)),
                    };
                    if row_has_cells {
                        out.push('\t');
                    }
                    out.push_str(&shown);
                    row_has_cells = true;
                }
                b"row" => {
                    if row_has_cells {
                        out.push('\n');
                    }
                    row_has_cells = false;
                }
                _ => {}
            },
            Event::Eof => return Ok((out, header_footer)),
            _ => {}
        }
    }
}

/// The visible text of Excel header and footer strings: each section
/// (`&L`, `&C`, `&R`) on a line of its own, formatting codes (`&"Arial,Bold"`,
/// `&8`, `&B`, `&KFF0000`...) and fields (`&P`, `&D`, `&F`...) dropped, `&&`
/// read as `&`.
fn header_footer_text(codes: &str) -> String {
    let mut out = String::with_capacity(codes.len());
    let mut chars = codes.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '&' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('&') => out.push('&'),
            Some('L' | 'C' | 'R') => out.push('\n'),
            Some('"') => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                }
            }
            Some('K') => {
                for _ in 0..6 {
                    if chars
                        .next_if(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '-')
                        .is_none()
                    {
                        break;
                    }
                }
            }
            Some(d) if d.is_ascii_digit() => while chars.next_if(char::is_ascii_digit).is_some() {},
            // Styles and fields (&B &I &U &E &S &X &Y, &P &N &D &T &F &A &Z &G).
            _ => {}
        }
    }
    out
}

/// Formats a stored number as Excel would show it (see the module docs).
fn format_number(raw: &str, format: NumberFormat<'_>) -> String {
    let raw = raw.trim();
    let Ok(n) = raw.parse::<f64>() else {
        return raw.to_string();
    };
    let code = match format {
        NumberFormat::Builtin(0) | NumberFormat::Builtin(49) => return general(raw, n),
        NumberFormat::Builtin(1) => "0",
        NumberFormat::Builtin(2) => "0.00",
        NumberFormat::Builtin(3) => "#,##0",
        NumberFormat::Builtin(4) => "#,##0.00",
        NumberFormat::Builtin(9) => "0%",
        NumberFormat::Builtin(10) => "0.00%",
        NumberFormat::Builtin(14..=17) | NumberFormat::Builtin(22) => "yyyy-mm-dd",
        NumberFormat::Builtin(18..=21) | NumberFormat::Builtin(45..=47) => "hh:mm:ss",
        NumberFormat::Builtin(_) => return general(raw, n),
        NumberFormat::Code(code) => code,
    };
    apply_code(code, n).unwrap_or_else(|| general(raw, n))
}

/// "General": integers in full, other numbers without float noise.
fn general(raw: &str, n: f64) -> String {
    if raw.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return raw.to_string();
    }
    if n.fract() == 0.0 && n.abs() < 1e17 {
        return format!("{}", n as i64);
    }
    let s = format!("{n:.10}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Applies the first section of a format code; `None` when it is not one we
/// understand (the caller falls back to General).
fn apply_code(code: &str, n: f64) -> Option<String> {
    let section = code.split(';').next()?;
    // Drop [colour] and [$€-407] tags, quotes and escapes; keep literal text.
    let mut literal = String::new();
    let mut chars = section.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let tag: String = chars.by_ref().take_while(|&c| c != ']').collect();
                if let Some(symbol) = tag.strip_prefix('$') {
                    literal.push_str(symbol.split('-').next().unwrap_or(""));
                }
            }
            '"' => literal.extend(chars.by_ref().take_while(|&c| c != '"')),
            '\\' => literal.extend(chars.next()),
            '_' | '*' => {
                chars.next();
            }
            _ => literal.push(c),
        }
    }
    let lower = literal.to_ascii_lowercase();
    if lower.contains('y') || lower.contains('d') || lower.contains("h:") || lower.contains("mm:") {
        return Some(date_time(
            n,
            lower.contains('h'),
            lower.contains('y') || lower.contains('d'),
        ));
    }
    let first = literal.find(['0', '#', '?'])?;
    let last = literal.rfind(['0', '#', '?'])?;
    let (prefix, pattern, suffix) = (
        &literal[..first],
        &literal[first..=last],
        &literal[last + 1..],
    );
    let percent = suffix.contains('%');
    let value = if percent { n * 100.0 } else { n };
    let decimals = pattern
        .split_once('.')
        .map(|(_, frac)| {
            frac.chars()
                .filter(|c| matches!(c, '0' | '#' | '?'))
                .count()
        })
        .unwrap_or(0);
    let mut digits = format!("{:.*}", decimals, value.abs());
    if pattern.contains(',') {
        digits = group_thousands(&digits);
    }
    let sign = if value < 0.0 && digits.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        "-"
    } else {
        ""
    };
    Some(format!("{sign}{prefix}{digits}{suffix}"))
}

fn group_thousands(digits: &str) -> String {
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// An Excel serial date (1900 system) as ISO date and/or time.
fn date_time(serial: f64, time: bool, date: bool) -> String {
    let days = serial.floor() as i64;
    let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
    // Serial 60 is the fictional 1900-02-29; later serials are one day ahead.
    let days = if days > 60 { days - 1 } else { days };
    // Serial 1 = 1900-01-01; days since 1970-01-01 of 1899-12-31 is -25568.
    let (y, m, d) = civil_from_days(days - 25_568);
    let date_text = format!("{y:04}-{m:02}-{d:02}");
    let time_text = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    match (date, time) {
        (true, true) => format!("{date_text} {time_text}"),
        (false, true) => time_text,
        _ => date_text,
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_footer_codes_are_read_as_text() {
        let text =
            header_footer_text(r#"&L&"Arial,Bold"&8CONFIDENTIAL&CPage &P of &N&R&KFF0000R&&D"#);
        assert_eq!(text, "\nCONFIDENTIAL\nPage  of \nR&D");
    }

    #[test]
    fn numbers_as_shown() {
        assert_eq!(
            format_number("1234.5", NumberFormat::Builtin(4)),
            "1,234.50"
        );
        assert_eq!(format_number("0.256", NumberFormat::Builtin(10)), "25.60%");
        assert_eq!(
            format_number("4111111111111111", NumberFormat::Builtin(0)),
            "4111111111111111"
        );
        assert_eq!(format_number("12.50", NumberFormat::Builtin(0)), "12.5");
        assert_eq!(
            format_number("1234.5", NumberFormat::Code("\"$\"#,##0.00")),
            "$1,234.50"
        );
        assert_eq!(format_number("-3", NumberFormat::Code("[Red]0.0")), "-3.0");
    }

    #[test]
    fn dates_are_iso() {
        assert_eq!(
            format_number("44927", NumberFormat::Builtin(14)),
            "2023-01-01"
        );
        assert_eq!(format_number("1", NumberFormat::Builtin(14)), "1900-01-01");
        assert_eq!(
            format_number("29221.5", NumberFormat::Code("yyyy-mm-dd hh:mm")),
            "1980-01-01 12:00:00"
        );
    }
}
