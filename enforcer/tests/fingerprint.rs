//! Document fingerprinting on texts nobody here wrote: the licence texts
//! Debian ships in `/usr/share/common-licenses` (package `base-files`,
//! present on every Debian system). The GNU licences are the "confidential
//! documents"; the GFDL 1.2 and 1.3 are two published revisions of one text
//! (a lightly edited copy); the Artistic, BSD and CC0 texts are unrelated
//! prose in the same genre (hard negatives). Licences that share whole
//! clauses (the Apache and Mozilla licences share a liability clause of
//! about 50 words; the GNU licences share much more) do match each other:
//! that is a shared passage, and background text is the remedy.

use enforcer::extract::{extract, Extraction, Limits};
use enforcer::fingerprint::{Index, Store, Thresholds};

const LICENSES: &str = "/usr/share/common-licenses";

fn license(name: &str) -> String {
    std::fs::read_to_string(format!("{LICENSES}/{name}")).expect("base-files' licence texts")
}

fn store_with(dir: &std::path::Path, names: &[&str]) -> Store {
    let mut store = Store::open(dir, true).unwrap();
    for name in names {
        store
            .add(name, &format!("sha-{name}"), &license(name), false)
            .unwrap();
    }
    store
}

#[test]
fn a_pasted_paragraph_of_a_registered_document_matches_it_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &["GPL-3", "MPL-2.0", "Apache-2.0", "LGPL-2.1"]);
    let index = Index::build(&store, Thresholds::default()).unwrap();
    // Section 7 of the GPL-3 ("Additional Terms"), its first paragraph,
    // pasted into a chat message with words of the sender's own around it.
    let gpl = license("GPL-3");
    let start = gpl.find("  7. Additional Terms.").unwrap();
    let para: String = gpl[start..]
        .split("\n\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n\n");
    let message = format!("hi team, see below before the call:\n{para}\nthanks, ann");
    let hits = index.lookup(&message);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].name, "GPL-3");
    assert!(hits[0].text_fraction > 0.5, "{hits:?}");
}

#[test]
fn the_passages_a_text_shares_are_located_and_the_senders_words_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &["GPL-3", "MPL-2.0"]);
    let index = Index::build(&store, Thresholds::default()).unwrap();
    let gpl = license("GPL-3");
    let start = gpl.find("  7. Additional Terms.").unwrap();
    let para: String = gpl[start..].split("\n\n").nth(1).unwrap().to_owned();
    let own_before = "Our own notes on the supplier meeting of Tuesday about invoices and shipping dates for the northern warehouse.";
    let own_after = "Please send the purchase order numbers for March before Friday so finance can close the quarter.";
    let page = format!("{own_before}\n{para}\n{own_after}");
    let hits = index.lookup_passages(&page);
    assert_eq!(
        hits.len(),
        1,
        "{:?}",
        hits.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
    let (m, spans) = &hits[0];
    assert_eq!(m.name, "GPL-3");
    assert_eq!(index.lookup(&page), vec![m.clone()], "same match as lookup");
    // One passage, inside the paragraph, covering most of it.
    assert_eq!(spans.len(), 1, "{spans:?}");
    let p0 = own_before.len() + 1;
    let p1 = p0 + para.len();
    let s = &spans[0];
    assert!(s.start >= p0 && s.end <= p1, "{s:?} within {p0}..{p1}");
    let covered = page[s.clone()].split_whitespace().count();
    let total = para.split_whitespace().count();
    assert!(
        covered * 10 >= total * 7,
        "{covered} of {total} words located"
    );
}

#[test]
fn a_lightly_edited_copy_matches_and_unrelated_texts_of_the_same_genre_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &["GFDL-1.2", "GPL-3", "MPL-2.0"]);
    let index = Index::build(&store, Thresholds::default()).unwrap();
    // GFDL 1.3 is GFDL 1.2 revised by its authors.
    let hits = index.lookup(&license("GFDL-1.3"));
    assert_eq!(
        hits.first().map(|h| h.name.as_str()),
        Some("GFDL-1.2"),
        "{hits:?}"
    );
    assert!(hits[0].document_fraction > 0.5, "{hits:?}");
    // Every 25th word changed: still the document.
    let edited: Vec<String> = license("GPL-3")
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            if i % 25 == 0 {
                "CHANGED".to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect();
    let hits = index.lookup(&edited.join(" "));
    assert_eq!(
        hits.first().map(|h| h.name.as_str()),
        Some("GPL-3"),
        "{hits:?}"
    );
    for other in ["Artistic", "BSD", "CC0-1.0"] {
        let hits = index.lookup(&license(other));
        assert!(hits.is_empty(), "{other}: {hits:?}");
    }
}

#[test]
fn the_document_re_saved_as_html_and_extracted_still_matches() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &["MPL-2.0", "GPL-3"]);
    let index = Index::build(&store, Thresholds::default()).unwrap();
    let mpl = license("MPL-2.0");
    let html: String = std::iter::once("<!doctype html><html><body><h1>MPL</h1>".to_owned())
        .chain(
            mpl.split("\n\n")
                .map(|p| format!("<p>{}</p>\n", p.replace('&', "&amp;").replace('<', "&lt;"))),
        )
        .chain(std::iter::once("</body></html>".to_owned()))
        .collect();
    let text = match extract("mpl.html", html.as_bytes(), &Limits::default()) {
        Extraction::Text { parts, .. } => parts
            .iter()
            .map(|p| p.text.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        Extraction::Unscannable { reason } => panic!("{reason}"),
    };
    let hits = index.lookup(&text);
    assert_eq!(
        hits.first().map(|h| h.name.as_str()),
        Some("MPL-2.0"),
        "{hits:?}"
    );
    assert!(hits[0].document_fraction > 0.9, "{hits:?}");
}

#[test]
fn boilerplate_shared_by_many_documents_or_a_background_text_never_matches() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), true).unwrap();
    let disclaimer = "This document is confidential and intended solely for the use of the \
                      individual or entity to whom it is addressed. If you have received it in \
                      error please notify the sender immediately and delete it from your system.";
    let gpl = license("GPL-3");
    let chunks: Vec<&str> = gpl.split("\n\n").collect();
    // Seven documents, each a different part of the GPL with the disclaimer.
    for i in 0..7 {
        let body = chunks[i * 10..i * 10 + 8].join("\n\n");
        store
            .add(
                &format!("memo-{i}"),
                &format!("sha{i}"),
                &format!("{body}\n\n{disclaimer}"),
                false,
            )
            .unwrap();
    }
    // A background text: the Apache licence, quoted by many documents.
    store
        .add("apache", "sha-apache", &license("Apache-2.0"), true)
        .unwrap();
    store
        .add(
            "quotes-apache",
            "sha-q",
            &format!("{}\n\nour own notes on it", license("Apache-2.0")),
            false,
        )
        .unwrap();
    let index = Index::build(&store, Thresholds::default()).unwrap();
    assert!(index.lookup(disclaimer).is_empty(), "the shared disclaimer");
    assert!(
        index.lookup(&license("Apache-2.0")).is_empty(),
        "the background text"
    );
    // A memo's own text still matches it.
    let own = chunks[20..28].join("\n\n");
    let hits = index.lookup(&own);
    assert_eq!(
        hits.first().map(|h| h.name.as_str()),
        Some("memo-2"),
        "{hits:?}"
    );
}

#[test]
fn the_store_keeps_no_text_and_survives_reopening_adding_and_removing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with(dir.path(), &["GPL-3"]);
    let doc = store
        .add("MPL", "sha-mpl", &license("MPL-2.0"), false)
        .unwrap();
    store.commit().unwrap();
    // Nothing on disk holds a word of the texts.
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("Mozilla") && !text.contains("copyleft"),
            "{}",
            entry.display()
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&entry).unwrap().permissions(),
        );
        assert_eq!(mode & 0o077, 0, "{} is private", entry.display());
    }
    let mut reopened = Store::open(dir.path(), false).unwrap();
    assert_eq!(reopened.documents().len(), 2);
    reopened.remove(doc.id).unwrap();
    reopened.commit().unwrap();
    let index = Index::build(&reopened, Thresholds::default()).unwrap();
    // (The MPL and the GPL-3 share a few clauses: only the MPL itself is gone.)
    assert!(!index
        .lookup(&license("MPL-2.0"))
        .iter()
        .any(|h| h.name == "MPL"));
    assert_eq!(index.lookup(&license("GPL-3"))[0].name, "GPL-3");
    // The same bytes registered again replace the old entry.
    reopened
        .add("GPL-3 again", "sha-GPL-3", &license("GPL-3"), false)
        .unwrap();
    assert_eq!(reopened.documents().len(), 1);
    let e = Store::open(&dir.path().join("nowhere"), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no fingerprint store"), "{e}");
    let e = reopened
        .add("tiny", "sha-tiny", "too short", false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("too little text"), "{e}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
