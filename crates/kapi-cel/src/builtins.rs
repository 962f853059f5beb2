//! Runtime implementations of the standard functions and the Kubernetes libraries. Each call returns its value
//! and its runtime cost (cel-go's actual-cost model: 1 per call, plus 0.1 per character traversed).

use std::{cell::RefCell, cmp::Ordering, collections::HashMap, net::IpAddr, rc::Rc};

use regex::Regex;

use crate::{
    checker::traversal_cost,
    functions::FORMAT_NAMES,
    library::{ImageRef, Quantity, Semver, Url},
    time::{
        format_duration, format_timestamp, parse_duration, parse_timestamp, timestamp_in_range, MAX_DURATION_NANOS,
    },
    value::Val,
};

/// A runtime error's message, as cel-go words it.
pub(crate) type EvalResult = Result<(Val, u64), String>;

/// cel-go's runtime error when no overload fits the arguments' runtime types (reached through dyn values,
/// int-or-string fields and preserved unknown fields).
pub(crate) fn no_overload(_name: &str) -> String {
    "no such overload".to_owned()
}

pub(crate) fn overflow() -> String {
    "integer overflow".to_owned()
}

pub(crate) fn ok(value: Val) -> EvalResult {
    Ok((value, 1))
}

/// How many compiled patterns each thread keeps; rules use a handful of constant patterns.
const REGEX_CACHE_ENTRIES: usize = 256;

thread_local! {
    /// Compiled patterns by source: building a regex costs far more than matching a short field.
    static REGEX_CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// Rewrites RE2's ASCII-only Perl classes (`\d \w \s \b` and negations) for Rust's regex, where they are
/// Unicode-aware: `^\d+$` must not accept Arabic-Indic digits, as it does not in Go.
pub(crate) fn re2_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    // Inside a bracket expression; the first ']' after '[' or '[^' is a literal.
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(escaped) = chars.next() else {
                    out.push(c);
                    break;
                };
                let ascii_class = match escaped {
                    'd' => Some("digit"),
                    'w' => Some("word"),
                    's' => Some("space"),
                    'D' => Some("^digit"),
                    'W' => Some("^word"),
                    'S' => Some("^space"),
                    _ => None,
                };
                match (ascii_class, in_class) {
                    (Some(class), true) => {
                        out.push_str("[:");
                        out.push_str(class);
                        out.push_str(":]");
                    }
                    (Some(_), false) | (None, false) if "dDwWsSbB".contains(escaped) => {
                        out.push_str("(?-u:\\");
                        out.push(escaped);
                        out.push(')');
                    }
                    _ => {
                        out.push(c);
                        out.push(escaped);
                    }
                }
                class_start = false;
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class such as [:alpha:] inside a bracket expression.
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == ']' {
                        break;
                    }
                }
                class_start = false;
            }
            ']' if in_class && !class_start => {
                in_class = false;
                out.push(c);
            }
            _ => {
                class_start = false;
                out.push(c);
            }
        }
    }
    out
}

/// Runs `use_regex` with the compiled `pattern`, compiled once per thread: building a regex (and its matching
/// cache) costs far more than matching a short field. RE2 and Rust's regex share the syntax CEL rules use.
pub(crate) fn with_regex<T>(pattern: &str, use_regex: impl FnOnce(&Regex) -> T) -> Result<T, String> {
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            let compiled = regex::RegexBuilder::new(&re2_classes(pattern))
                .size_limit(1 << 20)
                .build()
                .map_err(|error| format!("error parsing regexp: {error}"))?;
            if cache.len() >= REGEX_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(pattern.to_owned(), compiled);
        }
        let regex = cache
            .get(pattern)
            .ok_or_else(|| "regex cache lost an entry".to_owned())?;
        Ok(use_regex(regex))
    })
}

pub(crate) fn str_arg(value: &Val) -> Option<&str> {
    match value {
        Val::String(s) => Some(s),
        _ => None,
    }
}

/// Applies `name` to the evaluated `target` and `args`.
pub(crate) fn call(name: &str, target: Option<Val>, args: Vec<Val>) -> EvalResult {
    match target {
        None => global(name, args),
        Some(target) => crate::members::member(name, target, args),
    }
}

pub(crate) fn arithmetic(name: &str, x: &Val, y: &Val) -> EvalResult {
    let value = match (name, x, y) {
        ("_+_", Val::Int(a), Val::Int(b)) => Val::Int(a.checked_add(*b).ok_or_else(overflow)?),
        ("_-_", Val::Int(a), Val::Int(b)) => Val::Int(a.checked_sub(*b).ok_or_else(overflow)?),
        ("_*_", Val::Int(a), Val::Int(b)) => Val::Int(a.checked_mul(*b).ok_or_else(overflow)?),
        ("_/_", Val::Int(_), Val::Int(0)) | ("_%_", Val::Int(_), Val::Int(0)) => {
            return Err("division by zero".to_owned())
        }
        ("_/_" | "_%_", Val::Uint(_), Val::Uint(0)) => return Err("division by zero".to_owned()),
        ("_/_", Val::Int(a), Val::Int(b)) => Val::Int(a.checked_div(*b).ok_or_else(overflow)?),
        ("_%_", Val::Int(a), Val::Int(b)) => Val::Int(a.checked_rem(*b).ok_or_else(overflow)?),
        ("_+_", Val::Uint(a), Val::Uint(b)) => Val::Uint(a.checked_add(*b).ok_or_else(overflow)?),
        ("_-_", Val::Uint(a), Val::Uint(b)) => Val::Uint(a.checked_sub(*b).ok_or_else(overflow)?),
        ("_*_", Val::Uint(a), Val::Uint(b)) => Val::Uint(a.checked_mul(*b).ok_or_else(overflow)?),
        ("_/_", Val::Uint(a), Val::Uint(b)) => Val::Uint(a / b),
        ("_%_", Val::Uint(a), Val::Uint(b)) => Val::Uint(a % b),
        ("_+_", Val::Double(a), Val::Double(b)) => Val::Double(a + b),
        ("_-_", Val::Double(a), Val::Double(b)) => Val::Double(a - b),
        ("_*_", Val::Double(a), Val::Double(b)) => Val::Double(a * b),
        ("_/_", Val::Double(a), Val::Double(b)) => Val::Double(a / b),
        ("_+_", Val::String(a), Val::String(b)) => {
            let mut text = String::with_capacity(a.len() + b.len());
            text.push_str(a);
            text.push_str(b);
            return Ok((Val::string(text), traversal_cost((a.len() + b.len()) as u64)));
        }
        ("_+_", Val::Bytes(a), Val::Bytes(b)) => {
            let bytes: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
            return Ok((Val::Bytes(Rc::from(bytes)), traversal_cost((a.len() + b.len()) as u64)));
        }
        ("_+_", Val::List(a), Val::List(b)) => {
            // cel-go concatenates lists lazily, in O(1); kapi copies, so it charges for the copy (0.1 per
            // element) to keep repeated concatenation of large lists bounded.
            let items: Vec<Val> = a.iter().chain(b.iter()).cloned().collect();
            let cost = traversal_cost(items.len() as u64).max(1);
            return Ok((Val::List(Rc::new(items)), cost));
        }
        ("_+_", Val::Duration(a), Val::Duration(b)) => duration(a + b)?,
        ("_-_", Val::Duration(a), Val::Duration(b)) => duration(a - b)?,
        ("_+_", Val::Timestamp(a), Val::Duration(b)) | ("_+_", Val::Duration(b), Val::Timestamp(a)) => {
            timestamp(a + b)?
        }
        ("_-_", Val::Timestamp(a), Val::Duration(b)) => timestamp(a - b)?,
        ("_-_", Val::Timestamp(a), Val::Timestamp(b)) => duration(a - b)?,
        _ => return Err(no_overload(name)),
    };
    ok(value)
}

fn duration(nanos: i128) -> Result<Val, String> {
    if nanos.abs() > MAX_DURATION_NANOS {
        return Err("duration out of range".to_owned());
    }
    Ok(Val::Duration(nanos))
}

fn timestamp(nanos: i128) -> Result<Val, String> {
    if !timestamp_in_range(nanos) {
        return Err("timestamp out of range".to_owned());
    }
    Ok(Val::Timestamp(nanos))
}

/// `string(x)` and `%s` in `format`.
pub(crate) fn to_string(value: &Val) -> Result<String, String> {
    Ok(match value {
        Val::String(s) => s.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Uint(u) => u.to_string(),
        Val::Double(d) => format_double(*d),
        Val::Bool(b) => b.to_string(),
        Val::Null => "null".to_owned(),
        Val::Bytes(b) => {
            String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 in bytes, cannot convert to string".to_owned())?
        }
        Val::Timestamp(t) => format_timestamp(*t),
        Val::Duration(d) => format_duration(*d),
        Val::Type(name) => name.to_string(),
        Val::Ip(ip) => ip.to_string(),
        Val::Cidr(ip, prefix) => format!("{ip}/{prefix}"),
        Val::Url(url) => url.raw.clone(),
        Val::Image(image) => {
            let mut text = format!("{}/{}", image.registry, image.repository);
            if !image.tag.is_empty() {
                text.push(':');
                text.push_str(&image.tag);
            }
            if !image.digest.is_empty() {
                text.push('@');
                text.push_str(&image.digest);
            }
            text
        }
        Val::Semver(v) => {
            let mut text = format!("{}.{}.{}", v.major, v.minor, v.patch);
            if !v.pre.is_empty() {
                text.push('-');
                text.push_str(&v.pre.join("."));
            }
            text
        }
        Val::List(items) => {
            let parts: Result<Vec<String>, String> = items.iter().map(to_string).collect();
            format!("[{}]", parts?.join(", "))
        }
        Val::Map(map) => {
            let mut parts = Vec::new();
            for (key, value) in &map.entries {
                parts.push(format!("{}: {}", to_string(&key.to_val())?, to_string(value)?));
            }
            format!("{{{}}}", parts.join(", "))
        }
        other => return Err(no_overload(other.type_name())),
    })
}

/// Go's `strconv.FormatFloat(d, 'g', -1, 64)`-like shortest form, as cel-go prints doubles.
fn format_double(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let abs = value.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        let text = format!("{value:e}");
        // Rust prints `1e21`, Go `1e+21`.
        return match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => format!("{mantissa}e+{exponent:0>2}"),
            Some((mantissa, exponent)) => format!("{mantissa}e-{:0>2}", &exponent[1..]),
            None => text,
        };
    }
    format!("{value}")
}

fn global(name: &str, args: Vec<Val>) -> EvalResult {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Val::Null);
    match (name, args.as_slice()) {
        ("_+_" | "_-_" | "_*_" | "_/_" | "_%_", [x, y]) => arithmetic(name, x, y),
        ("-_", [Val::Int(i)]) => ok(Val::Int(i.checked_neg().ok_or_else(overflow)?)),
        ("-_", [Val::Double(d)]) => ok(Val::Double(-d)),
        ("!_", [Val::Bool(b)]) => ok(Val::Bool(!b)),
        ("_==_" | "_!=_", [x, y]) => {
            let mut visited = 0;
            let equal = x.equals_counting(y, &mut visited);
            // cel-go charges 0.1 per top-level element; nested values are charged too, so that comparing large
            // nested values in a loop stays bounded.
            let cost = equality_cost(x, y).max(traversal_cost(visited));
            Ok((Val::Bool(equal == (name == "_==_")), cost))
        }
        ("_<_" | "_<=_" | "_>_" | "_>=_", [x, y]) => {
            let order = x.compare(y).ok_or_else(|| no_overload(name))?;
            let result = match name {
                "_<_" => order == Ordering::Less,
                "_<=_" => order != Ordering::Greater,
                "_>_" => order == Ordering::Greater,
                _ => order != Ordering::Less,
            };
            Ok((Val::Bool(result), equality_cost(x, y)))
        }
        ("@in", [x, Val::List(items)]) => {
            let mut visited = 0;
            let found = items.iter().any(|item| item.equals_counting(x, &mut visited));
            Ok((
                Val::Bool(found),
                (items.len() as u64).max(traversal_cost(visited)).max(1),
            ))
        }
        ("@in", [x, Val::Map(map)]) => ok(Val::Bool(map.get(x).is_some())),
        ("_[_]", [collection, index]) => index_value(collection, index).map(|value| (value, 1)),
        ("_[?_]", [collection, index]) => {
            let collection = match collection {
                Val::Optional(None) => return ok(Val::Optional(None)),
                Val::Optional(Some(inner)) => inner.as_ref(),
                other => other,
            };
            let value = match (collection, index) {
                (Val::Map(map), key) => map.get(key).cloned(),
                (Val::List(items), Val::Int(i)) => usize::try_from(*i).ok().and_then(|i| items.get(i).cloned()),
                _ => return Err(no_overload(name)),
            };
            ok(Val::Optional(value.map(Rc::new)))
        }
        ("size", [value]) => size(value),
        ("int", [value]) => ok(Val::Int(to_int(value)?)),
        ("uint", [value]) => ok(Val::Uint(match value {
            Val::Uint(u) => *u,
            Val::Int(i) => u64::try_from(*i).map_err(|_| "uint overflow".to_owned())?,
            Val::Double(d) if *d >= 0.0 && *d < 18_446_744_073_709_551_616.0 => *d as u64,
            Val::Double(_) => return Err("uint overflow".to_owned()),
            Val::String(s) => s.parse().map_err(|_| format!("cannot convert string '{s}' to uint"))?,
            _ => return Err(no_overload(name)),
        })),
        ("double", [value]) => ok(Val::Double(match value {
            Val::Double(d) => *d,
            Val::Int(i) => *i as f64,
            Val::Uint(u) => *u as f64,
            Val::String(s) => s
                .parse()
                .map_err(|_| format!("cannot convert string '{s}' to double"))?,
            _ => return Err(no_overload(name)),
        })),
        ("string", [value]) => {
            let text = to_string(value)?;
            let cost = traversal_cost(text.len() as u64).max(1);
            Ok((Val::string(text), cost))
        }
        ("bytes", [Val::String(s)]) => ok(Val::Bytes(Rc::from(s.as_bytes()))),
        ("bytes", [Val::Bytes(b)]) => ok(Val::Bytes(b.clone())),
        ("bool", [Val::Bool(b)]) => ok(Val::Bool(*b)),
        ("bool", [Val::String(s)]) => ok(Val::Bool(match s.as_ref() {
            "true" | "TRUE" | "True" | "t" | "1" => true,
            "false" | "FALSE" | "False" | "f" | "0" => false,
            _ => return Err("type conversion error from 'string' to 'bool'".to_owned()),
        })),
        ("type", [value]) => ok(Val::Type(Rc::from(value.type_name()))),
        ("dyn", [value]) => ok(value.clone()),
        ("duration", [Val::String(s)]) => ok(Val::Duration(
            parse_duration(s).ok_or_else(|| format!("cannot convert string '{s}' to duration"))?,
        )),
        ("duration", [Val::Duration(d)]) => ok(Val::Duration(*d)),
        ("timestamp", [Val::String(s)]) => ok(Val::Timestamp(
            parse_timestamp(s).ok_or_else(|| format!("cannot convert string '{s}' to timestamp"))?,
        )),
        ("timestamp", [Val::Int(seconds)]) => ok(timestamp(i128::from(*seconds) * 1_000_000_000)?),
        ("timestamp", [Val::Timestamp(t)]) => ok(Val::Timestamp(*t)),
        ("matches", [subject, pattern]) => crate::members::member("matches", subject.clone(), vec![pattern.clone()]),
        ("strings.quote", [Val::String(s)]) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{7}' => out.push_str("\\a"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    '\u{b}' => out.push_str("\\v"),
                    other => out.push(other),
                }
            }
            out.push('"');
            Ok((Val::string(out), traversal_cost(s.len() as u64).max(1)))
        }
        ("sets.contains" | "sets.equivalent" | "sets.intersects", [Val::List(a), Val::List(b)]) => {
            let contains_all = |x: &[Val], y: &[Val]| y.iter().all(|item| x.iter().any(|other| other.equals(item)));
            let result = match name {
                "sets.contains" => contains_all(a, b),
                "sets.equivalent" => contains_all(a, b) && contains_all(b, a),
                _ => a.iter().any(|item| b.iter().any(|other| other.equals(item))),
            };
            Ok((
                Val::Bool(result),
                (a.len() as u64).saturating_mul(b.len() as u64).max(1),
            ))
        }
        ("url", [Val::String(s)]) => ok(Val::Url(Rc::new(Url::parse(s).ok_or_else(|| {
            format!("URL parse error during conversion from string: parse {s:?}: invalid URI for request")
        })?))),
        ("isURL", [Val::String(s)]) => ok(Val::Bool(Url::parse(s).is_some())),
        ("ip", [Val::String(s)]) => ok(Val::Ip(parse_ip(s).ok_or_else(|| {
            format!("IP Address {s:?} parse error during conversion from string: ParseAddr({s:?}): unable to parse IP")
        })?)),
        ("isIP", [Val::String(s)]) => ok(Val::Bool(parse_ip(s).is_some())),
        ("ip.isCanonical", [Val::String(s)]) => {
            let ip =
                parse_ip(s).ok_or_else(|| format!("IP Address {s:?} parse error during conversion from string"))?;
            ok(Val::Bool(ip.to_string() == s.as_ref()))
        }
        ("cidr", [Val::String(s)]) => {
            let (ip, prefix) = parse_cidr(s).ok_or_else(|| format!("network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix({s:?}): bad prefix"))?;
            ok(Val::Cidr(ip, prefix))
        }
        ("isCIDR", [Val::String(s)]) => ok(Val::Bool(parse_cidr(s).is_some())),
        ("quantity", [Val::String(s)]) => ok(Val::Quantity(Rc::new(Quantity::parse(s).ok_or_else(|| {
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".to_owned()
        })?))),
        ("isQuantity", [Val::String(s)]) => ok(Val::Bool(Quantity::parse(s).is_some())),
        ("semver", [Val::String(s)]) => {
            ok(Val::Semver(Rc::new(Semver::parse(s, false).ok_or_else(|| {
                "Invalid character(s) found in major number".to_owned()
            })?)))
        }
        ("semver", [Val::String(s), Val::Bool(normalize)]) => {
            ok(Val::Semver(Rc::new(Semver::parse(s, *normalize).ok_or_else(|| {
                "Invalid character(s) found in major number".to_owned()
            })?)))
        }
        ("isSemver", [Val::String(s)]) => ok(Val::Bool(Semver::parse(s, false).is_some())),
        ("image", [Val::String(s)]) => ok(Val::Image(Rc::new(
            ImageRef::parse(s).ok_or_else(|| format!("could not parse reference: {s}"))?,
        ))),
        ("isImage", [Val::String(s)]) => ok(Val::Bool(ImageRef::parse(s).is_some())),
        ("isSemver", [Val::String(s), Val::Bool(normalize)]) => ok(Val::Bool(Semver::parse(s, *normalize).is_some())),
        ("optional.of", [value]) => ok(Val::Optional(Some(Rc::new(value.clone())))),
        ("optional.none", []) => ok(Val::Optional(None)),
        ("optional.ofNonZeroValue", [value]) => ok(Val::Optional(if is_zero(value) {
            None
        } else {
            Some(Rc::new(value.clone()))
        })),
        ("format.named", [Val::String(s)]) => ok(Val::Optional(
            FORMAT_NAMES
                .contains(&s.as_ref())
                .then(|| Rc::new(Val::Format(s.clone()))),
        )),
        (format, [])
            if format
                .strip_prefix("format.")
                .is_some_and(|n| FORMAT_NAMES.contains(&n)) =>
        {
            ok(Val::Format(Rc::from(format.trim_start_matches("format."))))
        }
        _ => {
            let _ = arg;
            Err(no_overload(name))
        }
    }
}

fn equality_cost(x: &Val, y: &Val) -> u64 {
    match (x, y) {
        (Val::String(_) | Val::Bytes(_), _) => traversal_cost(x.cost_size().min(y.cost_size())).max(1),
        (Val::List(_) | Val::Map(_), _) => x.cost_size().min(y.cost_size()).max(1),
        _ => 1,
    }
}

fn is_zero(value: &Val) -> bool {
    match value {
        Val::Null => true,
        Val::Bool(b) => !b,
        Val::Int(i) => *i == 0,
        Val::Uint(u) => *u == 0,
        Val::Double(d) => *d == 0.0,
        Val::String(s) => s.is_empty(),
        Val::Bytes(b) => b.is_empty(),
        Val::List(l) => l.is_empty(),
        Val::Map(m) => m.entries.is_empty(),
        Val::Duration(d) | Val::Timestamp(d) => *d == 0,
        _ => false,
    }
}

fn to_int(value: &Val) -> Result<i64, String> {
    match value {
        Val::Int(i) => Ok(*i),
        Val::Uint(u) => i64::try_from(*u).map_err(|_| "int overflow".to_owned()),
        Val::Double(d) if d.is_finite() && *d > -9.223_372_036_854_776e18 && *d < 9.223_372_036_854_776e18 => {
            Ok(d.trunc() as i64)
        }
        Val::Double(_) => Err("int overflow".to_owned()),
        Val::String(s) => s.parse().map_err(|_| format!("cannot convert string '{s}' to int")),
        Val::Timestamp(t) => Ok(t.div_euclid(1_000_000_000) as i64),
        Val::Duration(d) => Ok((d / 1_000_000_000) as i64),
        other => Err(no_overload(other.type_name())),
    }
}

fn index_value(collection: &Val, index: &Val) -> Result<Val, String> {
    match (collection, index) {
        (Val::List(items), _) => {
            let i = match index {
                Val::Int(i) => *i,
                Val::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
                Val::Double(d) if d.fract() == 0.0 => *d as i64,
                _ => return Err(format!("unsupported index type '{}' in list", index.type_name())),
            };
            usize::try_from(i)
                .ok()
                .and_then(|position| items.get(position))
                .cloned()
                .ok_or_else(|| format!("index out of bounds: {i}"))
        }
        (Val::Map(map), key) => map
            .get(key)
            .cloned()
            .ok_or_else(|| format!("no such key: {}", key_text(key))),
        _ => Err(no_overload("_[_]")),
    }
}

/// How a missing key prints in `no such key: ...`.
pub(crate) fn key_text(key: &Val) -> String {
    match key {
        Val::String(s) => s.to_string(),
        other => to_string(other).unwrap_or_default(),
    }
}

pub(crate) fn size(value: &Val) -> EvalResult {
    ok(Val::Int(match value {
        Val::String(s) => s.chars().count() as i64,
        Val::Bytes(b) => b.len() as i64,
        Val::List(l) => l.len() as i64,
        Val::Map(m) => m.entries.len() as i64,
        _ => return Err(no_overload("size")),
    }))
}

pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    // Kubernetes rejects IPv4-mapped IPv6 and zones; std rejects zones already.
    let ip: IpAddr = text.parse().ok()?;
    if let IpAddr::V6(v6) = ip {
        if v6.to_ipv4_mapped().is_some() {
            return None;
        }
    }
    Some(ip)
}

pub(crate) fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = text.split_once('/')?;
    let ip = parse_ip(address)?;
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_digit()) || (prefix.len() > 1 && prefix.starts_with('0'))
    {
        return None;
    }
    let prefix: u8 = prefix.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((ip, prefix))
}
