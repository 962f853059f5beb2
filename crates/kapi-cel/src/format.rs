//! `string.format(list)` from the strings extension, and the named formats of the Kubernetes format library.

use kapi_core::validation::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_label_value, is_qualified_name,
};

use crate::{builtins::to_string, value::Val};

/// The precision of `%f` and `%e` without one, and of doubles inside formatted lists and maps.
const DEFAULT_PRECISION: usize = 6;

/// The largest `%.Nf` / `%.Ne` precision accepted.
const MAX_PRECISION: usize = 100;

/// Formats `template` with `%s %d %f %e %x %X %o %b %%` (and `%.Nf`) verbs.
pub(crate) fn format(template: &str, values: &[Val]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            // A precision is bounded so that a template cannot ask for an enormous string.
            let requested: usize = digits.parse().unwrap_or(usize::MAX);
            if requested > MAX_PRECISION {
                return Err(format!("error during formatting: precision {digits} is too large"));
            }
            precision = Some(requested);
        }
        let verb = chars
            .next()
            .ok_or_else(|| "unexpected end of format string".to_owned())?;
        let value = values.get(next).ok_or_else(|| format!("index {next} out of range"))?;
        next += 1;
        let text = match (verb, value) {
            ('s', Val::List(_) | Val::Map(_)) => nested(value)?,
            ('s', value) => to_string(value)?,
            ('d', Val::Int(i)) => i.to_string(),
            ('d', Val::Uint(u)) => u.to_string(),
            ('f', Val::Double(d)) => format!("{d:.*}", precision.unwrap_or(DEFAULT_PRECISION)),
            // cel-go passes the precision of %e as a width, so the precision is always the default.
            ('e', Val::Double(d)) => format_exponent(*d, DEFAULT_PRECISION),
            ('x', Val::Int(i)) => signed_radix(*i, |m| format!("{m:x}")),
            ('X', Val::Int(i)) => signed_radix(*i, |m| format!("{m:X}")),
            ('o', Val::Int(i)) => signed_radix(*i, |m| format!("{m:o}")),
            ('b', Val::Int(i)) => signed_radix(*i, |m| format!("{m:b}")),
            ('x', Val::Uint(u)) => format!("{u:x}"),
            ('X', Val::Uint(u)) => format!("{u:X}"),
            ('o', Val::Uint(u)) => format!("{u:o}"),
            ('b', Val::Uint(u)) => format!("{u:b}"),
            ('x', Val::String(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            ('X', Val::String(s)) => s.bytes().map(|b| format!("{b:02X}")).collect(),
            ('x', Val::Bytes(b)) => b.iter().map(|b| format!("{b:02x}")).collect(),
            ('X', Val::Bytes(b)) => b.iter().map(|b| format!("{b:02X}")).collect(),
            ('b', Val::Bool(b)) => if *b { "1" } else { "0" }.to_owned(),
            (verb, value) => return Err(clause_error(verb, value)),
        };
        out.push_str(&text);
    }
    Ok(out)
}

/// cel-go's message for a verb applied to a value it does not format.
fn clause_error(verb: char, value: &Val) -> String {
    let given = value.type_name();
    let detail = match verb {
        'd' => format!("decimal clause can only be used on integers, was given {given}"),
        'f' => format!("fixed-point clause can only be used on doubles, was given {given}"),
        'e' => format!("scientific clause can only be used on doubles, was given {given}"),
        'b' => format!("only integers and bools can be formatted as binary, was given {given}"),
        'x' | 'X' => format!("only integers, byte buffers, and strings can be formatted as hex, was given {given}"),
        'o' => format!("octal clause can only be used on integers, was given {given}"),
        's' => format!(
            "string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given {given}"
        ),
        other => format!("could not parse formatting clause: unrecognized formatting clause \"{other}\""),
    };
    format!("error during formatting: {detail}")
}

/// A list or map as `%s` prints it: members as CEL literals (strings quoted, doubles fixed, timestamps as
/// `timestamp("...")`), map entries sorted by key.
fn nested(value: &Val) -> Result<String, String> {
    match value {
        Val::List(items) => {
            let members: Result<Vec<String>, String> = items.iter().map(member).collect();
            Ok(format!("[{}]", members?.join(", ")))
        }
        Val::Map(map) => {
            let mut entries = Vec::with_capacity(map.entries.len());
            for (key, value) in &map.entries {
                entries.push((member(&key.to_val())?, member(value)?));
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| format!("{key}:{value}"))
                .collect();
            Ok(format!("{{{}}}", entries.join(", ")))
        }
        other => to_string(other),
    }
}

/// One member of a formatted list or map.
fn member(value: &Val) -> Result<String, String> {
    Ok(match value {
        Val::String(s) => go_quote(s),
        Val::Bytes(b) => format!("b{}", go_quote(&String::from_utf8_lossy(b))),
        Val::Double(d) if d.is_finite() => format!("{d:.DEFAULT_PRECISION$}"),
        Val::Double(d) => go_quote(&to_string(&Val::Double(*d))?),
        Val::Timestamp(_) => format!("timestamp({})", go_quote(&to_string(value)?)),
        Val::Duration(_) => format!("duration({})", go_quote(&to_string(value)?)),
        Val::List(_) | Val::Map(_) => nested(value)?,
        other => to_string(other)?,
    })
}

/// Go's `%q`: double quotes, with backslash escapes for quotes, backslashes and control characters.
fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn signed_radix(value: i64, render: impl Fn(u64) -> String) -> String {
    if value < 0 {
        format!("-{}", render(value.unsigned_abs()))
    } else {
        render(value as u64)
    }
}

fn format_exponent(value: f64, precision: usize) -> String {
    let text = format!("{value:.precision$e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = exponent
                .strip_prefix('-')
                .map_or(("+", exponent), |digits| ("-", digits));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The errors of validating `value` against the named format (empty when valid).
pub(crate) fn validate_named(format: &str, value: &str) -> Vec<String> {
    let prefix = |check: fn(&str) -> Vec<String>| {
        // A prefix may end in a dash: validate it as if a character followed (as k8s' NameIsDNS*Label(prefix=true)).
        let mut candidate = value.to_owned();
        if candidate.ends_with('-') {
            candidate.push('a');
        }
        check(&candidate)
    };
    match format {
        "dns1123Label" => is_dns1123_label(value),
        "dns1123Subdomain" => is_dns1123_subdomain(value),
        "dns1035Label" => is_dns1035_label(value),
        "qualifiedName" => is_qualified_name(value),
        "dns1123LabelPrefix" => prefix(is_dns1123_label),
        "dns1123SubdomainPrefix" => prefix(is_dns1123_subdomain),
        "dns1035LabelPrefix" => prefix(is_dns1035_label),
        "labelValue" => is_label_value(value),
        "uuid" if !is_uuid(value) => vec!["does not match the UUID format".to_owned()],
        "byte" if crate::library::base64_decode(value).is_none() => vec!["invalid base64".to_owned()],
        "date" if crate::time::parse_timestamp(&format!("{value}T00:00:00Z")).is_none() => {
            vec!["invalid date".to_owned()]
        }
        "datetime" if crate::time::parse_timestamp(value).is_none() => vec!["invalid datetime".to_owned()],
        "uri" if crate::library::Url::parse(value).is_none() => vec!["invalid URI".to_owned()],
        _ => Vec::new(),
    }
}
