//! Sensitivity labels, from files written by real producers (see
//! `tests/labels/README.md`) to findings and fired profiles: extraction
//! reports each file's labels, the label detectors turn them into
//! findings, and a profile of a `label` detector fires on the labelled
//! files and not on the others.

use enforcer::detect::{CustomDetectorSpec, CustomKind, ProfileSpec};
use enforcer::extract::{extract, Extraction, LabelSource, Limits};
use enforcer::{Confidence, Engine, EngineBuilder};

fn read(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/labels/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn extracted(name: &str) -> Extraction {
    let extraction = extract(name, &read(name), &Limits::default());
    if let Extraction::Unscannable { reason } = &extraction {
        panic!("{name}: unscannable: {reason}");
    }
    extraction
}

/// A label extraction must report: (name, source, path of the carrier).
type Want = (&'static str, LabelSource, &'static str);

/// Each file and the labels extraction must report.
#[test]
fn every_producer_s_labels_are_read_and_nothing_else() {
    use LabelSource::*;
    let cases: &[(&str, &[Want])] = &[
        (
            "xlsxwriter_msip_confidential.xlsx",
            &[(
                "Confidential",
                MsipProperty,
                "xlsxwriter_msip_confidential.xlsx",
            )],
        ),
        ("xlsxwriter_msip_disabled.xlsx", &[]),
        (
            "xlsxwriter_header_restricted.xlsx",
            &[(
                "Restricted",
                HeaderFooter,
                "xlsxwriter_header_restricted.xlsx",
            )],
        ),
        ("xlsxwriter_header_company.xlsx", &[]),
        (
            "openpyxl_msip_highly_confidential.xlsx",
            &[(
                "Highly Confidential",
                MsipProperty,
                "openpyxl_msip_highly_confidential.xlsx",
            )],
        ),
        (
            "pandoc_msip_public.docx",
            &[("Public", MsipProperty, "pandoc_msip_public.docx")],
        ),
        ("pandoc_unlabelled.docx", &[]),
        (
            "python_docx_header_confidential.docx",
            &[(
                "Confidential",
                HeaderFooter,
                "python_docx_header_confidential.docx",
            )],
        ),
        ("python_docx_header_company.docx", &[]),
        (
            "odfpy_internal.odt",
            &[
                ("Internal Use Only", HeaderFooter, "odfpy_internal.odt"),
                ("Internal", MsipProperty, "odfpy_internal.odt"),
            ],
        ),
        (
            "libreoffice_internal.docx",
            &[
                ("Internal", MsipProperty, "libreoffice_internal.docx"),
                (
                    "Internal Use Only",
                    HeaderFooter,
                    "libreoffice_internal.docx",
                ),
            ],
        ),
        (
            "libreoffice_internal.pdf",
            &[(
                "Internal Use Only",
                HeaderFooter,
                "libreoffice_internal.pdf",
            )],
        ),
        (
            "reportlab_strictly_confidential.pdf",
            &[(
                "Strictly Confidential",
                HeaderFooter,
                "reportlab_strictly_confidential.pdf",
            )],
        ),
        ("reportlab_unlabelled.pdf", &[]),
        (
            "pypdf_info_confidential.pdf",
            &[("Confidential", PdfInfo, "pypdf_info_confidential.pdf")],
        ),
        (
            "pikepdf_xmp_secret.pdf",
            &[("Secret", Xmp, "pikepdf_xmp_secret.pdf")],
        ),
        ("pikepdf_info_disabled.pdf", &[]),
        (
            "nested_labelled.zip",
            &[(
                "Confidential",
                MsipProperty,
                "nested_labelled.zip!/reports/q3.xlsx",
            )],
        ),
        (
            "nested_attachment.eml",
            &[(
                "Confidential",
                MsipProperty,
                "nested_attachment.eml!/q3.xlsx",
            )],
        ),
    ];
    let mut wrong = Vec::new();
    for (name, want) in cases {
        let extraction = extracted(name);
        let mut got: Vec<(String, LabelSource, String)> = extraction
            .labels()
            .iter()
            .map(|l| (l.name.clone(), l.source, l.path.clone()))
            .collect();
        let mut want: Vec<(String, LabelSource, String)> = want
            .iter()
            .map(|(n, s, p)| (n.to_string(), *s, p.to_string()))
            .collect();
        got.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        want.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        if got != want {
            wrong.push(format!("{name}: got {got:?}, want {want:?}"));
        }
        // MIP labels carry their id.
        for label in extraction.labels() {
            assert_eq!(
                label.source.is_msip(),
                label.id.is_some(),
                "{name}: {label:?}"
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// An engine with the policy example's detector and profile: labels
/// named Confidential or Highly Confidential (and their sub-labels).
fn engine() -> Engine {
    let mut builder = EngineBuilder::new();
    builder
        .custom_detector(CustomDetectorSpec {
            id: "label_confidential".into(),
            description: "Confidential labels".into(),
            kind: CustomKind::Label {
                names: vec![
                    "Confidential".into(),
                    "Highly Confidential*".into(),
                    "Strictly Confidential".into(),
                ],
            },
            context: Vec::new(),
            confidence: Confidence::Medium,
        })
        .unwrap();
    builder
        .profile(ProfileSpec {
            id: "labelled_confidential".into(),
            description: String::new(),
            detectors: vec!["label_confidential".into()],
            min_confidence: Confidence::Low,
            min_matches: 1,
            allow: Vec::new(),
        })
        .unwrap();
    builder.build().unwrap()
}

#[test]
fn a_label_profile_fires_on_confidential_files_only() {
    let engine = engine();
    let sel = engine.selection(&["labelled_confidential"]).unwrap();
    let fires = [
        "xlsxwriter_msip_confidential.xlsx",
        "openpyxl_msip_highly_confidential.xlsx",
        "python_docx_header_confidential.docx",
        "reportlab_strictly_confidential.pdf",
        "pypdf_info_confidential.pdf",
        "nested_labelled.zip",
        "nested_attachment.eml",
    ];
    let quiet = [
        "xlsxwriter_msip_disabled.xlsx",
        "xlsxwriter_header_company.xlsx",
        "xlsxwriter_header_restricted.xlsx",
        "pandoc_msip_public.docx",
        "pandoc_unlabelled.docx",
        "python_docx_header_company.docx",
        "libreoffice_internal.docx",
        "reportlab_unlabelled.pdf",
        "pikepdf_xmp_secret.pdf",
        "pikepdf_info_disabled.pdf",
    ];
    for name in fires {
        let report = engine.scan_extraction(&extracted(name), &sel);
        assert_eq!(
            report.fired,
            ["labelled_confidential"],
            "{name}: {report:?}"
        );
        let finding = &report.findings[0];
        assert_eq!(finding.detector, "label_confidential");
        assert_eq!(finding.confidence, Confidence::High);
        assert!(
            finding.evidence.contains("Confidential\""),
            "{name}: {}",
            finding.evidence
        );
    }
    for name in quiet {
        let report = engine.scan_extraction(&extracted(name), &sel);
        assert!(!report.is_match(), "{name}: {report:?}");
    }
}

#[test]
fn the_predefined_detector_fires_on_any_label_and_names_it() {
    let engine = Engine::with_defaults();
    let sel = engine.selection(&["classification"]).unwrap();
    let report = engine.scan_extraction(&extracted("pikepdf_xmp_secret.pdf"), &sel);
    assert_eq!(report.fired, ["classification"]);
    assert_eq!(report.findings[0].detector, "sensitivity_label");
    assert_eq!(
        &*report.findings[0].evidence,
        "\"Secret\" (MIP label in the PDF's XMP metadata)"
    );
    let report = engine.scan_extraction(&extracted("pandoc_unlabelled.docx"), &sel);
    assert!(!report.is_match(), "{report:?}");
    // Labels are not sensitive data: the `all` profile ignores them.
    let all = engine.selection(&["all"]).unwrap();
    let report = engine.scan_extraction(&extracted("xlsxwriter_msip_confidential.xlsx"), &all);
    assert!(!report.is_match(), "{report:?}");
}

#[test]
fn a_profile_allow_list_names_labels() {
    let mut builder = EngineBuilder::new();
    builder
        .profile(ProfileSpec {
            id: "labelled".into(),
            description: String::new(),
            detectors: vec!["sensitivity_label".into()],
            min_confidence: Confidence::Low,
            min_matches: 1,
            allow: vec!["Public".into()],
        })
        .unwrap();
    let engine = builder.build().unwrap();
    let sel = engine.selection(&["labelled"]).unwrap();
    let public = engine.scan_extraction(&extracted("pandoc_msip_public.docx"), &sel);
    assert!(!public.is_match(), "{public:?}");
    let restricted = engine.scan_extraction(&extracted("xlsxwriter_header_restricted.xlsx"), &sel);
    assert!(restricted.is_match(), "{restricted:?}");
}

/// Pasted text: a marking on its first or last lines is its label; the
/// word inside a sentence is not.
#[test]
fn text_counts_a_marking_on_its_first_or_last_lines() {
    let engine = engine();
    let sel = engine.selection(&["labelled_confidential"]).unwrap();
    let marked = "STRICTLY CONFIDENTIAL\n\nBoard minutes\nThe merger closes in May.\n";
    let report = engine.scan_selection(marked, &sel);
    assert!(report.is_match(), "{report:?}");
    assert_eq!(
        &marked[report.findings[0].start..report.findings[0].end],
        "STRICTLY CONFIDENTIAL"
    );
    let footer = "Board minutes\nThe merger closes in May.\n\n-- Confidential --\n";
    assert!(engine.scan_selection(footer, &sel).is_match());
    for text in [
        "This is not confidential.\nThe merger closes in May.\n",
        "Board minutes\nAgenda\nCONFIDENTIAL\nThe merger\nfirst item\ncloses in May.\n",
        "Highly confidential material is kept in the safe.",
    ] {
        assert!(!engine.scan_selection(text, &sel).is_match(), "{text}");
    }
}
