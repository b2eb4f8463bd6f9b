//! Byte-preserving edits of JSON documents such as `package.json`.
//!
//! A release tool must not reformat a user's file: indentation, key order, trailing newline, escapes
//! and CRLF line ends all stay as they were. Only the bytes of one top-level string value change.

/// Why a JSON document cannot be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonEditError {
    /// Not valid JSON.
    #[error("not valid JSON: {0}")]
    Invalid(String),
    /// Valid JSON, but not an object at the top level.
    #[error("the top level is not a JSON object")]
    NotAnObject,
    /// The key is missing at the top level.
    #[error("no top-level \"{0}\" field")]
    Missing(String),
    /// The key is present but its value is not a string.
    #[error("the top-level \"{0}\" field is not a string")]
    NotAString(String),
}

/// Reads the top-level string field `key`.
pub fn get_top_level_string(doc: &str, key: &str) -> Result<String, JsonEditError> {
    let span = find_top_level_string(doc, key)?;
    serde_json::from_str(&doc[span.0..span.1]).map_err(|e| JsonEditError::Invalid(e.to_string()))
}

/// Returns `doc` with the top-level string field `key` set to `value`; every other byte is kept.
///
/// ```
/// use mp_release_core::json_edit::set_top_level_string;
/// let doc = "{\n  \"name\": \"app\",\n  \"version\":   \"1.0.0\" ,\n  \"x\": {\"version\": \"9\"}\n}\n";
/// let out = set_top_level_string(doc, "version", "1.1.0").unwrap();
/// assert_eq!(out, doc.replace("\"1.0.0\"", "\"1.1.0\""));
/// ```
pub fn set_top_level_string(doc: &str, key: &str, value: &str) -> Result<String, JsonEditError> {
    let (start, end) = find_top_level_string(doc, key)?;
    let encoded =
        serde_json::to_string(value).map_err(|e| JsonEditError::Invalid(e.to_string()))?;
    let mut out = String::with_capacity(doc.len() + encoded.len());
    out.push_str(&doc[..start]);
    out.push_str(&encoded);
    out.push_str(&doc[end..]);
    Ok(out)
}

/// Byte span (quotes included) of the value of top-level `key`, which must be a string.
/// The last occurrence wins, as in `JSON.parse`.
fn find_top_level_string(doc: &str, key: &str) -> Result<(usize, usize), JsonEditError> {
    // npm tolerates a UTF-8 byte-order mark; serde_json does not, so validate the text after it.
    let bom = if doc.starts_with('\u{feff}') { 3 } else { 0 };
    let parsed: serde_json::Value =
        serde_json::from_str(&doc[bom..]).map_err(|e| JsonEditError::Invalid(e.to_string()))?;
    if !parsed.is_object() {
        return Err(JsonEditError::NotAnObject);
    }
    // The document is valid JSON from here on, so the scanner may trust its structure.
    let b = doc.as_bytes();
    let mut i = skip_ws(b, bom);
    debug_assert_eq!(b[i], b'{');
    i = skip_ws(b, i + 1);
    let mut found = None;
    while b[i] != b'}' {
        let key_end = string_end(b, i);
        let this_key: String = serde_json::from_str(&doc[i..key_end]).unwrap_or_default();
        i = skip_ws(b, key_end);
        i = skip_ws(b, i + 1); // ':'
        let value_start = i;
        let value_end = value_end(b, i);
        if this_key == key {
            found = Some((value_start, value_end, b[value_start] == b'"'));
        }
        i = skip_ws(b, value_end);
        if b[i] == b',' {
            i = skip_ws(b, i + 1);
        }
    }
    match found {
        Some((s, e, true)) => Ok((s, e)),
        Some((_, _, false)) => Err(JsonEditError::NotAString(key.to_owned())),
        None => Err(JsonEditError::Missing(key.to_owned())),
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// `b[i]` is an opening quote; returns the index just past the closing quote.
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// Index just past the value starting at `b[i]`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b[i] {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            j
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_other_byte() {
        let docs = [
            "{\"version\":\"1.0.0\"}",
            "{\r\n\t\"name\" : \"a\\\"version\\\"\",\r\n\t\"version\" : \"1.0.0\"\r\n}\r\n",
            "\u{feff}{ \"scripts\": {\"version\": \"echo 2\"}, \"arr\": [1, {\"version\": 3}], \"version\": \"1.0.0\", \"z\": null }",
            "{\n    \"version\": \"1.0.0\",\n    \"emoji\": \"\u{1f600}\\u00e9\"\n}",
        ];
        for doc in docs {
            let out = set_top_level_string(doc, "version", "2.0.0-beta.1").unwrap();
            assert_eq!(
                out,
                doc.replacen("\"1.0.0\"", "\"2.0.0-beta.1\"", 1),
                "{doc:?}"
            );
            assert_eq!(
                get_top_level_string(&out, "version").unwrap(),
                "2.0.0-beta.1"
            );
        }
    }

    #[test]
    fn duplicate_keys_last_wins_like_json_parse() {
        let doc = r#"{"version":"1.0.0","version":"1.5.0"}"#;
        assert_eq!(get_top_level_string(doc, "version").unwrap(), "1.5.0");
        assert_eq!(
            set_top_level_string(doc, "version", "2.0.0").unwrap(),
            r#"{"version":"1.0.0","version":"2.0.0"}"#
        );
    }

    #[test]
    fn escaped_keys_are_decoded() {
        let doc = r#"{"vers\u0069on":"1.0.0"}"#;
        assert_eq!(get_top_level_string(doc, "version").unwrap(), "1.0.0");
    }

    #[test]
    fn errors() {
        assert!(matches!(
            set_top_level_string("{", "version", "1"),
            Err(JsonEditError::Invalid(_))
        ));
        assert_eq!(
            set_top_level_string("[1]", "version", "1"),
            Err(JsonEditError::NotAnObject)
        );
        assert_eq!(
            set_top_level_string(r#"{"x":{"version":"1"}}"#, "version", "1"),
            Err(JsonEditError::Missing("version".into()))
        );
        assert_eq!(
            set_top_level_string(r#"{"version":1}"#, "version", "1"),
            Err(JsonEditError::NotAString("version".into()))
        );
    }
}
