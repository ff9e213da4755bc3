//! Detectors found from literal anchors and keywords: secrets, e-mail
//! addresses, bank identifier codes.

use super::placeholder::is_placeholder;
use super::*;
use crate::detect::validators as v;
use Confidence::{High, Medium};

/// A byte of an e-mail address's local part (as in the e-mail pattern).
fn email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// A prefixed token (the prefix is in the match): not a placeholder, and
/// random-looking over the whole key (Shannon entropy over every
/// character, not only a tail after the last `_` or `-`).
pub(super) fn token_value(m: &str) -> Option<Score> {
    (v::entropy(m) > 3.0 && !is_placeholder(m)).then_some(())?;
    s(High, High)
}

fn aws_access_key(m: &str) -> Option<Score> {
    // Base32 body: digits 0,1,8,9 never appear in real key ids.
    (!is_placeholder(m)
        && !m[4..]
            .bytes()
            .any(|b| matches!(b, b'0' | b'1' | b'8' | b'9')))
    .then_some(())?;
    s(High, High)
}

fn aws_secret(m: &str) -> Option<Score> {
    (v::entropy(m) > 4.0
        && !is_placeholder(m)
        && m.bytes().any(|b| b.is_ascii_digit())
        && m.bytes().any(|b| b.is_ascii_uppercase()))
    .then_some(())?;
    ctx_only(High)
}

/// A GitHub token: shape and entropy, and the CRC32 tail of the new
/// formats (`ghp_` + 30 random base62 characters + 6 characters of the
/// CRC32 of those 30 in base62): high when it checks, medium otherwise
/// (older 40-hex tokens and the fine-grained `github_pat_` have none).
fn github_token(m: &str) -> Option<Score> {
    token_value(m)?;
    let body = m.split_once('_').map_or("", |(_, b)| b);
    if m.starts_with("github_pat_") || v::github_crc32(body) {
        s(High, High)
    } else {
        s(Medium, High)
    }
}

/// An OpenAI key: not an Anthropic key (`sk-ant-`, its own detector).
fn openai_key(m: &str) -> Option<Score> {
    (!m.starts_with("sk-ant-")).then_some(())?;
    token_value(m)
}

/// A Twilio key: not a placeholder, and a random-looking body. 32 random
/// hex characters carry 3.5 bits a character on average, but fall to 3.0
/// about once in 9,000 keys (`SK429f40044e...`: 2.98); under 2.5, none of
/// 10^8 random bodies did (the lowest, 2.54).
fn twilio(m: &str) -> Option<Score> {
    (!is_placeholder(m) && v::entropy(&m[2..]) > 2.5).then_some(())?;
    s(Medium, High)
}

fn jwt(m: &str) -> Option<Score> {
    use base64::Engine as _;
    let header = m.split('.').next()?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    json.get("alg")?.as_str()?;
    s(High, High)
}

/// Anchors of a JWT: the base64url of `{"`, and of `{` followed by
/// whitespace (`{ "`, `{\n  "`, `{\r\n`, `{\t"`).
pub(crate) const JWT_ANCHORS: [&str; 8] = [
    "eyJ", "eyAi", "eyAg", "ewog", "ewoi", "ewoJ", "ew0K", "ewki",
];

const PLACEHOLDERS: &[&str] = &[
    "password",
    "changeme",
    "example",
    "xxxxxxxx",
    "********",
    "<password>",
    "redacted",
    "placeholder",
    "your_password",
    "secret",
];

/// Whether a value is a code expression rather than a literal: a path of
/// digit-free identifiers (`os.environ`, `std::env::var`, `getenv`,
/// `settings.DB_PASSWORD`) that is called or indexed (`(`, `[`) or, when it
/// has several segments, is the whole value.
fn code_expression(value: &str) -> bool {
    let mut segments = 0;
    let mut rest = value;
    loop {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
            .count();
        if n == 0 || rest.as_bytes().get(n).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        segments += 1;
        rest = &rest[n..];
        if let Some(r) = rest.strip_prefix("::").or_else(|| rest.strip_prefix('.')) {
            rest = r;
        } else {
            break;
        }
    }
    rest.starts_with('(') || rest.starts_with('[') || (rest.is_empty() && segments > 1)
}

fn password_value(m: &str) -> Option<Score> {
    // Sentence punctuation after the value is prose, not part of a secret
    // (`the pass is careful.`).
    let value = m
        .trim_matches(|c| c == '"' || c == '\'')
        .trim_end_matches(['.', '!', '?', ':', ')']);
    let lower = value.to_ascii_lowercase();
    if value.len() < 8
        || PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || value.starts_with('$')
        || value.starts_with('{')
        || code_expression(value)
    {
        return None;
    }
    let classes = [
        value.bytes().any(|b| b.is_ascii_lowercase()),
        value.bytes().any(|b| b.is_ascii_uppercase()),
        value.bytes().any(|b| b.is_ascii_digit()),
        value.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&x| x)
    .count();
    let e = v::entropy(value);
    // Placeholders last: most values (code expressions, words) are
    // rejected above, and this is the costlier test.
    if e >= 2.8 && classes >= 2 && is_placeholder(value) {
        return None;
    }
    if e >= 3.5 && classes >= 3 {
        s(High, High)
    } else if e >= 2.8 && classes >= 2 {
        s(Medium, Medium)
    } else {
        None
    }
}

fn url_credentials(m: &str) -> Option<Score> {
    let after_scheme = m.split_once("://")?.1;
    let userinfo = after_scheme.rsplit_once('@')?.0;
    let (user, pass) = userinfo.split_once(':')?;
    let lower = pass.to_ascii_lowercase();
    // `host:8000@...` is a host and port, not a user and password.
    let port = pass.len() <= 5 && pass.bytes().all(|b| b.is_ascii_digit()) && user.contains('.');
    (!pass.is_empty()
        && !port
        && !PLACEHOLDERS.contains(&lower.as_str())
        && !is_placeholder(pass)
        && !pass.starts_with('$')
        && !pass.starts_with('{'))
    .then_some(())?;
    s(High, High)
}

fn email(m: &str) -> Option<Score> {
    let (local, domain) = m.rsplit_once('@')?;
    let tld = domain.rsplit('.').next()?;
    let double_dot = |x: &str| x.as_bytes().windows(2).any(|w| w == b"..");
    (!local.starts_with('.')
        && !local.ends_with('.')
        && !double_dot(local)
        && tld.len() >= 2
        && !double_dot(domain))
    .then_some(())?;
    s(Medium, High)
}

fn swift_bic(m: &str) -> Option<Score> {
    // ISO 9362: bank code, an ISO 3166 country, location, branch.
    (v::country_code(&m[4..6]) && !is_placeholder(m)).then_some(())?;
    ctx_only(High)
}

/// The detectors found from literal anchors and keywords, in table order.
pub(super) fn literal_detectors() -> Vec<Predefined> {
    use Category::*;
    use Kind::*;
    let a = |id,
             description,
             validation,
             literals,
             pattern,
             before,
             after,
             check: fn(&str) -> Option<Score>,
             context| Predefined {
        id,
        description,
        category: Credentials,
        validation,
        context,
        kind: Anchored {
            literals,
            pattern,
            before,
            left: None,
            matcher: None,
            after,
            check,
        },
        reveal: (4, 0),
    };
    vec![
        Predefined {
            id: "swift_bic",
            description: "SWIFT/BIC bank identifier code",
            category: Financial,
            validation: "8 or 11 characters, an ISO 3166 country code in 5th-6th place; needs context (no checksum)",
            context: &["swift", "bic", "swift code", "bic code"],
            kind: Keyword { keywords: &["swift", "bic"], pattern: r"\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b", after: 40, check: swift_bic },
            reveal: (4, 0),
        },
        a("aws_access_key_id", "AWS access key id", "AKIA/ASIA/ABIA/ACCA + 16 base32 characters", &["AKIA", "ASIA", "ABIA", "ACCA"], r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b", 0, 20, aws_access_key, &["aws", "access key"]),
        Predefined {
            id: "aws_secret_access_key",
            description: "AWS secret access key",
            category: Credentials,
            validation: "40 base64 characters with high entropy after an AWS secret keyword",
            context: &["aws_secret_access_key", "aws secret", "secret access key", "secretaccesskey", "aws_secret"],
            kind: Keyword {
                keywords: &["aws_secret_access_key", "aws_secret", "secret_access_key", "secretaccesskey", "secret access key", "aws secret"],
                pattern: r"(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])",
                after: 80,
                check: aws_secret,
            },
            reveal: (4, 0),
        },
        a("github_token", "GitHub token (classic and fine-grained)", "ghp_/gho_/ghu_/ghs_/ghr_ + 36 (CRC32 tail checked: high when it holds, medium otherwise), or github_pat_ + 82; placeholders rejected", &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"], r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})\b", 0, 260, github_token, &["github"]),
        a("gitlab_token", "GitLab token", "glpat-/gldt-/glrt-/glptt-/glsoat-/glcbt-/glffct-/glft-/glimt-/glagent-/gloas- + 20+ characters; placeholders rejected", &["glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glcbt-", "glffct-", "glft-", "glimt-", "glagent-", "gloas-"], r"\bgl(?:pat|dt|rt|ptt|soat|cbt|ffct|ft|imt|agent|oas)-[A-Za-z0-9_\-]{20,64}\b", 0, 80, token_value, &["gitlab"]),
        a("slack_token", "Slack token (bot, user, workspace, legacy, configuration and refresh, app-level)", "xoxb-/xoxp-/xoxa-/xoxr-/xoxs-/xoxo-/xoxe- with numeric segments, xoxe.xoxb-/xoxe.xoxp- configuration tokens, xapp- app tokens; placeholders rejected", &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe-", "xoxe.", "xapp-"], r"\b(?:xox[bpaerso]-[0-9]{1,14}-[A-Za-z0-9\-]{8,240}|xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{100,200}|xapp-[0-9]-[A-Z0-9]{6,16}-[0-9]{6,16}-[A-Za-z0-9]{16,80})\b", 0, 255, token_value, &["slack"]),
        a("slack_webhook", "Slack incoming webhook URL", "hooks.slack.com/services/T.../B.../secret", &["hooks.slack.com/"], r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9]{8,}/[A-Za-z0-9]{8,}/[A-Za-z0-9]{16,}", 8, 160, token_value, &["slack", "webhook"]),
        a("stripe_secret_key", "Stripe secret or restricted key", "sk_live_/rk_live_/sk_test_ + 24+ characters", &["sk_live_", "rk_live_", "sk_test_", "rk_test_"], r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{24,99}\b", 0, 120, token_value, &["stripe"]),
        a("google_api_key", "Google API key", "AIza + 35 characters", &["AIza"], r"\bAIza[0-9A-Za-z_\-]{35}\b", 0, 40, token_value, &["google", "api key", "gcp"]),
        a("openai_api_key", "OpenAI API key", "sk- / sk-proj- / sk-svcacct- / sk-admin- + 32+ characters", &["sk-"], r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,200}\b", 0, 220, openai_key, &["openai", "gpt", "api key"]),
        a("npm_token", "npm access token", "npm_ + 36 characters", &["npm_"], r"\bnpm_[A-Za-z0-9]{36}\b", 0, 40, super::saas::npm_token, &["npm", "registry"]),
        a("pypi_token", "PyPI upload token", "pypi-AgEIcHlwaS5vcmc + 50+ characters", &["pypi-AgEIcHlwaS5vcmc"], r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,200}\b", 0, 220, token_value, &["pypi", "twine"]),
        a("twilio_api_key", "Twilio API key", "SK + 32 hex characters", &["SK"], r"\bSK[0-9a-fA-F]{32}\b", 0, 34, twilio, &["twilio"]),
        a("sendgrid_api_key", "SendGrid API key", "SG. + 22 + . + 43 characters", &["SG."], r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b", 0, 70, token_value, &["sendgrid"]),
        Predefined {
            id: "private_key",
            description: "Private key (PEM block: RSA, EC, DSA, OpenSSH, PGP, PKCS#8, encrypted)",
            category: Credentials,
            validation: "PEM BEGIN line naming a private key, followed by a base64 body (line breaks raw or escaped as `\\n` in JSON, as in cloud service-account files)",
            context: &[],
            kind: Anchored {
                literals: &["-----BEGIN"],
                pattern: r"-----BEGIN[ A-Z0-9]{0,24}PRIVATE KEY(?: BLOCK)?-----(?:[\r\n]|\\[rn])+(?:[A-Za-z\-]+: [^\r\n\\]*(?:[\r\n]|\\[rn])+)*(?:[\r\n]|\\[rn])*[A-Za-z0-9+/=]{16,80}",
                before: 0,
                left: None,
                matcher: None,
                after: 400,
                check: token_value,
            },
            reveal: (40, 0),
        },
        a("jwt", "JSON Web Token", "three base64url segments (payload up to 3,000 characters); header decodes to JSON with `alg` (whitespace in the header JSON allowed)", &JWT_ANCHORS, r"\b(?:eyJ|eyA[ig]|ewo[giJ]|ew0K|ewki)[A-Za-z0-9_\-]{4,1000}\.[A-Za-z0-9_\-]{2,3000}\.[A-Za-z0-9_\-]{0,700}", 0, 4710, jwt, &["jwt", "bearer", "token", "authorization"]),
        Predefined {
            id: "password_assignment",
            description: "Password or secret assigned in configuration, code or prose",
            category: Credentials,
            validation: "password keyword, `=`/`:`, a value of 8+ characters with high entropy and mixed classes, placeholders rejected",
            context: &[],
            kind: Keyword {
                keywords: &["password", "passwd", "pwd", "pass", "secret", "client_secret", "api_key", "apikey", "passphrase", "db_password", "auth_token", "access_token"],
                pattern: r#"^["']?\s*(?:=|:|:=|=>|\sis:?)\s*["']?([^\s"',;]{8,128})"#,
                after: 160,
                check: password_value,
            },
            reveal: (2, 0),
        },
        a("url_credentials", "Credentials embedded in a URL (user:password@host)", "scheme://user:password@host with a non-placeholder password", &["://"], r#"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s:/@"'<>`]{1,64}:[^\s/@"'<>`]{1,128}@[A-Za-z0-9.\-]+"#, 17, 260, url_credentials, &[]),
        Predefined {
            id: "email",
            description: "Email address",
            category: Pii,
            validation: "RFC 5322 dot-atom local part, domain with a 2+ letter TLD",
            context: &["email", "e-mail", "mail", "contact"],
            kind: Anchored { literals: &["@"], pattern: r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b", before: 64, left: Some(email_local), matcher: Some(crate::detect::email::match_end), after: 255, check: email },
            reveal: (1, 0),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_expressions_are_not_passwords() {
        for v in [
            "os.environ[",
            "std::env::var(",
            "getenv(",
            "settings.DB_PASSWORD",
            "process.env.DB_PASS",
        ] {
            assert!(code_expression(v), "{v}");
            assert_eq!(password_value(v), None, "{v}");
        }
        for v in ["Summer2024(x", "P4ss.w0rd!", "Tr0ub4dor&3", "hunter22word"] {
            assert!(!code_expression(v), "{v}");
        }
        assert!(password_value("Tr0ub4dor&3x").is_some());
        // A word at the end of a sentence is not a password.
        assert_eq!(password_value("careful."), None);
        assert_eq!(password_value("together!"), None);
    }
}
