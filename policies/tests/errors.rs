//! Invalid documents: every problem listed, each at file:line:column.

use std::path::Path;

use policies::{compile_str, Error, Problem};

fn problems(src: &str) -> Vec<Problem> {
    match compile_str(src, Path::new("bad.toml")) {
        Ok(_) => panic!("document should be refused"),
        Err(Error::Invalid(p)) => p.0,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn at(p: &Problem) -> (usize, usize) {
    let loc = p
        .location
        .as_ref()
        .unwrap_or_else(|| panic!("no location for {p}"));
    assert_eq!(loc.file, Path::new("bad.toml"));
    (loc.line, loc.column)
}

#[test]
fn lists_every_problem_with_positions() {
    let src = r#"[[apps]]
name = "mail"
hosts = ["mail.example.com", "https://x.com"]

[[apps]]
name = "Mail"
hosts = ["mail.example.com"]

[[detectors]]
id = "codes"
kind = "keywords"

[[profiles]]
id = "secret"
detectors = ["codez"]

[[rules]]
name = "one"
apps = ["mial"]
paste = { mode = "scan", profiles = ["nope"] }
upload = "scan"

[[rules]]
name = "one"
read_only = true
keyboard = "allow"
copy = { mode = "allow", on_match = "audit" }
"#;
    let ps = problems(src);
    let text: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
    let find = |needle: &str| {
        ps.iter()
            .find(|p| p.message.contains(needle))
            .unwrap_or_else(|| panic!("no problem mentioning {needle:?} in {text:#?}"))
    };
    assert_eq!(at(find("has a scheme")), (3, 30));
    assert_eq!(find("has a scheme").field, "apps[0].hosts[1]");
    assert_eq!(at(find("duplicate app name")), (6, 8));
    assert_eq!(at(find("overlaps with app `mail`")), (7, 10));
    assert_eq!(at(find("keywords detector needs")).0, 9);
    assert_eq!(at(find("unknown detector `codez`")), (15, 14));
    assert!(find("unknown app `mial`")
        .message
        .contains("did you mean `mail`"));
    assert_eq!(at(find("unknown app `mial`")), (19, 9));
    assert_eq!(at(find("`scan` needs profiles")), (21, 10));
    assert_eq!(at(find("duplicate rule name")), (24, 8));
    assert_eq!(at(find("contradicts")), (26, 12));
    assert_eq!(at(find("on_match only applies")).0, 27);
    assert!(ps.len() >= 10, "{text:#?}");
}

#[test]
fn syntax_and_unknown_keys_are_located() {
    let ps = problems("[[rules]]\nname = \"a\"\nread_onyl = true\n");
    assert_eq!(ps.len(), 1);
    assert!(ps[0].message.contains("read_onyl"), "{}", ps[0]);
    assert_eq!(at(&ps[0]).0, 3);

    let ps = problems("[[rules]]\nname = \"a\"\npaste = \"maybe\"\n");
    assert!(ps[0].message.contains("maybe"), "{}", ps[0]);
    assert_eq!(at(&ps[0]).0, 3);

    let ps = problems("[[rules]]\nname = \"a\"\ncopi = \"allow\"\n");
    assert!(ps[0].message.contains("copi"), "{}", ps[0]);

    let ps = problems("[defaults]\nmax_upload_bytes = \"10 parsecs\"\n");
    assert!(ps[0].message.contains("parsecs"), "{}", ps[0]);
    assert_eq!(at(&ps[0]).0, 2);

    let ps = problems("[[rules]\n");
    assert_eq!(at(&ps[0]).0, 1);
}

#[test]
fn bad_regex_and_missing_csv() {
    let src = r#"
[[detectors]]
id = "broken"
kind = "regex"
pattern = '(unclosed'

[[detectors]]
id = "people"
kind = "exact_data"
csv = "does/not/exist.csv"

[[rules]]
name = "r"
paste = { mode = "scan", profiles = ["financial", "nope"] }
"#;
    let ps = problems(src);
    // Rules are still checked although the engine could not be built.
    let unknown = ps
        .iter()
        .find(|p| p.message.contains("unknown profile `nope`"))
        .expect("profile problem");
    assert_eq!(at(unknown).0, 14);
    assert!(!ps.iter().any(|p| p.message.contains("`financial`")));
    let regex = ps
        .iter()
        .find(|p| p.field == "detectors[0].pattern")
        .expect("regex problem");
    assert_eq!(at(regex).0, 5);
    let csv = ps
        .iter()
        .find(|p| p.field == "detectors[1].csv")
        .expect("csv problem");
    assert!(csv.message.contains("exist.csv"), "{csv}");
    assert_eq!(at(csv).0, 10);
}

#[test]
fn defaults_take_no_selectors_and_predefined_ids_are_reserved() {
    let src = r#"
[defaults]
users = ["x"]

[[profiles]]
id = "financial"
detectors = ["credit_card"]
"#;
    let ps = problems(src);
    assert!(ps.iter().any(|p| p.field == "defaults.users"));
    assert!(ps.iter().any(|p| p.message.contains("predefined profile")));
}

#[test]
fn ocr_images_needs_a_page_scan_on_the_same_rule() {
    let src = r#"
[[rules]]
name = "no-page"
ocr_images = true

[[rules]]
name = "page-allowed"
page = "allow"
ocr_images = true

[[rules]]
name = "fine"
page = { mode = "scan", profiles = ["financial"] }
ocr_images = true

[[rules]]
name = "off"
ocr_images = false
"#;
    let ps = problems(src);
    let ocr: Vec<&Problem> = ps
        .iter()
        .filter(|p| p.field.ends_with("ocr_images"))
        .collect();
    assert_eq!(ocr.len(), 2, "{ps:?}");
    assert_eq!(ocr[0].field, "rules[0].ocr_images");
    assert!(ocr[0].message.contains("does not set `page`"), "{}", ocr[0]);
    assert_eq!(at(ocr[0]).0, 4, "{}", ocr[0]);
    assert_eq!(ocr[1].field, "rules[1].ocr_images");
    assert!(ocr[1].message.contains("`page` is `allow`"), "{}", ocr[1]);
}

#[test]
fn ocr_images_must_be_a_boolean() {
    let ps = problems("[[rules]]\nname = \"x\"\npage = \"allow\"\nocr_images = \"yes\"\n");
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(at(&ps[0]).0, 4, "{}", ps[0]);
}

#[test]
fn fingerprints_is_a_profile_rules_may_name_and_no_custom_profile_may_take() {
    let ok = "[[rules]]\nname = \"docs\"\npaste = { mode = \"scan\", profiles = [\"fingerprints\"] }\nupload = { mode = \"scan\", profiles = [\"financial\", \"fingerprints\"] }\n";
    let compiled = policies::compile_str(ok, std::path::Path::new("p.toml")).unwrap();
    let who = policies::Identity::new("ann", Vec::<String>::new());
    let url = url::Url::parse("https://docs.example.com/").unwrap();
    let paste = compiled.decide(&who, &url, policies::Action::Paste);
    assert!(paste.fingerprints());
    // Only `fingerprints`: an empty selection, nothing for the pattern
    // engine to find (but every gate that scans has a selection to use).
    let sel = paste.selection.as_ref().expect("a selection");
    assert!(sel.profile_ids().is_empty());
    let upload = compiled.decide(&who, &url, policies::Action::Upload);
    assert!(upload.fingerprints() && upload.selection.is_some());
    let taken = "[[profiles]]\nid = \"fingerprints\"\ndetectors = [\"credit_card\"]\n";
    let err = policies::compile_str(taken, std::path::Path::new("p.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`fingerprints` is a predefined profile"),
        "{err}"
    );
}
