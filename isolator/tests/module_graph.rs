//! The isolator crate's layering, checked from its sources: which top-level
//! modules use which (`crate::<module>` paths outside comments), no import
//! circle of more than two modules, and no source file over 800 lines.
//!
//! A circle of two (a section of the configuration owned by the HTTP layer,
//! which serves that configuration) is allowed; three modules that reach
//! each other in a ring are what made every change touch everything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The crate's top-level modules: `src/<name>.rs` and `src/<name>/`.
fn top_modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let name = p.file_stem()?.to_str()?.to_owned();
            let is_module = p.is_dir() || p.extension().is_some_and(|x| x == "rs");
            (is_module && name != "lib" && name != "main").then_some(name)
        })
        .collect()
}

/// The top-level module a file belongs to.
fn owner(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_owned())
}

/// Identifiers following `crate::` in code (comment lines skipped), with
/// `crate::{a, b::c}` groups expanded to their first segments.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.insert(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name);
            }
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let tops = top_modules();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> =
        tops.iter().map(|t| (t.clone(), BTreeSet::new())).collect();
    for f in files {
        let Some(from) = owner(&f).filter(|o| tops.contains(o)) else {
            continue;
        };
        let text = std::fs::read_to_string(&f).unwrap();
        for to in crate_paths(&text) {
            if to != from && tops.contains(&to) {
                edges.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    edges
}

/// Strongly connected components (Tarjan), each sorted.
fn components(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.g[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            comp.sort();
            t.out.push(comp);
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_import_circle_of_more_than_two_top_level_modules() {
    let g = graph();
    let rings: Vec<_> = components(&g).into_iter().filter(|c| c.len() > 2).collect();
    let shown: String = g.iter().map(|(k, v)| format!("  {k} -> {v:?}\n")).collect();
    assert!(
        rings.is_empty(),
        "import rings {rings:?}; the graph:\n{shown}"
    );
}

#[test]
fn leaf_modules_use_nothing_of_the_crate() {
    let g = graph();
    for leaf in ["os", "config_error", "protocol", "egress"] {
        assert_eq!(g[leaf], BTreeSet::new(), "{leaf} must stay a leaf");
    }
}

#[test]
fn only_the_serve_command_and_the_config_use_the_http_layer() {
    let g = graph();
    let users: Vec<_> = g
        .iter()
        .filter(|(k, v)| v.contains("http") && k.as_str() != "http")
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(users, ["cli", "config"]);
}

#[test]
fn no_source_file_over_800_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<_> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

/// The actions each file decides (`decide(... Action::X)`), test code left out.
fn decisions_by_action() -> BTreeMap<String, BTreeSet<PathBuf>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut by_action: BTreeMap<String, BTreeSet<PathBuf>> = BTreeMap::new();
    for f in files {
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (at, _) in code.match_indices("decide(") {
            let call: String = code[at..].chars().take(120).collect();
            let call = call.split(';').next().unwrap_or("");
            if let Some(i) = call.find("Action::") {
                let name: String = call[i + "Action::".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric())
                    .collect();
                by_action.entry(name).or_default().insert(f.clone());
            }
        }
    }
    by_action
}

#[test]
fn each_action_is_decided_in_one_file() {
    let by_action = decisions_by_action();
    for action in [
        "Keyboard", "Paste", "Copy", "Submit", "Upload", "Download", "Print", "Page",
    ] {
        let files = by_action.get(action).cloned().unwrap_or_default();
        assert_eq!(files.len(), 1, "{action} is decided in {files:?}");
        let file = files.iter().next().unwrap();
        assert!(
            file.strip_prefix(src().join("gates")).is_ok(),
            "{action} is decided outside the gates: {}",
            file.display()
        );
    }
}

#[test]
fn the_path_reader_sees_groups_and_skips_comments() {
    let found = crate_paths(
        "use crate::{a, b::C};\n// crate::commented\nlet x = crate::d::e(); // crate::tail\n",
    );
    let want: BTreeSet<String> = ["a", "b", "d"].iter().map(|s| s.to_string()).collect();
    assert_eq!(found, want);
}
