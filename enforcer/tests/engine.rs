//! Engine behaviour: normalisation and span mapping, custom detectors,
//! profiles, and the incremental and stream scanners agreeing with a full scan.

use enforcer::{
    Confidence, CustomDetectorSpec, Engine, EngineBuilder, Error, ExactDataSet, ProfileSpec,
};

fn custom(json: &str) -> CustomDetectorSpec {
    serde_json::from_str(json).unwrap()
}

#[test]
fn evasions_are_normalised_and_spans_map_back() {
    let e = Engine::with_defaults();
    let text = "card: ４１１１\u{200B} １１１１ 1111-1111 thanks";
    let f = e
        .scan(text)
        .into_iter()
        .find(|f| f.detector == "credit_card")
        .expect("card found");
    assert!(text[f.start..f.end].starts_with('４'));
    assert!(text[f.start..f.end].ends_with("1111"));
    assert_eq!(&*f.evidence, "4111 **** ****-1111");
    // OCR look-alikes between digits.
    let ocr = "SSN 5S6-22-1O34";
    assert!(e
        .scan(ocr)
        .iter()
        .any(|f| f.detector == "us_ssn" && f.confidence == Confidence::High));
}

#[test]
fn evidence_never_holds_the_value() {
    let e = Engine::with_defaults();
    let text = "token ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5 and SSN 536-22-1234";
    for f in e.scan(text) {
        let value = &text[f.start..f.end];
        assert_ne!(&*f.evidence, value);
        assert!(f.evidence.contains('*'), "{f:?}");
    }
}

#[test]
fn custom_detectors_and_errors() {
    let mut b = EngineBuilder::new();
    b.custom_detector(custom(r#"{"id":"employee_id","kind":"regex","pattern":"EMP-[0-9]{6}","context":["employee"],"confidence":"medium"}"#)).unwrap();
    b.custom_detector(custom(
        r#"{"id":"codename","kind":"keywords","words":["Project Falcon"]}"#,
    ))
    .unwrap();
    let dup = b
        .custom_detector(custom(
            r#"{"id":"credit_card","kind":"regex","pattern":"x"}"#,
        ))
        .unwrap_err();
    assert!(matches!(dup, Error::DuplicateDetector(_)));
    let bad = b
        .custom_detector(custom(
            r#"{"id":"bad","kind":"regex","pattern":"EMP-([0-9]"}"#,
        ))
        .unwrap_err();
    assert!(
        bad.to_string().contains("detector `bad`") && bad.to_string().contains("offset"),
        "{bad}"
    );
    let e = b.build().unwrap();
    let found = e.scan(&format!(
        "employee EMP-123456 on project falcon; {} EMP-654321",
        "and so on ".repeat(20)
    ));
    let emp: Vec<_> = found
        .iter()
        .filter(|f| f.detector == "employee_id")
        .collect();
    assert_eq!(emp.len(), 2);
    assert_eq!(emp[0].confidence, Confidence::High);
    assert_eq!(emp[1].confidence, Confidence::Medium);
    assert!(found.iter().any(|f| f.detector == "codename"));
    assert!(e.has_detector("employee_id") && e.selection(&["all"]).is_ok());
}

#[test]
fn exact_data_match() {
    let data = ExactDataSet::from_csv(
        "customer_id,name\nCUST-99812,Ada Lovelace\n".as_bytes(),
        None,
    )
    .unwrap();
    let mut b = EngineBuilder::new();
    b.custom_detector(CustomDetectorSpec {
        id: "customers".into(),
        description: "customer list".into(),
        kind: enforcer::CustomKind::ExactData { data },
        context: vec![],
        confidence: Confidence::High,
    })
    .unwrap();
    let e = b.build().unwrap();
    let found = e.scan("Ticket from ada  LOVELACE (cust-99812).");
    assert_eq!(
        found.iter().filter(|f| f.detector == "customers").count(),
        2,
        "{found:?}"
    );
}

#[test]
fn profiles_thresholds_and_allow_lists() {
    let mut b = EngineBuilder::new();
    b.profile(ProfileSpec {
        id: "bulk_cards".into(),
        description: String::new(),
        detectors: vec!["credit_card".into()],
        min_confidence: Confidence::High,
        min_matches: 2,
        allow: vec!["4111 1111 1111 1111".into(), "re:5555.*".into()],
    })
    .unwrap();
    let unknown = b
        .profile(ProfileSpec {
            id: "x".into(),
            description: String::new(),
            detectors: vec!["nope".into()],
            min_confidence: Confidence::Low,
            min_matches: 1,
            allow: vec![],
        })
        .unwrap_err();
    assert!(matches!(unknown, Error::UnknownDetector { .. }));
    let e = b.build().unwrap();
    assert!(matches!(
        e.selection(&["missing"]),
        Err(Error::UnknownProfile(_))
    ));
    let sel = e.selection(&["bulk_cards"]).unwrap();
    let one = e.scan_selection("card 4012 8888 8888 1881", &sel);
    assert!(!one.is_match());
    let two = e.scan_selection("cards 4012 8888 8888 1881 and 3782 822463 10005", &sel);
    assert_eq!(two.fired, vec!["bulk_cards"]);
    let allowed = e.scan_selection(
        "cards 4111-1111-1111-1111 and 5555 5555 5555 4444 and 4012 8888 8888 1881",
        &sel,
    );
    assert!(!allowed.is_match(), "{allowed:?}");
}

const DOC: &str = "Hello team, SSN 536-22-1234 and card 4111 1111 1111 1111. \
Reach me at jane.doe@example.com or +44 20 7946 0958. \
token ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5 IBAN GB82 WEST 1234 5698 7654 32. ";

#[test]
fn field_scanner_matches_full_scan_after_every_edit() {
    let e = Engine::with_defaults();
    let sel = e.selection(&["all"]).unwrap();
    let mut field = e.field_scanner(&sel);
    let filler = "lorem ipsum dolor sit amet ".repeat(200);
    field.set_text(&filler);
    // Type the document character by character in the middle of the field.
    let mid = filler.len() / 2;
    let mut at = mid;
    for c in DOC.chars() {
        let mut buf = [0u8; 4];
        field.insert(at, c.encode_utf8(&mut buf)).unwrap();
        at += c.len_utf8();
        let full = e.scan_selection(field.text(), &sel);
        assert_eq!(
            field.report().findings,
            full.findings,
            "after typing up to {at}"
        );
    }
    // Delete a digit of the card: the card disappears, everything else stays.
    let card_at = field.text().find("4111 1111").unwrap();
    let r = field.delete(card_at + 2..card_at + 3).unwrap();
    assert_eq!(r.findings, e.scan_selection(field.text(), &sel).findings);
    assert!(!r.findings.iter().any(|f| f.detector == "credit_card"));
    assert!(field.delete(0..field.text().len() + 1).is_err());
}

/// Edits far from and near long findings (a JWT, a PEM key, a long
/// e-mail, a password assignment): the incremental scanner's short reach
/// (used when no `eyJ` / `-----BEGIN` is near) agrees with full scans.
#[test]
fn field_scanner_short_and_full_reach_agree_with_full_scans() {
    let e = Engine::with_defaults();
    let sel = e.selection(&["all"]).unwrap();
    let long_local = "a".repeat(60);
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n";
    let docs = [
        format!("mail {long_local}@sub.example-domain.com and password = Tr0ub4dor&3xyz then card 4111 1111 1111 1111 "),
        format!("Bearer {jwt} and more text here 536-22-1234 "),
        format!("{pem}-----END RSA PRIVATE KEY----- ssn 536-22-1234 "),
    ];
    for doc in &docs {
        for filler_len in [0usize, 300, 900, 2500] {
            let filler = "lorem ipsum dolor sit amet ".repeat(filler_len / 27 + 1);
            let mut field = e.field_scanner(&sel);
            field.set_text(&format!("{filler}{filler}"));
            let mut at = filler.len();
            for (k, c) in doc.chars().enumerate() {
                let mut buf = [0u8; 4];
                field.insert(at, c.encode_utf8(&mut buf)).unwrap();
                at += c.len_utf8();
                if k % 3 == 0 || k + 1 == doc.chars().count() {
                    let full = e.scan_selection(field.text(), &sel);
                    assert_eq!(field.report().findings, full.findings, "{doc:?} at {at}");
                }
            }
            // Backspaces from the end of the typed text.
            for _ in 0..40 {
                at -= 1;
                while !field.text().is_char_boundary(at) {
                    at -= 1;
                }
                let r = field.delete(at..at + 1).unwrap();
                assert_eq!(r.findings, e.scan_selection(field.text(), &sel).findings);
            }
        }
    }
}

#[test]
fn stream_scanner_matches_full_scan_for_any_chunk_size() {
    let e = Engine::with_defaults();
    let sel = e.selection(&["all"]).unwrap();
    let text = format!("{}{}", "filler words here and there ".repeat(300), DOC).repeat(4);
    let full = e.scan_selection(&text, &sel);
    for chunk in [1usize, 7, 100, 4096, 100_000] {
        let mut s = e.stream_scanner(&sel);
        let mut streamed = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let mut j = (i + chunk).min(text.len());
            while !text.is_char_boundary(j) {
                j += 1;
            }
            streamed.extend(s.push(&text[i..j]));
            i = j;
        }
        let report = s.finish();
        assert_eq!(report.findings, full.findings, "chunk {chunk}");
        assert_eq!(report.fired, full.fired);
        assert!(streamed.len() <= report.findings.len());
    }
}

#[test]
fn engine_is_send_sync_and_lists_itself() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    let e = Engine::with_defaults();
    let ids: Vec<_> = e.detectors().into_iter().map(|d| d.id).collect();
    assert!(ids.len() >= 45, "{ids:?}");
    for p in [
        "financial",
        "national_ids",
        "credentials",
        "pii",
        "health",
        "all",
    ] {
        assert!(e.has_profile(p));
    }
    let cc = e
        .detectors()
        .into_iter()
        .find(|d| d.id == "credit_card")
        .unwrap();
    assert!(
        cc.profiles.contains(&"financial".to_string()) && cc.profiles.contains(&"all".to_string())
    );
}
