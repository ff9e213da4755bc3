//! Address bar input: what the user typed, made into a URL the isolated
//! browser may load.

/// Why an address was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing typed.
    #[error("type an address to open")]
    Empty,
    /// Not parseable as a URL.
    #[error("{0:?} is not a web address")]
    Invalid(String),
    /// A scheme other than http(s).
    #[error("{0}: addresses are not allowed here; only http and https pages can be opened")]
    Scheme(String),
}

/// Parses address bar input: trims it, adds `https://` when there is no
/// scheme, and accepts only `http:`, `https:` and `about:blank`.
pub fn parse_address_bar(input: &str) -> Result<url::Url, AddressError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AddressError::Empty);
    }
    if input.eq_ignore_ascii_case("about:blank") {
        return Ok(url::Url::parse("about:blank").expect("valid literal"));
    }
    let with_scheme = match scheme_of(input) {
        Some(s) if s == "http" || s == "https" => input.to_owned(),
        Some(s) => return Err(AddressError::Scheme(s)),
        None => format!("https://{input}"),
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| AddressError::Invalid(input.to_owned()))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "http" | "https" => Err(AddressError::Invalid(input.to_owned())),
        other => Err(AddressError::Scheme(other.to_owned())),
    }
}

/// The scheme of `input` if it has one. `localhost:8080/x` and `host:443` are
/// host-and-port, not a scheme.
fn scheme_of(input: &str) -> Option<String> {
    let (head, rest) = input.split_once(':')?;
    let valid = head.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid {
        return None;
    }
    // "host:port..." — digits after the colon and no "//": a port, not a scheme.
    let port_like = rest
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if port_like && !rest.starts_with("//") {
        return None;
    }
    Some(head.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_https_and_keeps_http() {
        assert_eq!(
            parse_address_bar("example.com").unwrap().as_str(),
            "https://example.com/"
        );
        assert_eq!(
            parse_address_bar("  http://example.com/a?b ")
                .unwrap()
                .as_str(),
            "http://example.com/a?b"
        );
        assert_eq!(
            parse_address_bar("localhost:8080/x").unwrap().as_str(),
            "https://localhost:8080/x"
        );
        assert_eq!(
            parse_address_bar("127.0.0.1:9000").unwrap().as_str(),
            "https://127.0.0.1:9000/"
        );
    }

    #[test]
    fn refuses_other_schemes() {
        for bad in [
            "file:///etc/passwd",
            "chrome://settings",
            "devtools://devtools/bundled/inspector.html",
            "view-source:https://example.com",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "ftp://example.com",
            "chrome-untrusted://x",
            "blob:https://example.com/x",
        ] {
            assert!(
                matches!(parse_address_bar(bad), Err(AddressError::Scheme(_))),
                "{bad}"
            );
        }
        assert_eq!(parse_address_bar(" "), Err(AddressError::Empty));
        assert!(parse_address_bar("http://").is_err());
    }
}
