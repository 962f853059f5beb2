//! Go's formatting rules, reproduced where kube-apiserver's messages depend on them.
//!
//! Error messages embed values the way Go prints them: `%q` for strings (`strconv.Quote`), `%v` for numbers, and
//! `encoding/json` for everything else (HTML-escaped, maps with sorted keys). Matching those byte for byte is what
//! lets clients and tests compare kapi's messages with kube-apiserver's.

use serde_json::Value;

/// Quotes `text` like Go's `strconv.Quote` (and so `%q`): double quotes, backslash escapes for quotes, backslashes
/// and control characters; printable Unicode is kept as is.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if !is_go_printable(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` good for the characters that realistically reach messages: controls,
/// the non-ASCII spaces and the line/paragraph separators are not printable.
fn is_go_printable(ch: char) -> bool {
    !(ch.is_control()
        || matches!(ch, '\u{a0}' | '\u{ad}' | '\u{2000}'..='\u{200f}' | '\u{2028}'..='\u{202f}' | '\u{feff}'))
}

/// Formats a float like Go's `%v` (`%g` with the shortest representation: exponent form below 1e-4 and from 1e+06).
pub(crate) fn float_v(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".to_owned()
        } else if value > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0".to_owned()
        } else {
            "0".to_owned()
        };
    }
    let exponent = decimal_exponent(value);
    if !(-4..6).contains(&exponent) {
        exponent_form(value, true)
    } else {
        format!("{value}")
    }
}

/// Formats a float like Go's `encoding/json`: plain decimal between 1e-6 and 1e21, exponent form outside.
pub(crate) fn float_json(value: f64) -> String {
    if !value.is_finite() {
        // encoding/json refuses these; serde_json never produces them from parsed input.
        return "null".to_owned();
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        exponent_form(value, false)
    } else {
        format!("{value}")
    }
}

/// The power of ten of the first significant digit of the shortest representation.
fn decimal_exponent(value: f64) -> i32 {
    let scientific = format!("{:e}", value.abs());
    scientific
        .split_once('e')
        .and_then(|(_, exp)| exp.parse().ok())
        .unwrap_or(0)
}

/// Go's `strconv` `e` format with the shortest mantissa. `%v` pads the exponent to two digits (`1e+06`, `1e-05`);
/// encoding/json pads positive exponents only (`1e+21`, `1e-7`).
fn exponent_form(value: f64, pad_negative: bool) -> String {
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific.as_str(), "0"));
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    let digits = if digits.len() < 2 && (sign == '+' || pad_negative) {
        format!("0{digits}")
    } else {
        digits.to_owned()
    };
    format!("{mantissa}e{sign}{digits}")
}

/// How [`json`] orders object keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyOrder {
    /// Keep the order the value holds (a Go struct marshals in field order).
    AsGiven,
    /// Sort keys (a Go `map[string]interface{}` marshals sorted).
    Sorted,
}

/// Marshals a value like Go's `json.Marshal`: compact, HTML-safe escaping, Go number formatting.
pub(crate) fn json(value: &Value, order: KeyOrder) -> String {
    let mut out = String::new();
    write_json(&mut out, value, order);
    out
}

fn write_json(out: &mut String, value: &Value, order: KeyOrder) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                out.push_str(&int.to_string());
            } else if let Some(uint) = number.as_u64() {
                out.push_str(&uint.to_string());
            } else {
                out.push_str(&float_json(number.as_f64().unwrap_or(0.0)));
            }
        }
        Value::String(text) => write_json_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(out, item, order);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if order == KeyOrder::Sorted {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(out, key);
                out.push(':');
                write_json(out, item, order);
            }
            out.push('}');
        }
    }
}

fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", ch as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn quote_matches_go_strconv_quote() {
        let cases = [
            ("plain", r#""plain""#),
            ("", r#""""#),
            ("a\"b", r#""a\"b""#),
            ("back\\slash", r#""back\\slash""#),
            ("line\nbreak\ttab", r#""line\nbreak\ttab""#),
            ("\u{1}", r#""\x01""#),
            ("\u{7f}", r#""\x7f""#),
            ("héllo ✓", "\"héllo ✓\""),
            ("\u{2028}", r#""\u2028""#),
        ];
        for (input, expected) in cases {
            assert_eq!(quote(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn float_v_matches_go_percent_v() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e21, "1e+21"),
            (1.5e-10, "1.5e-10"),
            (0.0, "0"),
        ];
        for (input, expected) in cases {
            assert_eq!(float_v(input), expected, "input {input}");
        }
    }

    #[test]
    fn float_json_matches_go_encoding_json() {
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (1e-6, "0.000001"),
            (-3.5e22, "-3.5e+22"),
            (1e-10, "1e-10"),
        ];
        for (input, expected) in cases {
            assert_eq!(float_json(input), expected, "input {input}");
        }
    }

    #[test]
    fn json_escapes_html_and_sorts_maps_on_request() {
        let value = json!({"rule": "self.x > 1 && y < 2", "b": [1, 2.5, null, true], "a": {"z": 1, "c": "\u{1}"}});
        assert_eq!(
            json(&value, KeyOrder::Sorted),
            r#"{"a":{"c":"\u0001","z":1},"b":[1,2.5,null,true],"rule":"self.x \u003e 1 \u0026\u0026 y \u003c 2"}"#
        );
        assert_eq!(
            json(&value, KeyOrder::AsGiven),
            r#"{"rule":"self.x \u003e 1 \u0026\u0026 y \u003c 2","b":[1,2.5,null,true],"a":{"z":1,"c":"\u0001"}}"#
        );
    }
}
