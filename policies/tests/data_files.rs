//! Exact-data files are confined to the data directory: an admin who can edit
//! the policy (the API) must not be able to make the server, running as
//! root, read a host file, nor learn a byte of one from an error message.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use policies::{compile_str_in, load_file, DataDir, Error, PolicyStore};

/// A policy file and its `data/` directory in a fresh temporary directory.
struct Site {
    _tmp: tempfile::TempDir,
    policy: PathBuf,
    data: PathBuf,
}

fn site() -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("people.csv"),
        "name,account\nJane Doe,4000-1234-5678\n",
    )
    .unwrap();
    Site {
        policy: tmp.path().join("policy.toml"),
        data,
        _tmp: tmp,
    }
}

fn document(csv: &str, columns: &[&str]) -> String {
    let columns = columns
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "[[detectors]]\nid = \"people\"\nkind = \"exact_data\"\ncsv = {csv:?}\ncolumns = [{columns}]\n\n\
         [[profiles]]\nid = \"p\"\ndetectors = [\"people\"]\n"
    )
}

/// Loads the policy file on another thread: a fifo that blocked the open
/// would hang the test instead of failing it.
fn load(site: &Site, csv: &str, columns: &[&str]) -> Result<policies::Policy, Error> {
    std::fs::write(&site.policy, document(csv, columns)).unwrap();
    let path = site.policy.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load_file(&path));
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("loading a policy naming {csv} hung"))
}

/// The lines (and NUL-separated entries) of `target`, as root reads them.
fn lines_of(target: &Path) -> Vec<String> {
    let bytes = std::fs::read(target).unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .split(['\n', '\0'])
        .map(str::trim)
        .filter(|l| l.len() >= 4)
        .map(str::to_owned)
        .collect()
}

/// Asserts `csv` is refused with a problem at `detectors[0].csv` that says
/// `why` and quotes no line of `target`.
fn assert_refused(site: &Site, csv: &str, target: &Path, why: &str) {
    let lines = lines_of(target);
    for columns in [&[][..], &["user"][..]] {
        let err = match load(site, csv, columns) {
            Ok(_) => panic!("`{csv}` (columns {columns:?}) was read"),
            Err(e) => e,
        };
        let text = err.to_string();
        let p = &err.problems()[0];
        assert_eq!(p.field, "detectors[0].csv", "{text}");
        assert!(p.location.is_some(), "{text}");
        assert!(text.contains(why), "`{csv}`: {text}");
        assert!(!text.contains("root:"), "`{csv}` leaked: {text}");
        for line in &lines {
            assert!(
                !text.contains(line.as_str()),
                "`{csv}` leaked a line: {text}"
            );
        }
    }
}

#[test]
fn absolute_paths_to_host_files_are_refused_without_quoting_them() {
    let s = site();
    assert_refused(&s, "/etc/shadow", Path::new("/etc/shadow"), "absolute path");
    assert_refused(&s, "/etc/passwd", Path::new("/etc/passwd"), "absolute path");
    assert_refused(
        &s,
        "/proc/self/environ",
        Path::new("/proc/self/environ"),
        "absolute path",
    );
}

#[test]
fn parent_components_are_refused() {
    let s = site();
    assert_refused(&s, "../../etc/passwd", Path::new("/etc/passwd"), "`..`");
    let deep = "../".repeat(40) + "etc/shadow";
    assert_refused(&s, &deep, Path::new("/etc/shadow"), "`..`");
    assert_refused(&s, "sub/../../x.csv", Path::new("/etc/passwd"), "`..`");
}

#[test]
fn symlinks_out_of_the_data_directory_are_refused() {
    let s = site();
    std::os::unix::fs::symlink("/etc/shadow", s.data.join("shadow.csv")).unwrap();
    assert_refused(
        &s,
        "shadow.csv",
        Path::new("/etc/shadow"),
        "resolves outside",
    );
    std::os::unix::fs::symlink("/proc/self/environ", s.data.join("env.csv")).unwrap();
    assert_refused(
        &s,
        "env.csv",
        Path::new("/proc/self/environ"),
        "resolves outside",
    );
    // A directory link: the file is reached through it, still outside.
    std::os::unix::fs::symlink("/etc", s.data.join("etc")).unwrap();
    assert_refused(
        &s,
        "etc/passwd",
        Path::new("/etc/passwd"),
        "resolves outside",
    );
    // A link to the directory itself names no file.
    std::os::unix::fs::symlink(".", s.data.join("self")).unwrap();
    assert_refused(&s, "self", Path::new("/etc/passwd"), "resolves outside");
}

#[test]
fn fifos_devices_and_directories_are_refused_without_blocking() {
    let s = site();
    let fifo = s.data.join("pipe.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    assert_refused(&s, "pipe.csv", Path::new("/etc/passwd"), "is a fifo");
    std::fs::create_dir(s.data.join("dir.csv")).unwrap();
    assert_refused(&s, "dir.csv", Path::new("/etc/passwd"), "is a directory");
    std::os::unix::fs::symlink("/dev/zero", s.data.join("zero.csv")).unwrap();
    assert_refused(&s, "zero.csv", Path::new("/etc/passwd"), "resolves outside");
}

#[test]
fn a_data_directory_inside_proc_is_refused() {
    let s = site();
    std::fs::write(&s.policy, document("environ", &[])).unwrap();
    let src = std::fs::read_to_string(&s.policy).unwrap();
    let err = compile_str_in(&src, &s.policy, &DataDir::new("/proc/self"))
        .expect_err("a data directory in /proc is refused");
    let text = err.to_string();
    assert!(text.contains("system directory"), "{text}");
    for line in lines_of(Path::new("/proc/self/environ")) {
        assert!(!text.contains(&line), "{text}");
    }
}

#[test]
fn files_inside_the_data_directory_load_and_match() {
    let s = site();
    let p = load(&s, "people.csv", &["account"]).unwrap_or_else(|e| panic!("{e}"));
    let found = p.engine().scan("wire it to 4000 1234 5678 today");
    assert!(found.iter().any(|f| f.detector == "people"), "{found:?}");
    // Links that stay inside the directory are followed.
    std::fs::create_dir(s.data.join("hr")).unwrap();
    std::os::unix::fs::symlink("../people.csv", s.data.join("hr/current.csv")).unwrap();
    load(&s, "hr/current.csv", &[]).unwrap_or_else(|e| panic!("{e}"));
    load(&s, "./people.csv", &[]).unwrap_or_else(|e| panic!("{e}"));
    // A data file's own errors name the line, never its cells.
    std::fs::write(
        s.data.join("bad.csv"),
        "name,account\nSecret Person,4000-1234-5678,extra\n",
    )
    .unwrap();
    let text = load(&s, "bad.csv", &[]).expect_err("refused").to_string();
    assert!(text.contains("line 2"), "{text}");
    assert!(
        !text.contains("Secret Person") && !text.contains("name,account"),
        "{text}"
    );
    let text = load(&s, "people.csv", &["nope"])
        .expect_err("refused")
        .to_string();
    assert!(text.contains("no column `nope`"), "{text}");
    assert!(!text.contains("account"), "{text}");
}

#[test]
fn api_edits_read_from_the_store_data_directory_only() {
    let s = site();
    std::fs::write(&s.policy, document("people.csv", &[])).unwrap();
    let hist = s.policy.with_file_name("history");
    let elsewhere = s.policy.with_file_name("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("people.csv"), "a\nzzz\n").unwrap();
    // The store reads from the directory the operator gave, not `data/`.
    let store = PolicyStore::open_in(&s.policy, &hist, DataDir::new(&elsewhere)).unwrap();
    assert_eq!(store.current().data_dir().path(), Some(elsewhere.as_path()));
    for csv in [
        "/etc/shadow",
        "../data/people.csv",
        "../../../../etc/shadow",
    ] {
        let doc = policies::parse_document(&document(csv, &[]), Path::new("api")).unwrap();
        let err = store.replace(doc, "admin", None).expect_err("refused");
        assert!(!err.to_string().contains("root:"), "{err}");
        assert_eq!(store.version(), 1);
    }
}
