//! Versioned store: atomic replace, refusal of bad documents, conflicts,
//! rollback, persistence across restarts, file reload.

use std::path::Path;
use std::sync::Arc;

use policies::{compile_str, Action, Error, Identity, Mode, PolicyDocument, PolicyStore};

const V1: &str = r#"
[[rules]]
name = "everyone"
paste = "allow"
"#;

fn doc(src: &str) -> PolicyDocument {
    policies::parse_document(src, Path::new("t.toml")).unwrap()
}

fn paste_mode(store: &PolicyStore) -> Mode {
    store
        .current()
        .decide_str(
            &Identity::new("u", Vec::<String>::new()),
            "https://a.example/",
            Action::Paste,
        )
        .unwrap()
        .mode
}

#[test]
fn replace_refuses_invalid_and_stale_edits() {
    let store = PolicyStore::new(compile_str(V1, Path::new("t.toml")).unwrap(), "boot");
    assert_eq!(store.version(), 1);
    let before = store.current();

    let mut d = doc(V1);
    d.rules[0].paste = Some(policies::ActionSetting::mode(Mode::Scan)); // scan without profiles
    let err = store.replace(d, "alice", Some(1)).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert_eq!(err.problems()[0].field, "rules[0].paste");
    assert!(
        Arc::ptr_eq(&before, &store.current()),
        "old policy stays in force"
    );
    assert_eq!(store.version(), 1);

    let mut d = doc(V1);
    d.rules[0].paste = Some(policies::ActionSetting::mode(Mode::Block));
    assert_eq!(store.replace(d.clone(), "alice", Some(1)).unwrap(), 2);
    assert_eq!(paste_mode(&store), Mode::Block);
    // A reader holding the old Arc still sees the old rules.
    assert_eq!(
        before
            .decide_str(&Identity::default(), "https://a.example/", Action::Paste)
            .unwrap()
            .mode,
        Mode::Allow
    );

    // Bob edited from version 1 too: refused, alice's change survives.
    let err = store.replace(doc(V1), "bob", Some(1)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 1,
                current: 2
            }
        ),
        "{err}"
    );
    assert_eq!(paste_mode(&store), Mode::Block);

    let h = store.history();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].author, "alice");
    assert_eq!(
        h[1].summary,
        vec!["rule `everyone` changed: paste".to_owned()]
    );
}

#[test]
fn rollback_and_persistence_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let hist = dir.path().join("history");
    std::fs::write(&file, V1).unwrap();

    let store = PolicyStore::open(&file, &hist).unwrap();
    assert_eq!(store.version(), 1);
    let mut d = doc(V1);
    d.rules[0].paste = Some(policies::ActionSetting::mode(Mode::Block));
    d.rules.push(policies::RuleDoc {
        name: "second".into(),
        copy: Some(policies::ActionSetting::mode(Mode::Block)),
        ..Default::default()
    });
    assert_eq!(store.replace(d, "alice", Some(1)).unwrap(), 2);
    // Written back to the file; reloading it is a no-op.
    assert!(std::fs::read_to_string(&file).unwrap().contains("second"));
    assert_eq!(store.reload_file().unwrap(), None);

    assert_eq!(store.rollback(1, "carol", Some(2)).unwrap(), 3);
    assert_eq!(paste_mode(&store), Mode::Allow);
    let h = store.history();
    assert_eq!(h[2].rollback_of, Some(1));
    assert!(
        h[2].summary.iter().any(|s| s == "rule `second` removed"),
        "{:?}",
        h[2].summary
    );
    assert!(matches!(
        store.rollback(99, "carol", None),
        Err(Error::UnknownVersion(99))
    ));
    drop(store);

    // Restart: same version, same history.
    let store = PolicyStore::open(&file, &hist).unwrap();
    assert_eq!(store.version(), 3);
    assert_eq!(store.history().len(), 3);
    assert_eq!(paste_mode(&store), Mode::Allow);

    // Hand edit of the file, then reload.
    std::fs::write(&file, V1.replace("\"allow\"", "\"block\"")).unwrap();
    assert_eq!(store.reload_file().unwrap(), Some(4));
    assert_eq!(paste_mode(&store), Mode::Block);
    assert!(store.history()[3].author.starts_with("file:"));

    // A broken file is refused with its position; the policy stays.
    std::fs::write(&file, "[[rules]]\nname = \"x\"\npaste = \"perhaps\"\n").unwrap();
    let err = store.reload_file().unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(p.location.as_ref().unwrap().line, 3);
    assert_eq!(store.version(), 4);
    assert_eq!(paste_mode(&store), Mode::Block);

    // A file changed while the isolator was down becomes a new version.
    std::fs::write(&file, V1).unwrap();
    drop(store);
    let store = PolicyStore::open(&file, &hist).unwrap();
    assert_eq!(store.version(), 5);
}

#[test]
fn concurrent_writers_never_lose_an_update() {
    let store = Arc::new(PolicyStore::new(
        compile_str(V1, Path::new("t.toml")).unwrap(),
        "boot",
    ));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                // Each writer retries on conflict, re-reading the latest document.
                loop {
                    let snap = store.snapshot();
                    let mut d = snap.policy.document().clone();
                    d.rules.push(policies::RuleDoc {
                        name: format!("w{i}"),
                        print: Some(policies::ActionSetting::mode(Mode::Block)),
                        ..Default::default()
                    });
                    match store.replace(d, &format!("w{i}"), Some(snap.version)) {
                        Ok(v) => return v,
                        Err(Error::Conflict { .. }) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.version(), 9);
    assert_eq!(store.current().document().rules.len(), 9);
}
