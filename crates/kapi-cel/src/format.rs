//! `string.format(list)` from the strings extension, and the named formats of the Kubernetes format library.

use kapi_core::validation::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_label_value, is_qualified_name,
};

use crate::{builtins::to_string, value::Val};

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
            ('s', value) => to_string(value)?,
            ('d', Val::Int(i)) => i.to_string(),
            ('d', Val::Uint(u)) => u.to_string(),
            ('d', Val::Double(d)) if d.fract() == 0.0 => format!("{d:.0}"),
            ('f', Val::Double(d)) => format!("{d:.*}", precision.unwrap_or(6)),
            ('f', Val::Int(i)) => format!("{:.*}", precision.unwrap_or(6), *i as f64),
            ('f', Val::Uint(u)) => format!("{:.*}", precision.unwrap_or(6), *u as f64),
            ('e', Val::Double(d)) => format_exponent(*d, precision.unwrap_or(6)),
            ('e', Val::Int(i)) => format_exponent(*i as f64, precision.unwrap_or(6)),
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
            ('b', Val::Bool(b)) => b.to_string(),
            (verb, value) => {
                return Err(format!(
                    "error during formatting: unrecognized formatting clause \"{verb}\" for {}",
                    value.type_name()
                ))
            }
        };
        out.push_str(&text);
    }
    Ok(out)
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
