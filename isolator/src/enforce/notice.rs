//! The words users see when a gate blocks (or audits) an action: what was
//! stopped, why (naming the kind of data, never the data), and what to do.

use policies::Action;

use super::verdict::{Outcome, Verdict};

/// A plural noun phrase for what a detector finds ("Card numbers").
pub fn detector_noun(id: &str) -> String {
    let known = match id {
        "credit_card" => "Card numbers",
        "iban" => "Bank account numbers (IBAN)",
        "aba_routing" => "Bank routing numbers",
        "swift_bic" => "SWIFT codes",
        "us_bank_account" => "Bank account numbers",
        "us_ssn" => "Social Security numbers",
        "us_itin" => "Taxpayer identification numbers",
        "us_passport" => "Passport numbers",
        "uk_nino" => "National Insurance numbers",
        "uk_nhs" => "NHS numbers",
        "ca_sin" => "Social Insurance numbers",
        "au_tfn" => "Tax file numbers",
        "in_aadhaar" => "Aadhaar numbers",
        "in_pan" => "PAN numbers",
        "fr_nir" => "French social security numbers",
        "es_dni" => "DNI numbers",
        "it_fiscal_code" => "Italian fiscal codes",
        "nl_bsn" => "BSN numbers",
        "br_cpf" => "CPF numbers",
        "sg_nric" => "NRIC numbers",
        "za_id" => "South African ID numbers",
        "pl_pesel" => "PESEL numbers",
        "private_key" => "Private keys",
        "jwt" => "Access tokens (JWT)",
        "password_assignment" => "Passwords",
        "url_credentials" => "Passwords in links",
        "email" => "Email addresses",
        "phone_number" => "Phone numbers",
        "date_of_birth" => "Dates of birth",
        "ip_address" => "IP addresses",
        "us_npi" => "Provider numbers (NPI)",
        "us_dea" => "DEA numbers",
        "us_mbi" => "Medicare numbers",
        "icd10_code" => "Diagnosis codes",
        "medication" => "Medication names",
        "diagnosis" => "Diagnoses",
        "document_match" => "Passages of confidential documents",
        "sensitivity_label" => "Documents with a sensitivity label",
        "source_code" => "Source code",
        other
            if other.ends_with("_token")
                || other.ends_with("_key")
                || other.ends_with("_key_id")
                || other.ends_with("_webhook") =>
        {
            "API keys and tokens"
        }
        _ => "",
    };
    if known.is_empty() {
        format!("Data matching \u{201c}{id}\u{201d}")
    } else {
        known.to_owned()
    }
}

fn verb(gate: Action) -> &'static str {
    match gate {
        Action::Copy => "copied from",
        Action::Paste => "pasted into",
        Action::Upload => "uploaded to",
        Action::Download => "downloaded from",
        Action::Keyboard => "typed into",
        Action::Print => "printed from",
        Action::Submit => "sent from",
        Action::Page => "shown from",
    }
}

fn subject(gate: Action) -> &'static str {
    match gate {
        Action::Copy => "Copying",
        Action::Paste => "Pasting",
        Action::Upload => "Uploading files",
        Action::Download => "Downloading files",
        Action::Keyboard => "Typing",
        Action::Print => "Printing",
        Action::Submit => "Sending forms",
        Action::Page => "Showing this page",
    }
}

/// The notice for a verdict, or `None` when the user need not be told
/// (plain allows).
pub fn text(gate: Action, v: &Verdict) -> Option<String> {
    let app = if v.app == policies::OTHER_APP {
        "this site".to_owned()
    } else {
        v.app.clone()
    };
    match v.outcome {
        Outcome::Allow => None,
        Outcome::Audit => {
            let what = nouns(&v.detectors);
            Some(format!(
                "{what} {} {app} are recorded for your organisation's security team.",
                verb(gate)
            ))
        }
        Outcome::Block if v.read_only => Some(format!(
            "{} is not allowed: {app} is read-only for you. Contact your admin if you need to change something.",
            subject(gate)
        )),
        Outcome::Block if !v.detectors.is_empty() => Some(format!(
            "{} cannot be {} {app}. Contact your admin.",
            nouns(&v.detectors),
            verb(gate)
        )),
        Outcome::Block if v.failed_closed => Some(format!(
            "{} was blocked: {}. Try again, or contact your admin.",
            subject(gate),
            v.reason
        )),
        Outcome::Block => Some(format!(
            "{} is not allowed on {app}. Contact your admin.",
            subject(gate)
        )),
    }
}

fn nouns(detectors: &[String]) -> String {
    let mut list: Vec<String> = Vec::new();
    for d in detectors {
        let n = detector_noun(d);
        if !list.contains(&n) {
            list.push(n);
        }
    }
    match list.len() {
        0 => "Sensitive data".to_owned(),
        1 => list.remove(0),
        _ => {
            let last = list.pop().unwrap_or_default();
            format!("{} and {}", list.join(", "), last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(outcome: Outcome, detectors: &[&str]) -> Verdict {
        Verdict {
            outcome,
            reason: "r".into(),
            detectors: detectors.iter().map(|s| s.to_string()).collect(),
            evidence: vec![],
            fired: vec![],
            rule: "rule".into(),
            app: "webmail".into(),
            scan_time: Default::default(),
            failed_closed: false,
            read_only: false,
        }
    }

    #[test]
    fn notices_name_the_kind_of_data_and_what_to_do() {
        let v = verdict(Outcome::Block, &["credit_card"]);
        assert_eq!(
            text(Action::Paste, &v).unwrap(),
            "Card numbers cannot be pasted into webmail. Contact your admin."
        );
        let v = verdict(Outcome::Block, &["us_ssn", "credit_card", "github_token"]);
        assert_eq!(
            text(Action::Copy, &v).unwrap(),
            "Social Security numbers, Card numbers and API keys and tokens cannot be copied from webmail. Contact your admin."
        );
        assert!(text(Action::Paste, &verdict(Outcome::Allow, &[])).is_none());
        let mut v = verdict(Outcome::Block, &[]);
        v.read_only = true;
        assert!(text(Action::Keyboard, &v).unwrap().contains("read-only"));
        assert_eq!(
            detector_noun("project_codename"),
            "Data matching \u{201c}project_codename\u{201d}"
        );
    }
}
