//! Runtime implementations of member functions (`x.f(...)`): strings, regex, timestamps, lists, URLs, IPs and
//! CIDRs, quantities, semver, optionals and named formats.

use std::{cmp::Ordering, collections::BTreeMap, net::IpAddr, rc::Rc};

use crate::{
    builtins::{arithmetic, no_overload, ok, overflow, parse_cidr, parse_ip, size, str_arg, with_regex, EvalResult},
    checker::traversal_cost,
    library::Quantity,
    time::{civil_from_days, days_from_civil},
    value::{Key, MapVal, Val},
};

fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::from((u32::from(v4) & mask).to_be_bytes())
        }
        IpAddr::V6(v6) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::from((u128::from(v6) & mask).to_be_bytes())
        }
    }
}

fn cidr_contains(network: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    network.is_ipv4() == ip.is_ipv4() && masked(network, prefix) == masked(ip, prefix)
}

fn timestamp_part(name: &str, nanos: i128, zone: Option<&str>) -> Result<i64, String> {
    let offset = match zone {
        None | Some("UTC" | "Z") => 0,
        Some(zone) => parse_offset(zone).ok_or_else(|| format!("unknown time zone {zone}"))?,
    };
    let local = nanos + i128::from(offset) * 1_000_000_000;
    let seconds = local.div_euclid(1_000_000_000) as i64;
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Ok(match name {
        "getFullYear" => year,
        "getMonth" => i64::from(month) - 1,
        "getDate" => i64::from(day),
        "getDayOfMonth" => i64::from(day) - 1,
        "getDayOfWeek" => (days + 4).rem_euclid(7),
        "getDayOfYear" => days - days_from_civil(year, 1, 1),
        "getHours" => second_of_day / 3600,
        "getMinutes" => second_of_day % 3600 / 60,
        "getSeconds" => second_of_day % 60,
        _ => (local.rem_euclid(1_000_000_000) / 1_000_000) as i64,
    })
}

/// `+05:30` / `-08:00` offsets (IANA zone names need a tz database kapi does not carry).
fn parse_offset(zone: &str) -> Option<i64> {
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    Some(sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60))
}

pub(crate) fn member(name: &str, target: Val, args: Vec<Val>) -> EvalResult {
    match (name, &target, args.as_slice()) {
        ("size", value, []) => size(value),
        ("contains", Val::String(s), [Val::String(sub)]) => Ok((
            Val::Bool(s.contains(sub.as_ref())),
            traversal_cost(s.len() as u64).max(1),
        )),
        ("startsWith", Val::String(s), [Val::String(prefix)]) => Ok((
            Val::Bool(s.starts_with(prefix.as_ref())),
            traversal_cost(prefix.len() as u64).max(1),
        )),
        ("endsWith", Val::String(s), [Val::String(suffix)]) => Ok((
            Val::Bool(s.ends_with(suffix.as_ref())),
            traversal_cost(suffix.len() as u64).max(1),
        )),
        ("matches", Val::String(s), [Val::String(pattern)]) => {
            let matched = with_regex(pattern, |re| re.is_match(s))?;
            Ok((
                Val::Bool(matched),
                crate::functions::regex_cost(s.len() as u64, pattern.len() as u64),
            ))
        }
        ("find", Val::String(s), [Val::String(pattern)]) => {
            let found = with_regex(pattern, |re| {
                re.find(s).map_or(String::new(), |m| m.as_str().to_owned())
            })?;
            Ok((
                Val::string(found),
                crate::functions::regex_cost(s.len() as u64, pattern.len() as u64),
            ))
        }
        ("findAll", Val::String(s), [Val::String(pattern), rest @ ..]) => {
            let limit = match rest {
                [] => -1,
                [Val::Int(n)] => *n,
                _ => return Err(no_overload(name)),
            };
            let limit = if limit < 0 { usize::MAX } else { limit as usize };
            let found: Vec<Val> = with_regex(pattern, |re| {
                re.find_iter(s).take(limit).map(|m| Val::string(m.as_str())).collect()
            })?;
            Ok((
                Val::List(Rc::new(found)),
                crate::functions::regex_cost(s.len() as u64, pattern.len() as u64),
            ))
        }
        (
            "getFullYear" | "getMonth" | "getDate" | "getDayOfMonth" | "getDayOfWeek" | "getDayOfYear" | "getHours"
            | "getMinutes" | "getSeconds" | "getMilliseconds",
            Val::Timestamp(t),
            zone,
        ) => {
            let zone = match zone {
                [] => None,
                [Val::String(zone)] => Some(zone.as_ref()),
                _ => return Err(no_overload(name)),
            };
            ok(Val::Int(timestamp_part(name, *t, zone)?))
        }
        ("getHours" | "getMinutes" | "getSeconds" | "getMilliseconds", Val::Duration(d), []) => {
            ok(Val::Int(match name {
                "getHours" => (d / 3_600_000_000_000) as i64,
                "getMinutes" => (d / 60_000_000_000) as i64,
                "getSeconds" => (d / 1_000_000_000) as i64,
                _ => (d / 1_000_000) as i64,
            }))
        }
        ("charAt", Val::String(s), [Val::Int(i)]) => {
            let count = s.chars().count() as i64;
            if *i < 0 || *i > count {
                return Err(format!("index out of range: {i}"));
            }
            let c = s.chars().nth(*i as usize).map(String::from).unwrap_or_default();
            Ok((Val::string(c), traversal_cost(s.len() as u64).max(1)))
        }
        ("indexOf" | "lastIndexOf", Val::String(s), [Val::String(sub), rest @ ..]) => string_index(name, s, sub, rest),
        ("indexOf" | "lastIndexOf", Val::List(items), [value]) => {
            let mut positions = items
                .iter()
                .enumerate()
                .filter(|(_, item)| item.equals(value))
                .map(|(i, _)| i as i64);
            let found = if name == "indexOf" {
                positions.next()
            } else {
                positions.next_back()
            };
            Ok((Val::Int(found.unwrap_or(-1)), items.len().max(1) as u64))
        }
        ("lowerAscii", Val::String(s), []) => Ok((
            Val::string(s.to_ascii_lowercase()),
            traversal_cost(s.len() as u64).max(1),
        )),
        ("upperAscii", Val::String(s), []) => Ok((
            Val::string(s.to_ascii_uppercase()),
            traversal_cost(s.len() as u64).max(1),
        )),
        ("trim", Val::String(s), []) => Ok((Val::string(s.trim()), traversal_cost(s.len() as u64).max(1))),
        ("replace", Val::String(s), [Val::String(from), Val::String(to), rest @ ..]) => {
            let text = match rest {
                [] => s.replace(from.as_ref(), to),
                [Val::Int(n)] if *n < 0 => s.replace(from.as_ref(), to),
                [Val::Int(n)] => s.replacen(from.as_ref(), to, *n as usize),
                _ => return Err(no_overload(name)),
            };
            Ok((Val::string(text), traversal_cost(s.len() as u64).max(1)))
        }
        ("split", Val::String(s), [Val::String(separator), rest @ ..]) => {
            let limit = match rest {
                [] => -1,
                [Val::Int(n)] => *n,
                _ => return Err(no_overload(name)),
            };
            let parts: Vec<Val> = match limit {
                0 => Vec::new(),
                n if n < 0 => split_all(s, separator).into_iter().map(Val::string).collect(),
                n => {
                    if separator.is_empty() {
                        let chars: Vec<char> = s.chars().collect();
                        let n = (n as usize).min(chars.len().max(1));
                        let mut parts: Vec<Val> = chars
                            .iter()
                            .take(n.saturating_sub(1))
                            .map(|c| Val::string(c.to_string()))
                            .collect();
                        parts.push(Val::string(chars.iter().skip(n.saturating_sub(1)).collect::<String>()));
                        parts
                    } else {
                        s.splitn(n as usize, separator.as_ref()).map(Val::string).collect()
                    }
                }
            };
            Ok((Val::List(Rc::new(parts)), traversal_cost(s.len() as u64).max(1)))
        }
        ("substring", Val::String(s), [Val::Int(start), rest @ ..]) => {
            let chars: Vec<char> = s.chars().collect();
            let end = match rest {
                [] => chars.len() as i64,
                [Val::Int(end)] => *end,
                _ => return Err(no_overload(name)),
            };
            if *start < 0 || *start as usize > chars.len() {
                return Err(format!("index out of range: {start}"));
            }
            if end < 0 || end as usize > chars.len() {
                return Err(format!("index out of range: {end}"));
            }
            if *start > end {
                return Err(format!("invalid substring range. start: {start}, end: {end}"));
            }
            let text: String = chars[*start as usize..end as usize].iter().collect();
            Ok((Val::string(text), traversal_cost(s.len() as u64).max(1)))
        }
        ("join", Val::List(items), rest) => {
            let separator = match rest {
                [] => "",
                [Val::String(separator)] => separator.as_ref(),
                _ => return Err(no_overload(name)),
            };
            let parts: Result<Vec<&str>, String> = items
                .iter()
                .map(|item| str_arg(item).ok_or_else(|| no_overload(name)))
                .collect();
            let text = parts?.join(separator);
            let cost = traversal_cost(text.len() as u64).max(1);
            Ok((Val::string(text), cost))
        }
        ("format", Val::String(template), [Val::List(values)]) => {
            let text = crate::format::format(template, values)?;
            let cost = traversal_cost(text.len() as u64).max(1);
            Ok((Val::string(text), cost))
        }
        ("isSorted", Val::List(items), []) => {
            let mut sorted = true;
            for pair in items.windows(2) {
                match pair[0].compare(&pair[1]) {
                    Some(Ordering::Greater) => sorted = false,
                    Some(_) => {}
                    None => return Err(no_overload(name)),
                }
            }
            Ok((Val::Bool(sorted), items.len().max(1) as u64))
        }
        ("sum", Val::List(items), []) => {
            let mut total = match items.first() {
                Some(Val::Double(_)) => Val::Double(0.0),
                Some(Val::Uint(_)) => Val::Uint(0),
                Some(Val::Duration(_)) => Val::Duration(0),
                _ => Val::Int(0),
            };
            for item in items.iter() {
                total = arithmetic("_+_", &total, item)?.0;
            }
            Ok((total, items.len().max(1) as u64))
        }
        ("min" | "max", Val::List(items), []) => {
            let mut best: Option<&Val> = None;
            for item in items.iter() {
                best = Some(match best {
                    None => item,
                    Some(current) => {
                        let order = item.compare(current).ok_or_else(|| no_overload(name))?;
                        if (name == "min" && order == Ordering::Less) || (name == "max" && order == Ordering::Greater) {
                            item
                        } else {
                            current
                        }
                    }
                });
            }
            let best = best.ok_or_else(|| format!("{name} called on empty list"))?;
            Ok((best.clone(), items.len().max(1) as u64))
        }
        ("getScheme", Val::Url(url), []) => ok(Val::string(url.scheme.as_str())),
        ("getHost", Val::Url(url), []) => ok(Val::string(url.host.as_str())),
        ("getHostname", Val::Url(url), []) => ok(Val::string(url.hostname())),
        ("getPort", Val::Url(url), []) => ok(Val::string(url.port())),
        ("getEscapedPath", Val::Url(url), []) => ok(Val::string(url.path.as_str())),
        ("getQuery", Val::Url(url), []) => {
            let mut entries: BTreeMap<Key, Vec<Val>> = BTreeMap::new();
            for pair in url.query.split('&').filter(|pair| !pair.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                entries
                    .entry(Key::Str(Rc::from(key)))
                    .or_default()
                    .push(Val::string(value));
            }
            // A BTreeMap iterates in key order, as MapVal keeps its entries.
            let map = MapVal {
                entries: entries
                    .into_iter()
                    .map(|(key, values)| (key, Val::List(Rc::new(values))))
                    .collect(),
            };
            ok(Val::Map(Rc::new(map)))
        }
        ("family", Val::Ip(ip), []) => ok(Val::Int(if ip.is_ipv4() { 4 } else { 6 })),
        ("isUnspecified", Val::Ip(ip), []) => ok(Val::Bool(ip.is_unspecified())),
        ("isLoopback", Val::Ip(ip), []) => ok(Val::Bool(ip.is_loopback())),
        ("isLinkLocalMulticast", Val::Ip(ip), []) => ok(Val::Bool(match ip {
            IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
            IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
        })),
        ("isLinkLocalUnicast", Val::Ip(ip), []) => ok(Val::Bool(match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
        })),
        ("isGlobalUnicast", Val::Ip(ip), []) => ok(Val::Bool(match ip {
            IpAddr::V4(v4) => {
                !(v4.is_unspecified()
                    || v4.is_loopback()
                    || v4.is_link_local()
                    || v4.is_multicast()
                    || v4.is_broadcast())
            }
            IpAddr::V6(v6) => {
                !(v6.is_unspecified() || v6.is_loopback() || v6.is_multicast() || v6.segments()[0] & 0xffc0 == 0xfe80)
            }
        })),
        ("containsIP", Val::Cidr(network, prefix), [other]) => {
            let ip = match other {
                Val::Ip(ip) => *ip,
                Val::String(s) => {
                    parse_ip(s).ok_or_else(|| format!("IP Address {s:?} parse error during conversion from string"))?
                }
                _ => return Err(no_overload(name)),
            };
            ok(Val::Bool(cidr_contains(*network, *prefix, ip)))
        }
        ("containsCIDR", Val::Cidr(network, prefix), [other]) => {
            let (ip, other_prefix) = match other {
                Val::Cidr(ip, p) => (*ip, *p),
                Val::String(s) => parse_cidr(s)
                    .ok_or_else(|| format!("network address parse error during conversion from string: {s:?}"))?,
                _ => return Err(no_overload(name)),
            };
            ok(Val::Bool(
                other_prefix >= *prefix && cidr_contains(*network, *prefix, ip),
            ))
        }
        ("ip", Val::Cidr(ip, _), []) => ok(Val::Ip(*ip)),
        ("masked", Val::Cidr(ip, prefix), []) => ok(Val::Cidr(masked(*ip, *prefix), *prefix)),
        ("prefixLength", Val::Cidr(_, prefix), []) => ok(Val::Int(i64::from(*prefix))),
        ("isInteger", Val::Quantity(q), []) => ok(Val::Bool(q.is_integer())),
        ("asInteger", Val::Quantity(q), []) => ok(Val::Int(
            q.as_i64().ok_or_else(|| "cannot convert value to integer".to_owned())?,
        )),
        ("asApproximateFloat", Val::Quantity(q), []) => ok(Val::Double(q.as_f64())),
        ("sign", Val::Quantity(q), []) => ok(Val::Int(q.sign())),
        ("add" | "sub", Val::Quantity(q), [other]) => {
            let other = match other {
                Val::Quantity(other) => (**other).clone(),
                Val::Int(i) => Quantity {
                    mantissa: i128::from(*i),
                    exponent: 0,
                },
                _ => return Err(no_overload(name)),
            };
            let other = if name == "sub" { other.negated() } else { other };
            ok(Val::Quantity(Rc::new(q.add(&other).ok_or_else(overflow)?)))
        }
        ("isGreaterThan", Val::Quantity(a), [Val::Quantity(b)]) => ok(Val::Bool(a.compare(b) == Ordering::Greater)),
        ("isLessThan", Val::Quantity(a), [Val::Quantity(b)]) => ok(Val::Bool(a.compare(b) == Ordering::Less)),
        ("compareTo", Val::Quantity(a), [Val::Quantity(b)]) => ok(Val::Int(a.compare(b) as i64)),
        ("isGreaterThan", Val::Semver(a), [Val::Semver(b)]) => ok(Val::Bool(a.compare(b) == Ordering::Greater)),
        ("isLessThan", Val::Semver(a), [Val::Semver(b)]) => ok(Val::Bool(a.compare(b) == Ordering::Less)),
        ("compareTo", Val::Semver(a), [Val::Semver(b)]) => ok(Val::Int(a.compare(b) as i64)),
        ("major", Val::Semver(v), []) => ok(Val::Int(v.major as i64)),
        ("containsDigest", Val::Image(image), []) => ok(Val::Bool(!image.digest.is_empty())),
        ("registry", Val::Image(image), []) => ok(Val::string(image.registry.as_str())),
        ("repository", Val::Image(image), []) => ok(Val::string(image.repository.as_str())),
        ("identifier", Val::Image(image), []) => ok(Val::string(image.identifier())),
        ("tag", Val::Image(image), []) => ok(Val::string(image.tag.as_str())),
        ("digest", Val::Image(image), []) => ok(Val::string(image.digest.as_str())),
        ("minor", Val::Semver(v), []) => ok(Val::Int(v.minor as i64)),
        ("patch", Val::Semver(v), []) => ok(Val::Int(v.patch as i64)),
        ("hasValue", Val::Optional(inner), []) => ok(Val::Bool(inner.is_some())),
        ("value", Val::Optional(inner), []) => inner
            .as_ref()
            .map(|value| ((**value).clone(), 1))
            .ok_or_else(|| "optional.none() dereference".to_owned()),
        ("or", Val::Optional(inner), [other]) => ok(if inner.is_some() { target.clone() } else { other.clone() }),
        ("orValue", Val::Optional(inner), [other]) => {
            ok(inner.as_ref().map_or_else(|| other.clone(), |value| (**value).clone()))
        }
        ("validate", Val::Format(format), [Val::String(s)]) => {
            let errors = crate::format::validate_named(format, s);
            let cost = traversal_cost(s.len() as u64).max(1);
            let value = if errors.is_empty() {
                Val::Optional(None)
            } else {
                Val::Optional(Some(Rc::new(Val::List(Rc::new(
                    errors.into_iter().map(Val::string).collect(),
                )))))
            };
            Ok((value, cost))
        }
        _ => Err(no_overload(name)),
    }
}

fn split_all<'a>(s: &'a str, separator: &str) -> Vec<&'a str> {
    if separator.is_empty() {
        return s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect();
    }
    s.split(separator).collect()
}

fn string_index(name: &str, s: &str, sub: &str, rest: &[Val]) -> EvalResult {
    let chars: Vec<char> = s.chars().collect();
    let needle: Vec<char> = sub.chars().collect();
    let cost = traversal_cost((chars.len() as u64).saturating_mul(needle.len().max(1) as u64)).max(1);
    let matches_at = |i: usize| chars.get(i..i + needle.len()) == Some(needle.as_slice());
    let found = if name == "indexOf" {
        let start = match rest {
            [] => 0,
            [Val::Int(n)] if *n >= 0 && (*n as usize) <= chars.len() => *n as usize,
            [Val::Int(n)] => return Err(format!("index out of range: {n}")),
            _ => return Err(no_overload(name)),
        };
        (start..=chars.len()).find(|i| matches_at(*i))
    } else {
        let end = match rest {
            [] => chars.len(),
            [Val::Int(n)] if *n >= 0 && (*n as usize) <= chars.len() => *n as usize,
            [Val::Int(n)] => return Err(format!("index out of range: {n}")),
            _ => return Err(no_overload(name)),
        };
        (0..=end).rev().find(|i| matches_at(*i))
    };
    Ok((Val::Int(found.map_or(-1, |i| i as i64)), cost))
}
