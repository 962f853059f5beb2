//! serde_json's parse errors in the words of Go's encoding/json, which kube-apiserver's messages quote.

use serde_json::error::Category;

/// Describes a serde_json parse error of `body` as Go's encoding/json would (`unexpected end of JSON input`,
/// `invalid character 'n' looking for beginning of object key string`, ...).
pub fn go_json_error(error: &serde_json::Error, body: &[u8]) -> String {
    match error.classify() {
        Category::Eof => "unexpected end of JSON input".to_owned(),
        Category::Syntax => match offending(error, body) {
            Some((line, column)) => {
                let byte = line[column];
                match literal_expectation(error, line, column) {
                    Some((literal, expected)) => format!(
                        "invalid character {} in literal {literal} (expecting {})",
                        go_quote_char(byte),
                        go_quote_char(expected)
                    ),
                    None => format!("invalid character {} {}", go_quote_char(byte), context(error)),
                }
            }
            None => "unexpected end of JSON input".to_owned(),
        },
        Category::Data | Category::Io => error.to_string(),
    }
}

/// Describes a serde_yaml error as sigs.k8s.io/yaml (go-yaml v2) would, without its `yaml: ` prefix: `line 2: did
/// not find expected node content`. go-yaml reports a parser error at its 0-based problem line, a scanner
/// error at the 1-based one; serde_yaml prints the 1-based line.
pub fn go_yaml_error(error: &serde_yaml::Error) -> String {
    let text = error.to_string();
    let Some(location) = error.location() else {
        return text;
    };
    let problem = text
        .split_once(" at line ")
        .map_or(text.as_str(), |(problem, _)| problem);
    let line = if text.contains(", while scanning") {
        location.line()
    } else {
        location.line().saturating_sub(1)
    };
    if line == 0 {
        problem.to_owned()
    } else {
        format!("line {line}: {problem}")
    }
}

/// Where the scanner was, from serde_json's description of what it expected.
fn context(error: &serde_json::Error) -> &'static str {
    let text = error.to_string();
    if text.starts_with("key must be a string") {
        "looking for beginning of object key string"
    } else if text.starts_with("expected `:`") {
        "after object key"
    } else if text.starts_with("expected `,` or `}`") {
        "after object key:value pair"
    } else if text.starts_with("expected `,` or `]`") {
        "after array element"
    } else if text.starts_with("trailing characters") {
        "after top-level value"
    } else {
        "looking for beginning of value"
    }
}

/// The line of the offending byte and its index in it.
fn offending<'a>(error: &serde_json::Error, body: &'a [u8]) -> Option<(&'a [u8], usize)> {
    // By bytes: the body need not be UTF-8 (a garbage continue token is not).
    let line = body.split(|byte| *byte == b'\n').nth(error.line().checked_sub(1)?)?;
    let column = error.column().checked_sub(1)?;
    (column < line.len()).then_some((line, column))
}

/// For a misspelt `null`/`true`/`false`: the literal and the byte Go expected at the offending position.
fn literal_expectation(error: &serde_json::Error, line: &[u8], column: usize) -> Option<(&'static str, u8)> {
    if !error.to_string().starts_with("expected ident") {
        return None;
    }
    let start = line[..column]
        .iter()
        .rposition(|byte| !byte.is_ascii_alphabetic())
        .map_or(0, |position| position + 1);
    let literal = match line.get(start)? {
        b'n' => "null",
        b't' => "true",
        b'f' => "false",
        _ => return None,
    };
    let expected = *literal.as_bytes().get(column - start)?;
    Some((literal, expected))
}

fn go_quote_char(byte: u8) -> String {
    match byte {
        b'\'' => "'\\''".to_owned(),
        0x20..=0x7e => format!("'{}'", byte as char),
        // Go quotes the byte as the rune of the same value: U+0080 and up print as `\u0081`.
        0x80..=0xff => format!("'\\u{byte:04x}'"),
        other => format!("'\\x{other:02x}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(body: &str) -> String {
        let error = serde_json::from_str::<serde_json::Value>(body).expect_err("malformed on purpose");
        go_json_error(&error, body.as_bytes())
    }

    #[test]
    fn yaml_errors_read_like_go_yaml() {
        let error = serde_yaml::from_str::<serde_json::Value>("apiVersion: v1\nkind: [").expect_err("malformed");
        assert_eq!(go_yaml_error(&error), "line 2: did not find expected node content");
    }

    #[test]
    fn errors_read_like_go() {
        assert_eq!(describe("{\"data\":"), "unexpected end of JSON input");
        assert_eq!(
            describe("{not json"),
            "invalid character 'n' looking for beginning of object key string"
        );
        assert_eq!(
            describe("nope"),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(
            describe("[tru]"),
            "invalid character ']' in literal true (expecting 'e')"
        );
        assert_eq!(describe("{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(
            describe("{\"a\":1 \"b\"}"),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(describe("[1 2]"), "invalid character '2' after array element");
        assert_eq!(describe("{} x"), "invalid character 'x' after top-level value");
        assert_eq!(describe("x"), "invalid character 'x' looking for beginning of value");
    }
}
