//! Go's `fmt` renderings of decoded JSON (`map[string]interface{}` and friends), which kube-apiserver's strategic
//! merge patch errors embed: `%v` (`map[a:1 b:[x y]]`, keys sorted), `%s` (`%!s(int64=1)` for non-strings) and
//! `reflect.TypeOf` names.

use serde_json::{Number, Value};

/// The Go type a JSON value decodes to (the patch decoder keeps integers as `int64`).
pub(super) fn go_type_name(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "map[string]interface {}",
        Value::Array(_) => "[]interface {}",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(number) if is_integer(number) => "int64",
        Value::Number(_) => "float64",
        Value::Null => "%!s(<nil>)",
    }
}

fn is_integer(number: &Number) -> bool {
    number.is_i64() || number.is_u64()
}

/// `fmt.Sprintf("%v", value)`.
pub(super) fn go_v(value: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, value);
    out
}

/// `fmt.Sprintf("%v", lists)` for a Go `[][]interface{}`.
pub(super) fn go_v_lists(lists: &[&[Value]]) -> String {
    let rendered: Vec<String> = lists.iter().map(|list| go_v(&Value::Array(list.to_vec()))).collect();
    format!("[{}]", rendered.join(" "))
}

fn write_v(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&go_number(number)),
        Value::String(text) => out.push_str(text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(' ');
                }
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                write_v(out, &map[key]);
            }
            out.push(']');
        }
    }
}

/// `fmt.Sprintf("%s", value)`: strings as they are, other scalars as `%!s(<type>=<value>)`.
pub(super) fn go_s(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "%!s(<nil>)".to_owned(),
        Value::Array(items) => {
            let rendered: Vec<String> = items.iter().map(go_s).collect();
            format!("[{}]", rendered.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let rendered: Vec<String> = keys
                .into_iter()
                .map(|key| format!("{key}:{}", go_s(&map[key])))
                .collect();
            format!("map[{}]", rendered.join(" "))
        }
        scalar => format!("%!s({}={})", go_type_name(scalar), go_v(scalar)),
    }
}

/// A number as Go's `%v` prints an `int64` or a `float64` (`%g` with the shortest digits, exponent form from
/// 1e+06 on and below 1e-04).
fn go_number(number: &Number) -> String {
    if is_integer(number) {
        return number.to_string();
    }
    let Some(float) = number.as_f64() else {
        return number.to_string();
    };
    if float == 0.0 {
        return if float.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let scientific = format!("{float:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        return format!("{float}");
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_like_go_fmt() {
        assert_eq!(
            go_v(&json!({"name": "x", "$patch": "delete", "n": 1, "f": 1.5, "l": ["a", true, null], "m": {}})),
            "map[$patch:delete f:1.5 l:[a true <nil>] m:map[] n:1 name:x]"
        );
        assert_eq!(go_v(&json!(1234567.5)), "1.2345675e+06");
        assert_eq!(go_v(&json!(0.00001)), "1e-05");
        assert_eq!(go_v(&json!(123456.5)), "123456.5");
        assert_eq!(go_s(&json!(1)), "%!s(int64=1)");
        assert_eq!(go_s(&json!("frobnicate")), "frobnicate");
        assert_eq!(go_type_name(&json!([1])), "[]interface {}");
        assert_eq!(go_v_lists(&[&[json!("a"), json!("b")], &[json!(1)]]), "[[a b] [1]]");
    }
}
