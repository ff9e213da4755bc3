//! JSON: string values are unescaped (a `\u0034` must not hide a digit from
//! the engine) and written as `key: value` lines, walking the document with an
//! explicit stack so deep nesting cannot overflow ours; serde_json's own
//! recursion limit (128) turns pathological documents into a fallback to the
//! raw text.

use serde_json::Value;

/// `key: value` lines for every scalar of `source`, or `None` when it is not
/// valid JSON (the caller then scans the raw text).
pub(crate) fn flatten(source: &str) -> Option<String> {
    let value: Value = serde_json::from_str(source).ok()?;
    let mut out = String::with_capacity(source.len());
    let mut stack: Vec<(Option<String>, &Value)> = vec![(None, &value)];
    while let Some((key, value)) = stack.pop() {
        let scalar = match value {
            Value::Object(map) => {
                for (k, v) in map.iter().rev() {
                    stack.push((Some(k.clone()), v));
                }
                continue;
            }
            Value::Array(items) => {
                for v in items.iter().rev() {
                    stack.push((key.clone(), v));
                }
                continue;
            }
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
        };
        if let Some(key) = key {
            out.push_str(&key);
            out.push_str(": ");
        }
        out.push_str(&scalar);
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::flatten;

    #[test]
    fn unescapes_and_names_keys() {
        let out =
            flatten(r#"{"card": "\u0034111 1111 1111 1111", "n": [1, {"ssn": "078-05-1120"}]}"#)
                .expect("valid json");
        assert!(out.contains("card: 4111 1111 1111 1111"), "{out}");
        assert!(out.contains("ssn: 078-05-1120"), "{out}");
        assert!(out.contains("n: 1"), "{out}");
    }

    #[test]
    fn invalid_json_falls_back() {
        assert!(flatten("{not json").is_none());
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(flatten(&deep).is_none(), "recursion limit, no overflow");
    }
}
