//! The `source_code` detector on texts nobody here wrote: the held-out
//! split of the training command (files installed on this machine, listed
//! in `source_code/heldout.txt`), the committed samples cut from some of
//! them (`source_code/samples`, sources and licences in its README), and
//! pieces of those samples pasted as a chat message would be.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use enforcer::detect::classify::{SourceCode, MIN_CHARS, NOT_CODE};
use enforcer::{Confidence, Engine, EngineBuilder, ProfileSpec, Selection};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/source_code")
}

fn engine() -> (Engine, Selection) {
    let engine = Engine::with_defaults();
    let sel = engine.selection(&["source_code"]).unwrap();
    (engine, sel)
}

fn sample(set: &str, name: &str) -> String {
    // Read as the engine gets text: invalid UTF-8 replaced.
    let bytes = std::fs::read(data().join("samples").join(set).join(name)).unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `text` cut to `n` characters.
fn chars(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// At least `n` characters of `text` from the first line starting with
/// `start`, up to a line end.
fn piece(text: &str, start: &str, n: usize) -> String {
    let at = text
        .find(&format!("\n{start}"))
        .map(|p| p + 1)
        .unwrap_or_else(|| panic!("no line starting {start:?}"));
    let rest = &text[at..];
    let cut: usize = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
    let end = rest[cut..].find('\n').map_or(rest.len(), |p| cut + p + 1);
    rest[..end].to_string()
}

/// Whether the profile fires, and the language its finding names.
fn judge(engine: &Engine, sel: &Selection, text: &str) -> Option<String> {
    let report = engine.scan_selection(text, sel);
    if !report.is_match() {
        return None;
    }
    let f = &report.findings[0];
    assert_eq!(f.detector, "source_code");
    assert_eq!((f.start, f.end), (0, text.len()), "span is the whole text");
    Some(f.evidence.split(' ').next().unwrap_or("").to_string())
}

/// The held-out files (never trained on) present on this machine, judged
/// whole through the engine: code vs not at least 0.97. Man pages are left
/// out here (rendering 120 pages takes ~15 s; the training command's report
/// and the committed rendered samples cover them).
#[test]
fn heldout_files_code_vs_not_accuracy_at_least_097() {
    let (engine, sel) = engine();
    let list = std::fs::read_to_string(data().join("heldout.txt")).unwrap();
    let home = std::env::var("HOME").unwrap_or_default();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (mut right, mut total, mut listed) = (0, 0, 0);
    let mut wrong = Vec::new();
    for line in list.lines().filter(|l| !l.starts_with('#')) {
        let (class, path) = line.split_once('\t').unwrap();
        if path.starts_with("/usr/share/man/") {
            continue;
        }
        listed += 1;
        let file = match path.strip_prefix("~/") {
            Some(rest) => Path::new(&home).join(rest),
            None if path.starts_with('/') => PathBuf::from(path),
            None => workspace.join(path),
        };
        let Ok(raw) = std::fs::read(&file) else {
            continue;
        };
        let bytes = if path.ends_with(".gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            raw
        };
        let text = String::from_utf8_lossy(&bytes);
        total += 1;
        let got = judge(&engine, &sel, &text);
        if got.is_some() != NOT_CODE.contains(&class) {
            right += 1;
        } else {
            wrong.push(format!("{class} -> {got:?}: {path}"));
        }
    }
    // CI images may lack some of this machine's packages (PostgreSQL,
    // LLVM, /usr/share/doc): what is there must still be judged right, and
    // enough must be there for the figure to mean something.
    assert!(
        total >= 100,
        "only {total} of {listed} held-out files present: install the packages of \
         isolator/scripts/install-deps.sh, fetch the crates and run npm ci in tests/editors"
    );
    eprintln!("{total} of {listed} held-out files present");
    eprintln!("code vs not: {right} of {total} right");
    let accuracy = right as f64 / total as f64;
    assert!(
        accuracy >= 0.97,
        "accuracy {accuracy:.4} on {total}: {wrong:#?}"
    );
}

/// The committed samples: code vs not right in 95%,
/// the language right in 90% of the code, prose (READMEs and man pages
/// that quote code among them) and data (JSON, XML, TOML, YAML,
/// configuration) not flagged, and a file under 500 characters not
/// classified at all.
#[test]
fn committed_samples_are_judged_right() {
    let (engine, sel) = engine();
    let mut seen = 0;
    let (mut short, mut code) = (0, 0);
    let (mut wrong, mut language) = (Vec::new(), Vec::new());
    for set in ["code", "prose", "data"] {
        let mut names: Vec<_> = std::fs::read_dir(data().join("samples").join(set))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        for name in names {
            let text = sample(set, &name);
            let class = name.split('-').next().unwrap();
            let got = judge(&engine, &sel, &text);
            if text.chars().count() < MIN_CHARS {
                assert_eq!(SourceCode::builtin().classify(&text), None, "{name}");
                short += 1;
                continue;
            }
            seen += 1;
            let is_code = !NOT_CODE.contains(&class);
            if got.is_some() != is_code {
                wrong.push(format!("{name}: {got:?}"));
            } else if is_code {
                code += 1;
                if got.as_deref() != Some(class) {
                    language.push(format!("{name}: {got:?}"));
                }
            }
        }
    }
    assert!(seen >= 45 && short >= 1, "{seen} samples, {short} short");
    // 51 files are too few for the held-out bar (0.97): at least 0.95
    // (measured: 2 misses, LibreOffice's soffice.sh, a wrapper of mostly
    // comments, and a SQL file whose first 8 KB are mostly a comment).
    assert!(wrong.len() * 100 <= seen * 5, "code vs not: {wrong:#?}");
    assert!(language.len() * 10 <= code, "language: {language:#?}");
}

/// Prose that quotes code: a C man page with its synopsis, a README with
/// shell commands and a code example, a crate README with a Rust block.
#[test]
fn prose_quoting_code_is_not_flagged() {
    let (engine, _) = engine();
    let both = engine.selection(&["all", "source_code"]).unwrap();
    for name in [
        "prose-man3-abs.3",
        "prose-man3-wcpncpy.3",
        "prose-examples-README.examples",
        "prose-libc6-README.Debian",
        "prose-rlimit-0.10.2-README.md",
    ] {
        let text = sample("prose", name);
        let report = engine.scan_selection(&text, &both);
        assert!(
            !report.fired.iter().any(|p| p == "source_code"),
            "{name}: {:?}",
            report.findings
        );
    }
}

/// About 600 characters of a function pasted alone (as into a chat) are
/// flagged, with the right language.
#[test]
fn pasted_function_is_flagged_with_its_language() {
    let (engine, sel) = engine();
    for (name, start, lang) in [
        ("python-setuptools-glob.py", "def ", "python"),
        ("rust-io-stdio_common.rs", "    fn ", "rust"),
        ("javascript-src-index.js", "function ", "javascript"),
        ("perl-Test-More.pm", "sub ", "perl"),
    ] {
        let text = piece(&sample("code", name), start, 600);
        assert!((600..900).contains(&text.chars().count()), "{name}");
        assert_eq!(
            judge(&engine, &sel, &text).as_deref(),
            Some(lang),
            "{name}:\n{text}"
        );
        let report = engine.scan_selection(&text, &sel);
        let f = &report.findings[0];
        assert!(f.confidence >= Confidence::Medium);
        // Evidence names the language and score, never the code.
        assert!(
            f.evidence
                .starts_with(&format!("{lang} source code (score ")),
            "{}",
            f.evidence
        );
        assert!(!text.contains(&*f.evidence));
    }
}

/// The 500-character gate: 499 characters of code are not classified, 500
/// are (characters, not bytes).
#[test]
fn texts_under_500_characters_are_not_classified() {
    let (engine, sel) = engine();
    let code = piece(&sample("code", "python-setuptools-glob.py"), "def ", 800);
    assert!(engine
        .scan(&chars(&code, 499))
        .iter()
        .all(|f| f.detector != "source_code"));
    assert_eq!(judge(&engine, &sel, &chars(&code, 499)), None);
    assert_eq!(
        judge(&engine, &sel, &chars(&code, 500)).as_deref(),
        Some("python")
    );
    assert_eq!(SourceCode::builtin().classify(&chars(&code, 499)), None);
}

/// Listed like any detector, in its own predefined profile and not in
/// `all`, usable in a custom profile; large texts are sampled (a 4 MB
/// text is judged like its parts).
#[test]
fn detector_is_listed_selectable_and_bounded() {
    let engine = Engine::with_defaults();
    let info = engine
        .detectors()
        .into_iter()
        .find(|d| d.id == "source_code")
        .expect("listed");
    assert_eq!(info.profiles, ["source_code"]);
    assert_eq!(info.category.as_str(), "source_code");
    let mut b = EngineBuilder::new();
    b.profile(ProfileSpec {
        id: "no-code-in-chat".into(),
        description: String::new(),
        detectors: vec!["source_code".into(), "credit_card".into()],
        min_confidence: Confidence::Medium,
        min_matches: 1,
        allow: Vec::new(),
    })
    .unwrap();
    let custom = b.build().unwrap();
    let sel = custom.selection(&["no-code-in-chat"]).unwrap();
    let code = sample("code", "c-ADT-StringMap.h").repeat(600);
    let prose = sample("prose", "prose-man1-grn.1").repeat(600);
    assert!(code.len() > 4 << 20);
    assert_eq!(judge(&custom, &sel, &code).as_deref(), Some("c"));
    assert_eq!(judge(&custom, &sel, &prose), None);
    // `all` does not include it.
    let all = custom.selection(&["all"]).unwrap();
    assert!(!custom
        .scan_selection(&code, &all)
        .fired
        .iter()
        .any(|p| p == "all"));
}
