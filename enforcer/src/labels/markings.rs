//! Classification markings: header and footer lines that state a
//! document's sensitivity.
//!
//! A line is a marking when, as a whole, it reads as one of [`WORDINGS`]
//! once case, punctuation and spacing are ignored (`-- CONFIDENTIAL --`,
//! `Strictly confidential.`), optionally after a prefix such as
//! `Classification:` or `Sensitivity:`. A header often holds several
//! things on one line (`ACME Corp<tab>CONFIDENTIAL<tab>Page 3`): a line is
//! also read as cells split at tabs, at ` | ` and at runs of two or more
//! spaces (how `pdftotext` lays out columns), and each cell is judged on
//! its own. A word inside a sentence is never a marking.
//!
//! Only restrictive wordings are listed: "Public", "General" or
//! "Unclassified" say nothing worth blocking and are common words in
//! headers. A MIP label, by contrast, is reported whatever its name.

/// The wordings recognised, as (normalised form, name reported).
/// Normalised: upper case, words of letters and digits separated by one
/// space.
pub const WORDINGS: &[(&str, &str)] = &[
    ("CONFIDENTIAL", "Confidential"),
    ("STRICTLY CONFIDENTIAL", "Strictly Confidential"),
    ("HIGHLY CONFIDENTIAL", "Highly Confidential"),
    ("COMPANY CONFIDENTIAL", "Company Confidential"),
    ("BUSINESS CONFIDENTIAL", "Business Confidential"),
    ("CONFIDENTIAL INFORMATION", "Confidential"),
    ("CONFIDENTIAL DOCUMENT", "Confidential"),
    ("PRIVATE AND CONFIDENTIAL", "Private and Confidential"),
    ("PERSONAL AND CONFIDENTIAL", "Personal and Confidential"),
    (
        "PROPRIETARY AND CONFIDENTIAL",
        "Proprietary and Confidential",
    ),
    (
        "CONFIDENTIAL AND PROPRIETARY",
        "Proprietary and Confidential",
    ),
    ("CONFIDENTIAL PROPRIETARY", "Proprietary and Confidential"),
    ("PROPRIETARY", "Proprietary"),
    ("PROPRIETARY INFORMATION", "Proprietary"),
    ("INTERNAL", "Internal"),
    ("INTERNAL ONLY", "Internal Use Only"),
    ("INTERNAL USE", "Internal Use Only"),
    ("INTERNAL USE ONLY", "Internal Use Only"),
    ("FOR INTERNAL USE ONLY", "Internal Use Only"),
    ("COMPANY INTERNAL", "Internal"),
    ("RESTRICTED", "Restricted"),
    ("HIGHLY RESTRICTED", "Highly Restricted"),
    ("STRICTLY RESTRICTED", "Highly Restricted"),
    ("SECRET", "Secret"),
    ("TOP SECRET", "Top Secret"),
    ("OFFICIAL SENSITIVE", "Official-Sensitive"),
    ("SENSITIVE", "Sensitive"),
    ("HIGHLY SENSITIVE", "Highly Sensitive"),
    ("FOR OFFICIAL USE ONLY", "For Official Use Only"),
    ("FOUO", "For Official Use Only"),
    (
        "CONTROLLED UNCLASSIFIED INFORMATION",
        "Controlled Unclassified Information",
    ),
    ("CUI", "Controlled Unclassified Information"),
    ("NOT FOR DISTRIBUTION", "Not for Distribution"),
    ("DO NOT DISTRIBUTE", "Not for Distribution"),
    ("NOT FOR EXTERNAL DISTRIBUTION", "Not for Distribution"),
];

/// Prefixes that may stand before a wording (`Classification: Secret`).
const PREFIXES: &[&str] = &[
    "SECURITY CLASSIFICATION ",
    "DATA CLASSIFICATION ",
    "DOCUMENT CLASSIFICATION ",
    "CLASSIFICATION ",
    "SENSITIVITY LABEL ",
    "SENSITIVITY ",
    "PROTECTIVE MARKING ",
    "LABEL ",
];

/// Non-empty lines read for markings at each end of a text or a PDF page.
pub const EDGE_LINES: usize = 2;

/// Longest cell judged, in bytes: a marking is short; a longer cell is a
/// sentence.
const MAX_CELL: usize = 120;

/// The normalised form of `text`: upper case, runs of anything but
/// letters and digits turned into one space, trimmed.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_uppercase());
        } else {
            gap = true;
        }
    }
    out
}

/// The marking a cell reads as, if any (its reported name).
fn cell_marking(cell: &str) -> Option<&'static str> {
    if cell.len() > MAX_CELL {
        return None;
    }
    let norm = normalise(cell);
    if norm.is_empty() {
        return None;
    }
    let bare = PREFIXES
        .iter()
        .find_map(|p| norm.strip_prefix(p))
        .unwrap_or(&norm);
    WORDINGS
        .iter()
        .find(|(wording, _)| *wording == bare)
        .map(|(_, name)| *name)
}

/// The markings one line holds: the whole line, or any of its cells (see
/// the module docs), each name once.
pub fn line_markings(line: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    if let Some(name) = cell_marking(line) {
        found.push(name);
        return found;
    }
    for cell in cells(line) {
        if let Some(name) = cell_marking(cell) {
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

/// The cells of a line: split at tabs, ` | ` and runs of 2+ spaces.
fn cells(line: &str) -> impl Iterator<Item = &str> {
    line.split(['\t', '|'])
        .flat_map(|piece| piece.split("  "))
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// The first `top` and last `bottom` non-empty lines of `text`, each with
/// its byte span (a line counted in both is given once).
pub fn edge_lines(text: &str, top: usize, bottom: usize) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if spans.len() >= top {
            break;
        }
        let start = pos;
        pos += line.len();
        if !line.trim().is_empty() {
            spans.push((start, start + line.trim_end_matches(['\n', '\r']).len()));
        }
    }
    let mut tail: Vec<(usize, usize)> = Vec::new();
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut end = body.len();
    for line in body.rsplit('\n') {
        if tail.len() >= bottom {
            break;
        }
        let start = end - line.len();
        let span = (start, start + line.trim_end_matches('\r').len());
        end = start.saturating_sub(1);
        if !line.trim().is_empty() && !spans.contains(&span) {
            tail.push(span);
        }
    }
    tail.reverse();
    spans.extend(tail);
    spans
}

/// The markings on the first `top` and last `bottom` non-empty lines of
/// `text`, with the span of the line holding each.
pub fn edge_markings(text: &str, top: usize, bottom: usize) -> Vec<(&'static str, usize, usize)> {
    let mut found: Vec<(&'static str, usize, usize)> = Vec::new();
    for (start, end) in edge_lines(text, top, bottom) {
        for name in line_markings(&text[start..end]) {
            if !found.iter().any(|(n, _, _)| *n == name) {
                found.push((name, start, end));
            }
        }
    }
    found
}

/// The markings anywhere in a header or footer text, line by line.
pub fn header_footer_markings(text: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for line in text.lines() {
        for name in line_markings(line) {
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_and_cells() {
        let yes = [
            ("CONFIDENTIAL", "Confidential"),
            ("  -- Strictly confidential. --", "Strictly Confidential"),
            ("Classification: Restricted", "Restricted"),
            ("INTERNAL USE ONLY", "Internal Use Only"),
            ("For internal use only", "Internal Use Only"),
            ("ACME Corp\tCONFIDENTIAL\tPage 3", "Confidential"),
            (
                "ACME Corp        Highly Confidential        12/2026",
                "Highly Confidential",
            ),
            ("Sensitivity: Internal", "Internal"),
            ("OFFICIAL-SENSITIVE", "Official-Sensitive"),
            ("TOP SECRET", "Top Secret"),
        ];
        for (line, name) in yes {
            assert_eq!(line_markings(line), vec![name], "{line}");
        }
        let no = [
            "This document is not confidential.",
            "Confidential information must not leave the company",
            "ACME Corporation",
            "Public",
            "Secretary of State",
            "Page 3 of 12",
            "The secret to good bread is time",
        ];
        for line in no {
            assert!(line_markings(line).is_empty(), "{line}");
        }
    }

    #[test]
    fn edge_lines_are_the_first_and_last_non_empty_ones() {
        let text = "\n\nTOP\nsecond\nmiddle\nbody\nlast but one\nLAST\n\n";
        let lines: Vec<&str> = edge_lines(text, 2, 2)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(lines, ["TOP", "second", "last but one", "LAST"]);
        let short = "only\r\n";
        let lines: Vec<&str> = edge_lines(short, 2, 2)
            .into_iter()
            .map(|(s, e)| &short[s..e])
            .collect();
        assert_eq!(lines, ["only"]);
        assert!(edge_lines("", 2, 2).is_empty());
    }

    #[test]
    fn edge_markings_ignore_the_body() {
        let text =
            "CONFIDENTIAL\nQuarterly plan\nThis part is confidential.\nRESTRICTED\nmore\nend\n";
        let found = edge_markings(text, 2, 2);
        assert_eq!(found, vec![("Confidential", 0, 12)]);
    }
}
