//! Trains the `source_code` classifier on code and prose installed on this
//! machine, evaluates it on a held-out split and writes the model.
//!
//! ```text
//! cargo run -p enforcer --example train_source_code -- \
//!     [--out enforcer/src/detect/classify/source_code.model] \
//!     [--heldout enforcer/tests/source_code/heldout.txt] [--report FILE]
//! ```
//!
//! Deterministic: file lists are sorted, the split and the caps follow a
//! hash of each file's path (home directory written `~`), the cut points a
//! fixed-seed generator. Run it from the workspace root. A file is held
//! out when `fnv1a(path) % 5 == 0` (path as in the held-out list);
//! held-out files are never trained on. Each source contributes at most
//! [`TRAIN_CAP`] training files and [`HELDOUT_CAP`] held-out files (those of
//! lowest hash), so no source dominates. Training files are cut into pieces
//! of 0.5 to 20 KB (log-uniform, at line starts): the sizes of pasted texts
//! and uploaded files. Held-out files are judged whole, through the same
//! sampling as the engine.
//!
//! Needs: the Debian packages of `isolator/scripts/install-deps.sh` (Python,
//! Perl, PostgreSQL, libc headers, man-db for rendering man pages), the
//! crates of `Cargo.lock` in `~/.cargo/registry`, and `npm ci` run in
//! `tests/editors` (JavaScript, CSS). Sources that are missing are skipped
//! with a message.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use enforcer::detect::classify::{self, Model, SourceCode, Trainer};

/// Most training files per source.
const TRAIN_CAP: usize = 300;
/// Most held-out files per source.
const HELDOUT_CAP: usize = 60;
/// Largest file read, in bytes.
const MAX_FILE: u64 = 2 << 20;
/// Pieces cut per training file, at most.
const PIECES: usize = 4;

/// The classes, `prose` first (the model file keeps this order).
const CLASSES: [&str; 11] = [
    "prose",
    "data",
    "rust",
    "python",
    "javascript",
    "c",
    "shell",
    "perl",
    "html",
    "css",
    "sql",
];

/// How a source's files are read.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// As UTF-8 text (invalid bytes replaced); `.gz` gunzipped.
    Text,
    /// Rendered by `man` to plain text.
    Man,
}

/// One source of training text.
struct Source {
    name: &'static str,
    class: &'static str,
    roots: Vec<PathBuf>,
    keep: fn(&Path, &[u8]) -> bool,
    read: Read,
}

fn ext(p: &Path, exts: &[&str]) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    exts.iter().any(|e| name.ends_with(e))
}

fn shebang(head: &[u8], interpreters: &[&str]) -> bool {
    let first = head.split(|&b| b == b'\n').next().unwrap_or(b"");
    let first = String::from_utf8_lossy(first);
    first.starts_with("#!") && interpreters.iter().any(|i| first.contains(i))
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
}

fn sources(repo: &Path) -> Vec<Source> {
    let registry = home().join(".cargo/registry/src");
    let node = repo.join("tests/editors/node_modules");
    let glob_dirs = |parent: &str, prefix: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(parent)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .collect();
        v.sort();
        v
    };
    let s = |name, class, roots: Vec<PathBuf>, keep, read| Source {
        name,
        class,
        roots,
        keep,
        read,
    };
    vec![
        s(
            "rust",
            "rust",
            vec![registry.clone()],
            |p, _| ext(p, &[".rs"]),
            Read::Text,
        ),
        s(
            "python",
            "python",
            glob_dirs("/usr/lib", "python3"),
            |p, _| ext(p, &[".py"]),
            Read::Text,
        ),
        s(
            "python-scripts",
            "python",
            vec!["/usr/bin".into()],
            |p, h| !ext(p, &[".py"]) && shebang(h, &["python"]),
            Read::Text,
        ),
        s(
            "javascript",
            "javascript",
            vec![node.clone()],
            |p, _| ext(p, &[".js", ".mjs", ".cjs"]) && !ext(p, &[".min.js"]),
            Read::Text,
        ),
        s(
            "c-headers",
            "c",
            vec!["/usr/include".into()],
            |p, _| ext(p, &[".h"]),
            Read::Text,
        ),
        s(
            "c-sources",
            "c",
            vec!["/usr/share".into(), registry.clone()],
            |p, _| ext(p, &[".c"]),
            Read::Text,
        ),
        s(
            "shell",
            "shell",
            vec![
                "/usr/bin".into(),
                "/usr/sbin".into(),
                "/usr/share".into(),
                "/etc".into(),
            ],
            |p, h| ext(p, &[".sh"]) || shebang(h, &["/sh", "bash", "dash"]),
            Read::Text,
        ),
        s(
            "perl",
            "perl",
            glob_dirs("/usr/share", "perl")
                .into_iter()
                .chain(["/usr/bin".into()])
                .collect(),
            |p, h| ext(p, &[".pm", ".pl"]) || shebang(h, &["perl"]),
            Read::Text,
        ),
        s(
            "html",
            "html",
            vec!["/usr/share".into()],
            |p, _| ext(p, &[".html", ".htm"]),
            Read::Text,
        ),
        s(
            "css",
            "css",
            vec!["/usr/share".into(), node],
            |p, _| ext(p, &[".css"]),
            Read::Text,
        ),
        s(
            "sql",
            "sql",
            vec!["/usr/share".into()],
            |p, _| ext(p, &[".sql"]),
            Read::Text,
        ),
        s(
            "doc-readme",
            "prose",
            vec!["/usr/share/doc".into()],
            |p, _| {
                let n = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                [
                    "readme",
                    "news",
                    "changelog",
                    "todo",
                    "authors",
                    "thanks",
                    "faq",
                ]
                .iter()
                .any(|k| n.starts_with(k))
                    && !ext(
                        p,
                        &[
                            ".html", ".htm", ".md", ".py", ".sh", ".c", ".h", ".pl", ".pm",
                        ],
                    )
            },
            Read::Text,
        ),
        s(
            "doc-copyright",
            "prose",
            vec!["/usr/share/doc".into()],
            |p, _| p.file_name().is_some_and(|n| n == "copyright"),
            Read::Text,
        ),
        s(
            "licenses",
            "prose",
            vec!["/usr/share/common-licenses".into()],
            |_, _| true,
            Read::Text,
        ),
        s(
            "json",
            "data",
            vec!["/usr/share".into(), registry.clone()],
            |p, _| ext(p, &[".json"]),
            Read::Text,
        ),
        s(
            "xml",
            "data",
            vec!["/usr/share".into(), "/etc".into()],
            |p, _| ext(p, &[".xml"]),
            Read::Text,
        ),
        s(
            "yaml-toml",
            "data",
            vec!["/usr/share".into(), registry.clone()],
            |p, _| ext(p, &[".yml", ".yaml", ".toml"]),
            Read::Text,
        ),
        s(
            "conf-ini",
            "data",
            vec!["/usr/share".into(), "/etc".into()],
            |p, _| ext(p, &[".conf", ".ini", ".cfg"]),
            Read::Text,
        ),
        s(
            "markdown",
            "prose",
            vec![registry, "/usr/share/doc".into()],
            |p, _| ext(p, &[".md", ".md.gz"]),
            Read::Text,
        ),
        s(
            "man",
            "prose",
            (1..=8)
                .map(|i| PathBuf::from(format!("/usr/share/man/man{i}")))
                .collect(),
            |p, _| ext(p, &[".gz"]),
            Read::Man,
        ),
        s(
            "man-translated",
            "prose",
            vec!["/usr/share/man".into()],
            |p, _| ext(p, &[".gz"]) && !p.to_string_lossy().contains("/man/man"),
            Read::Man,
        ),
    ]
}

/// FNV-1a of a path key (stable across machines and runs).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The path as the held-out list writes it: relative to the workspace for
/// files in it (`tests/editors/node_modules/...`), `~/...` under the home
/// directory, else absolute.
fn key(p: &Path) -> String {
    let repo = std::env::current_dir().unwrap_or_default();
    if let Ok(rest) = p.strip_prefix(&repo) {
        return rest.display().to_string();
    }
    match p.strip_prefix(home()) {
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => p.display().to_string(),
    }
}

/// Every regular file under `root`, sorted, symlinks not followed.
fn walk(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

fn head(p: &Path) -> Vec<u8> {
    let mut buf = vec![0u8; 128];
    let n = std::fs::File::open(p)
        .and_then(|mut f| f.read(&mut buf))
        .unwrap_or(0);
    buf.truncate(n);
    buf
}

/// The text of a file as the classifier would see it; `None` when
/// unreadable, binary or too large.
fn read_text(p: &Path, how: Read) -> Option<String> {
    if std::fs::metadata(p).ok()?.len() > MAX_FILE {
        return None;
    }
    let bytes = match how {
        Read::Man => {
            let out = std::process::Command::new("man")
                .args(["-P", "cat", "-l"])
                .arg(p)
                .env("MANWIDTH", "80")
                .stderr(std::process::Stdio::null())
                .output()
                .ok()?;
            // Overstrike (`X\bX`, `_\bX`) to plain characters.
            let mut clean = Vec::with_capacity(out.stdout.len());
            for &b in &out.stdout {
                if b == 8 {
                    clean.pop();
                } else {
                    clean.push(b);
                }
            }
            clean
        }
        Read::Text => {
            let raw = std::fs::read(p).ok()?;
            if ext(p, &[".gz"]) {
                let mut s = Vec::new();
                flate2::read::GzDecoder::new(&raw[..])
                    .take(MAX_FILE * 4)
                    .read_to_end(&mut s)
                    .ok()?;
                s
            } else {
                raw
            }
        }
    };
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// xorshift64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Up to [`PIECES`] pieces of 0.5-20 KB cut from `text` at line starts.
fn pieces<'t>(text: &'t str, rng: &mut Rng) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut s = 0;
    while out.len() < PIECES && s < text.len() {
        let size = (500f64 * (40f64).powf(rng.unit())) as usize;
        let mut e = (s + size).min(text.len());
        while !text.is_char_boundary(e) {
            e += 1;
        }
        if let Some(p) = text[e..].find('\n') {
            e += p + 1;
        }
        let piece = &text[s..e];
        if classify::long_enough(piece) {
            out.push(piece);
        }
        s = e;
    }
    out
}

struct Split {
    train: Vec<(usize, String, String)>,
    heldout: Vec<(usize, String, String)>,
}

fn gather(repo: &Path) -> Split {
    let mut split = Split {
        train: Vec::new(),
        heldout: Vec::new(),
    };
    for src in sources(repo) {
        let class = CLASSES.iter().position(|c| *c == src.class).unwrap_or(0);
        let mut files = Vec::new();
        for root in &src.roots {
            walk(root, &mut files);
        }
        let mut candidates: Vec<(u64, String, PathBuf)> = files
            .into_iter()
            .filter(|p| (src.keep)(p, &head(p)))
            .map(|p| (fnv(&key(&p)), key(&p), p))
            .collect();
        candidates.sort();
        candidates.dedup_by(|a, b| a.1 == b.1);
        let (mut train, mut held) = (0, 0);
        for (h, k, p) in candidates {
            let is_held = h % 5 == 0;
            if (is_held && held >= HELDOUT_CAP) || (!is_held && train >= TRAIN_CAP) {
                if held >= HELDOUT_CAP && train >= TRAIN_CAP {
                    break;
                }
                continue;
            }
            let Some(text) = read_text(&p, src.read) else {
                continue;
            };
            if !classify::long_enough(&text) {
                continue;
            }
            if is_held {
                held += 1;
                split.heldout.push((class, k, text));
            } else {
                train += 1;
                split.train.push((class, k, text));
            }
        }
        eprintln!("{:>14}: {train} training files, {held} held out", src.name);
    }
    split
}

/// Confusion counts: true class -> predicted class ("prose" or a language).
type Confusion = BTreeMap<(usize, usize), usize>;

fn table(conf: &Confusion, title: &str) -> String {
    let k = CLASSES.len();
    let mut s = format!("{title}\n\n| true \\ predicted |");
    for c in CLASSES {
        s += &format!(" {c} |");
    }
    s += " recall |\n|---|";
    s += &"---:|".repeat(k + 1);
    s += "\n";
    for (t, name) in CLASSES.iter().enumerate() {
        let row: usize = (0..k)
            .map(|p| conf.get(&(t, p)).copied().unwrap_or(0))
            .sum();
        if row == 0 {
            continue;
        }
        s += &format!("| {name} |");
        for p in 0..k {
            s += &format!(" {} |", conf.get(&(t, p)).copied().unwrap_or(0));
        }
        let ok = conf.get(&(t, t)).copied().unwrap_or(0);
        s += &format!(" {:.3} |\n", ok as f64 / row as f64);
    }
    s += "| precision |";
    for p in 0..k {
        let col: usize = (0..k)
            .map(|t| conf.get(&(t, p)).copied().unwrap_or(0))
            .sum();
        let ok = conf.get(&(p, p)).copied().unwrap_or(0);
        if col == 0 {
            s += " - |";
        } else {
            s += &format!(" {:.3} |", ok as f64 / col as f64);
        }
    }
    s += " |\n";
    // Code vs not.
    let (mut tp, mut fp, mut fnn, mut tn) = (0, 0, 0, 0);
    for (&(t, p), &n) in conf {
        match (is_code(t), is_code(p)) {
            (true, true) => tp += n,
            (false, true) => fp += n,
            (true, false) => fnn += n,
            (false, false) => tn += n,
        }
    }
    let total = (tp + fp + fnn + tn) as f64;
    s += &format!(
        "\nCode vs not: accuracy {:.4} ({} of {}), precision {:.4}, recall {:.4}; not code (prose, data) flagged as code: {fp} of {}.\n",
        (tp + tn) as f64 / total,
        tp + tn,
        tp + fp + fnn + tn,
        tp as f64 / (tp + fp).max(1) as f64,
        tp as f64 / (tp + fnn).max(1) as f64,
        fp + tn,
    );
    s
}

/// Whether class index `c` (of [`CLASSES`]) is a language.
fn is_code(c: usize) -> bool {
    !classify::NOT_CODE.contains(&CLASSES[c])
}

fn predicted(c: &classify::Classification, classes: &[String]) -> usize {
    classes.iter().position(|x| *x == c.class).unwrap_or(0)
}

fn main() {
    let mut out = PathBuf::from("enforcer/src/detect/classify/source_code.model");
    let mut heldout_list = PathBuf::from("enforcer/tests/source_code/heldout.txt");
    let mut report: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || PathBuf::from(args.next().expect("a value after the flag"));
        match a.as_str() {
            "--out" => out = value(),
            "--heldout" => heldout_list = value(),
            "--report" => report = Some(value()),
            other => panic!("unknown argument {other}"),
        }
    }
    let repo = std::env::current_dir().expect("current directory");
    let split = gather(&repo);

    let mut rng = Rng(0x5eed_c0de_2026_1206);
    let mut samples: Vec<(usize, &str)> = Vec::new();
    for (class, _, text) in &split.train {
        for p in pieces(text, &mut rng) {
            samples.push((*class, p));
        }
    }
    let mut trainer = Trainer::new(&CLASSES);
    for &(class, text) in &samples {
        trainer.add(class, &classify::sample(text));
    }
    let alpha = 0.05;
    // Thresholds from the training samples: the code threshold that makes
    // the fewest code-vs-not errors, and the high threshold above which
    // 99.5% of training samples are code.
    let draft = SourceCode::with_model(
        Model::parse(&trainer.to_bytes(alpha, 0.0, 0.0)).expect("draft model"),
    );
    let mut margins: Vec<(f32, bool)> = samples
        .iter()
        .filter_map(|&(class, text)| {
            let s = draft.model().scores(&classify::sample(text))?;
            Some((draft.judge(&s).margin, is_code(class)))
        })
        .collect();
    margins.sort_by(|a, b| a.0.total_cmp(&b.0));
    let code_total = margins.iter().filter(|m| m.1).count();
    let (mut best, mut best_err) = (0.0f32, usize::MAX);
    let mut code_below = 0;
    for (i, &(m, is_code)) in margins.iter().enumerate() {
        // Threshold just below m: errors = code at or below + prose above.
        let prose_above = (margins.len() - i) - (code_total - code_below);
        let err = code_below + prose_above;
        if err < best_err {
            best_err = err;
            best = m - 1e-4;
        }
        if is_code {
            code_below += 1;
        }
    }
    let mut high = best;
    let (mut code_above, mut all_above) = (0usize, 0usize);
    for &(m, is_code) in margins.iter().rev() {
        if m <= best {
            break;
        }
        all_above += 1;
        code_above += usize::from(is_code);
        if all_above >= 50 && (code_above as f64) < 0.995 * all_above as f64 {
            high = m;
            break;
        }
    }
    let high = high.max(best + 0.05);
    let bytes = trainer.to_bytes(alpha, best, high);
    std::fs::write(&out, &bytes).expect("writing the model");
    eprintln!(
        "{} training samples from {} files; thresholds {best:.3} / {high:.3}; model {} bytes -> {}",
        samples.len(),
        split.train.len(),
        bytes.len(),
        out.display()
    );

    let model = SourceCode::with_model(Model::parse(&bytes).expect("written model"));
    let classes = model.model().classes.clone();
    let mut whole = Confusion::new();
    let mut cut = Confusion::new();
    let mut list = String::from(
        "# Held-out files of the source_code classifier: class, tab, path (~ = home,\n\
         # relative = in the workspace).\n\
         # Written by enforcer/examples/train_source_code.rs; never trained on.\n",
    );
    let mut wrong = Vec::new();
    for (class, k, text) in &split.heldout {
        list += &format!("{}\t{k}\n", CLASSES[*class]);
        if let Some(c) = model.classify(text) {
            let p = predicted(&c, &classes);
            *whole.entry((*class, p)).or_default() += 1;
            if is_code(p) != is_code(*class) {
                wrong.push(format!(
                    "{} -> {} ({:.3}) {k}",
                    CLASSES[*class], classes[p], c.margin
                ));
            }
        }
        for piece in pieces(text, &mut rng) {
            if let Some(c) = model.classify(piece) {
                *cut.entry((*class, predicted(&c, &classes))).or_default() += 1;
            }
        }
    }
    if let Some(parent) = heldout_list.parent() {
        std::fs::create_dir_all(parent).expect("held-out list directory");
    }
    std::fs::write(&heldout_list, list).expect("writing the held-out list");
    let text = format!(
        "{}\n{}\nMisjudged whole files (code vs not):\n{}\n",
        table(&whole, "Held-out whole files:"),
        table(&cut, "Held-out pieces of 0.5-20 KB:"),
        wrong.join("\n")
    );
    println!("{text}");
    if let Some(r) = report {
        std::fs::write(r, text).expect("writing the report");
    }
}
