//! What a user may type into the isolated browser's address bar.
//!
//! Only `http:` and `https:` (and `about:blank`). Everything else that
//! Chromium would happily open is refused with a message that says why:
//! `file:` reads the server's disk, `chrome:`/`devtools:` are browser
//! internals, `javascript:` runs script in the current page, `data:`/`blob:`
//! make pages out of thin air (and phishing), `view-source:` wraps any of
//! these. Input without a scheme gets `https://`, including `host:port`
//! forms such as `localhost:8080/x` that a URL parser would otherwise read
//! as the scheme `localhost:`.

use url::Url;

/// Why an address-bar input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Nothing was typed.
    #[error("the address is empty")]
    Empty,
    /// Longer than any URL we accept.
    #[error("the address is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A scheme the isolated browser does not open.
    #[error("`{scheme}:` addresses are refused: {why}")]
    Scheme {
        /// The scheme, lowercase.
        scheme: String,
        /// Why.
        why: &'static str,
    },
    /// Not a valid URL.
    #[error("`{input}` is not a valid web address: {reason}")]
    Invalid {
        /// The (trimmed, shortened) input.
        input: String,
        /// The parser's reason.
        reason: String,
    },
}

/// Longest accepted input, in bytes (Chromium's own limit is 2 MiB; a typed
/// or linked URL beyond 8 KiB is abuse).
pub const MAX_ADDRESS_LEN: usize = 8 * 1024;

/// Parses what the user typed (or passed as `/?url=`) into a URL the
/// isolated browser may open.
pub fn parse_address_bar(input: &str) -> Result<Url, AddressError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AddressError::Empty);
    }
    if input.len() > MAX_ADDRESS_LEN {
        return Err(AddressError::TooLong {
            max: MAX_ADDRESS_LEN,
        });
    }
    let candidate = match scheme_of(input) {
        Some(scheme) => {
            let scheme = scheme.to_ascii_lowercase();
            if scheme == "about" {
                let rest = input[6..].trim().to_ascii_lowercase();
                if rest == "blank" {
                    return Ok(Url::parse("about:blank").expect("valid"));
                }
            }
            if let Some(why) = refused(&scheme) {
                return Err(AddressError::Scheme { scheme, why });
            }
            input.to_owned()
        }
        None if input.starts_with("//") => format!("https:{input}"),
        None => format!("https://{input}"),
    };
    let url = Url::parse(&candidate).map_err(|e| AddressError::Invalid {
        input: shorten(input),
        reason: e.to_string(),
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AddressError::Invalid {
            input: shorten(input),
            reason: "no host".into(),
        });
    }
    Ok(url)
}

/// The scheme, when the input starts with one. `host:port...` is not a
/// scheme: a colon followed by digits and then the end, `/`, `?` or `#`.
fn scheme_of(input: &str) -> Option<&str> {
    let colon = input.find(':')?;
    let scheme = &input[..colon];
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    let rest = &input[colon + 1..];
    if rest.starts_with("//") {
        return Some(scheme);
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let after = &rest[digits..];
    if digits > 0 && (after.is_empty() || after.starts_with(['/', '?', '#'])) {
        return None;
    }
    Some(scheme)
}

fn refused(scheme: &str) -> Option<&'static str> {
    Some(match scheme {
        "http" | "https" => return None,
        "file" | "filesystem" => "the isolated browser cannot open files on the server",
        "chrome" | "chrome-untrusted" | "chrome-extension" | "chrome-search" | "devtools"
        | "chrome-devtools" | "edge" | "brave" => "internal browser pages are not available",
        "javascript" | "vbscript" => "scripts cannot be run from the address bar",
        "view-source" => "source views are not available",
        "data" | "blob" => "pages made from inline data are not available",
        "about" => "only about:blank is available",
        "ws" | "wss" => "WebSocket addresses cannot be opened as pages",
        _ => "only http and https addresses can be opened",
    })
}

fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_completes() {
        let cases = [
            ("example.com", "https://example.com/"),
            ("  example.com/a?b#c  ", "https://example.com/a?b#c"),
            ("http://example.com", "http://example.com/"),
            ("HTTPS://EXAMPLE.COM/X", "https://example.com/X"),
            ("localhost:8080/x", "https://localhost:8080/x"),
            ("localhost:8080", "https://localhost:8080/"),
            ("127.0.0.1:8080", "https://127.0.0.1:8080/"),
            ("127.0.0.1:8080?q", "https://127.0.0.1:8080/?q"),
            ("[::1]:8080/x", "https://[::1]:8080/x"),
            ("//example.com/x", "https://example.com/x"),
            ("about:blank", "about:blank"),
            ("ABOUT:BLANK", "about:blank"),
            ("münchen.de", "https://xn--mnchen-3ya.de/"),
        ];
        for (input, want) in cases {
            let got = parse_address_bar(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.as_str(), want, "{input}");
        }
    }

    #[test]
    fn refuses_other_schemes() {
        for (input, scheme) in [
            ("file:///etc/passwd", "file"),
            ("FILE:///etc/passwd", "file"),
            ("chrome://settings", "chrome"),
            ("chrome-untrusted://print", "chrome-untrusted"),
            ("devtools://devtools/bundled/inspector.html", "devtools"),
            ("view-source:https://example.com", "view-source"),
            ("javascript:alert(1)", "javascript"),
            ("JavaScript:alert(1)", "javascript"),
            ("data:text/html,<h1>x", "data"),
            ("blob:https://example.com/uuid", "blob"),
            ("about:config", "about"),
            ("ftp://example.com/", "ftp"),
            ("ws://example.com/", "ws"),
            ("mailto:a@b.c", "mailto"),
            ("filesystem:https://a/b", "filesystem"),
        ] {
            match parse_address_bar(input) {
                Err(AddressError::Scheme { scheme: s, .. }) => assert_eq!(s, scheme, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(parse_address_bar("   "), Err(AddressError::Empty));
        assert!(matches!(
            parse_address_bar(&"a".repeat(MAX_ADDRESS_LEN + 1)),
            Err(AddressError::TooLong { .. })
        ));
        for bad in ["http://", "exa mple.com", "http://[::1"] {
            let err = parse_address_bar(bad).expect_err(bad);
            assert!(
                matches!(err, AddressError::Invalid { .. }),
                "{bad}: {err:?}"
            );
        }
    }
}
