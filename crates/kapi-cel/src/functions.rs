//! Static signatures and cost estimates of the standard CEL functions and the Kubernetes libraries. The
//! runtime implementations are in `builtins`.

use std::sync::Arc;

use crate::{
    checker::traversal_cost,
    parser::{Expr, ExprKind, Literal},
    types::{Decl, Type},
};

const QUANTITY: Type = Type::Opaque("kubernetes.Quantity");
const URL: Type = Type::Opaque("kubernetes.URL");
const IP: Type = Type::Opaque("net.IP");
const CIDR: Type = Type::Opaque("net.CIDR");
const SEMVER: Type = Type::Opaque("kubernetes.Semver");
const IMAGE: Type = Type::Opaque("kubernetes.Image");
const FORMAT: Type = Type::Opaque("kubernetes.NamedFormat");

/// Every function and operator name the environment declares.
const KNOWN: &[&str] = &[
    "_+_",
    "_-_",
    "_*_",
    "_/_",
    "_%_",
    "-_",
    "!_",
    "_&&_",
    "_||_",
    "_==_",
    "_!=_",
    "_<_",
    "_<=_",
    "_>_",
    "_>=_",
    "@in",
    "_[_]",
    "_[?_]",
    "_?_:_",
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "split",
    "substring",
    "trim",
    "join",
    "format",
    "strings.quote",
    "find",
    "findAll",
    "isSorted",
    "sum",
    "min",
    "max",
    "sets.contains",
    "sets.equivalent",
    "sets.intersects",
    "url",
    "isURL",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
    "getEscapedPath",
    "getQuery",
    "ip",
    "isIP",
    "ip.isCanonical",
    "family",
    "isUnspecified",
    "isLoopback",
    "isLinkLocalMulticast",
    "isLinkLocalUnicast",
    "isGlobalUnicast",
    "cidr",
    "isCIDR",
    "containsIP",
    "containsCIDR",
    "masked",
    "prefixLength",
    "quantity",
    "isQuantity",
    "isInteger",
    "asInteger",
    "asApproximateFloat",
    "sign",
    "add",
    "sub",
    "isGreaterThan",
    "isLessThan",
    "compareTo",
    "semver",
    "isSemver",
    "major",
    "minor",
    "patch",
    "optional.of",
    "optional.none",
    "optional.ofNonZeroValue",
    "hasValue",
    "value",
    "or",
    "orValue",
    "format.named",
    "format.dns1123Label",
    "format.dns1123Subdomain",
    "format.dns1035Label",
    "format.qualifiedName",
    "format.dns1123LabelPrefix",
    "format.dns1123SubdomainPrefix",
    "format.dns1035LabelPrefix",
    "format.labelValue",
    "format.uri",
    "format.uuid",
    "format.byte",
    "format.date",
    "format.datetime",
    "validate",
    "image",
    "isImage",
    "containsDigest",
    "registry",
    "repository",
    "identifier",
    "tag",
    "digest",
];

/// The names of the named formats (`format.named(name)`).
pub(crate) const FORMAT_NAMES: &[&str] = &[
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime",
];

pub(crate) fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}

fn numeric(ty: &Type) -> bool {
    matches!(ty, Type::Int | Type::Uint | Type::Double)
}

fn same(a: &Type, b: &Type) -> bool {
    a.accepts(b) || matches!(a, Type::Null) || matches!(b, Type::Null)
}

fn sized(ty: Type, max_size: u64) -> Decl {
    Decl { ty, max_size }
}

fn one(ty: Type) -> Decl {
    Decl { ty, max_size: 1 }
}

fn unbounded(ty: Type) -> Decl {
    Decl::unbounded(ty)
}

/// The length of a string literal argument, if it is one.
fn literal_len_opt(expr: Option<&Expr>) -> Option<u64> {
    match expr.map(|expr| &expr.kind) {
        Some(ExprKind::Lit(Literal::String(text))) => Some(text.chars().count() as u64),
        _ => None,
    }
}

/// Kubernetes' cost of one pass over a list: 1 per element, plus 0.1 per character of string elements.
fn list_traversal_cost(list: Option<&Decl>) -> u64 {
    let Some(list) = list else { return 1 };
    let per_element = match &list.ty {
        Type::List(elem) if matches!(elem.ty, Type::String | Type::Bytes) => 1 + traversal_cost(elem.max_size),
        _ => 1,
    };
    list.max_size.saturating_mul(per_element).max(1)
}

/// The length of a string literal argument, for the cost of `matches` against a constant regex.
fn literal_len(expr: Option<&Expr>, decl: &Decl) -> u64 {
    match expr.map(|expr| &expr.kind) {
        Some(ExprKind::Lit(Literal::String(text))) => text.chars().count() as u64,
        _ => decl.max_size,
    }
}

/// cel-go's regex cost: 0.1 per character of the subject (plus one) times 0.25 per character of the regex.
pub(crate) fn regex_cost(subject_size: u64, regex_size: u64) -> u64 {
    let regex_factor = regex_size / 4 + u64::from(regex_size % 4 != 0);
    traversal_cost(subject_size.saturating_add(1))
        .saturating_mul(regex_factor)
        .max(1)
}

/// The result declaration and call cost of `name` applied to `target` and `args`, or `None` when no overload
/// matches. `dyn` arguments match any parameter.
pub(crate) fn signature(
    name: &str,
    target: Option<&Decl>,
    args: &[Arc<Decl>],
    arg_exprs: &[Expr],
) -> Option<(Decl, u64)> {
    let a = |i: usize| args.get(i).map(|decl| &decl.ty);
    let t = target.map(|decl| &decl.ty);
    let size_of = |i: usize| args.get(i).map_or(0, |decl| decl.max_size);
    let target_size = target.map_or(0, |decl| decl.max_size);
    let any_dyn = args.iter().any(|decl| decl.ty.is_dyn()) || t.is_some_and(Type::is_dyn);
    let string_or_dyn = |ty: Option<&Type>| matches!(ty, Some(Type::String | Type::Dyn));
    let int_or_dyn = |ty: Option<&Type>| matches!(ty, Some(Type::Int | Type::Dyn));
    let is = |ty: Option<&Type>, want: &Type| {
        ty.is_some_and(|ty| ty.is_dyn() || want.accepts(ty) && !matches!(want, Type::Dyn))
    };
    let n = args.len();
    let global = t.is_none();
    let result = match (name, n, global) {
        ("_+_", 2, true) => {
            let (x, y) = (a(0)?, a(1)?);
            match (x, y) {
                (Type::String, Type::String) | (Type::Bytes, Type::Bytes) => {
                    let size = size_of(0).saturating_add(size_of(1));
                    return Some((sized(x.clone(), size), traversal_cost(size)));
                }
                (Type::List(l), Type::List(r)) => {
                    let elem = if l.ty.accepts(&r.ty) && !l.ty.is_dyn() {
                        l.clone()
                    } else {
                        Arc::new(unbounded(Type::Dyn))
                    };
                    let elem = Arc::new(Decl {
                        ty: elem.ty.clone(),
                        max_size: l.max_size.max(r.max_size),
                    });
                    return Some((sized(Type::List(elem), size_of(0).saturating_add(size_of(1))), 1));
                }
                (Type::Duration, Type::Duration) => one(Type::Duration),
                (Type::Timestamp, Type::Duration) | (Type::Duration, Type::Timestamp) => one(Type::Timestamp),
                (x, y) if numeric(x) && std::mem::discriminant(x) == std::mem::discriminant(y) => one(x.clone()),
                (Type::Dyn, other) | (other, Type::Dyn) => {
                    return Some((
                        unbounded(if matches!(other, Type::Dyn) {
                            Type::Dyn
                        } else {
                            other.clone()
                        }),
                        traversal_cost(size_of(0).saturating_add(size_of(1))),
                    ));
                }
                _ => return None,
            }
        }
        ("_-_", 2, true) => match (a(0)?, a(1)?) {
            (Type::Timestamp, Type::Timestamp) | (Type::Duration, Type::Duration) => one(Type::Duration),
            (Type::Timestamp, Type::Duration) => one(Type::Timestamp),
            (x, y) if numeric(x) && std::mem::discriminant(x) == std::mem::discriminant(y) => one(x.clone()),
            (Type::Dyn, other) | (other, Type::Dyn) => one(other.clone()),
            _ => return None,
        },
        ("_*_" | "_/_", 2, true) => match (a(0)?, a(1)?) {
            (x, y) if numeric(x) && std::mem::discriminant(x) == std::mem::discriminant(y) => one(x.clone()),
            (Type::Dyn, other) | (other, Type::Dyn) if numeric(other) || other.is_dyn() => one(other.clone()),
            _ => return None,
        },
        ("_%_", 2, true) => match (a(0)?, a(1)?) {
            (Type::Int, Type::Int) => one(Type::Int),
            (Type::Uint, Type::Uint) => one(Type::Uint),
            (Type::Dyn, other) | (other, Type::Dyn) if matches!(other, Type::Int | Type::Uint | Type::Dyn) => {
                one(other.clone())
            }
            _ => return None,
        },
        ("-_", 1, true) => match a(0)? {
            ty @ (Type::Int | Type::Double | Type::Dyn) => one(ty.clone()),
            _ => return None,
        },
        ("!_", 1, true) if is(a(0), &Type::Bool) => one(Type::Bool),
        ("_&&_" | "_||_", 2, true) if is(a(0), &Type::Bool) && is(a(1), &Type::Bool) => one(Type::Bool),
        ("_==_" | "_!=_", 2, true) => {
            if !same(a(0)?, a(1)?) {
                return None;
            }
            // cel-go: 0.1 per element or character of the smaller operand, at least 1.
            let cost = traversal_cost(size_of(0).min(size_of(1)));
            return Some((one(Type::Bool), cost.max(1)));
        }
        ("_<_" | "_<=_" | "_>_" | "_>=_", 2, true) => {
            let ok = match (a(0)?, a(1)?) {
                (x, y) if numeric(x) && numeric(y) => true,
                (Type::Dyn, _) | (_, Type::Dyn) => true,
                (x @ (Type::String | Type::Bytes | Type::Bool | Type::Timestamp | Type::Duration), y) => {
                    std::mem::discriminant(x) == std::mem::discriminant(y)
                }
                _ => false,
            };
            if !ok {
                return None;
            }
            let cost = match a(0)? {
                Type::String | Type::Bytes => traversal_cost(size_of(0).min(size_of(1))),
                _ => 1,
            };
            return Some((one(Type::Bool), cost.max(1)));
        }
        ("@in", 2, true) => match a(1)? {
            Type::List(elem) if same(&elem.ty, a(0)?) => return Some((one(Type::Bool), size_of(1))),
            Type::Map(key, _) if same(&key.ty, a(0)?) => one(Type::Bool),
            Type::Dyn => return Some((one(Type::Bool), size_of(1))),
            _ => return None,
        },
        ("_[_]", 2, true) => match (a(0)?, a(1)?) {
            (Type::List(elem), Type::Int | Type::Uint | Type::Dyn) => (**elem).clone(),
            (Type::Map(key, value), index) if same(&key.ty, index) => (**value).clone(),
            (Type::Dyn, _) => unbounded(Type::Dyn),
            _ => return None,
        },
        ("_[?_]", 2, true) => match (a(0)?, a(1)?) {
            (Type::List(elem), Type::Int | Type::Uint | Type::Dyn) => {
                sized(Type::Optional(elem.clone()), elem.max_size)
            }
            (Type::Map(key, value), index) if same(&key.ty, index) => {
                sized(Type::Optional(value.clone()), value.max_size)
            }
            (Type::Dyn, _) => unbounded(Type::optional(Type::Dyn)),
            (Type::Optional(inner), _) => match &inner.ty {
                Type::List(elem) => sized(Type::Optional(elem.clone()), elem.max_size),
                Type::Map(_, value) => sized(Type::Optional(value.clone()), value.max_size),
                _ => unbounded(Type::optional(Type::Dyn)),
            },
            _ => return None,
        },
        ("_?_:_", 3, true) => {
            if !is(a(0), &Type::Bool) || !same(a(1)?, a(2)?) {
                return None;
            }
            let ty = if a(1)?.is_dyn() || matches!(a(1)?, Type::Null) {
                a(2)?.clone()
            } else {
                a(1)?.clone()
            };
            return Some((sized(ty, size_of(1).max(size_of(2))), 0));
        }
        ("size", 1, true) | ("size", 0, false) => {
            let ty = if global { a(0)? } else { t? };
            match ty {
                Type::String | Type::Bytes | Type::List(_) | Type::Map(..) | Type::Dyn => one(Type::Int),
                _ => return None,
            }
        }
        ("int", 1, true) => match a(0)? {
            Type::Int | Type::Uint | Type::Double | Type::String | Type::Timestamp | Type::Duration | Type::Dyn => {
                one(Type::Int)
            }
            _ => return None,
        },
        ("uint", 1, true) => match a(0)? {
            Type::Int | Type::Uint | Type::Double | Type::String | Type::Dyn => one(Type::Uint),
            _ => return None,
        },
        ("double", 1, true) => match a(0)? {
            Type::Int | Type::Uint | Type::Double | Type::String | Type::Dyn => one(Type::Double),
            _ => return None,
        },
        ("string", 1, true) => match a(0)? {
            Type::String => return Some((args[0].as_ref().clone(), 1)),
            Type::Int
            | Type::Uint
            | Type::Double
            | Type::Bool
            | Type::Bytes
            | Type::Timestamp
            | Type::Duration
            | Type::Dyn => unbounded(Type::String),
            Type::Opaque(name) if matches!(*name, "net.IP" | "net.CIDR" | "kubernetes.URL" | "kubernetes.Semver") => {
                unbounded(Type::String)
            }
            _ => return None,
        },
        ("bytes", 1, true) if string_or_dyn(a(0)) || matches!(a(0), Some(Type::Bytes)) => {
            sized(Type::Bytes, size_of(0))
        }
        ("bool", 1, true) if matches!(a(0), Some(Type::Bool | Type::String | Type::Dyn)) => one(Type::Bool),
        ("type", 1, true) => one(Type::Type),
        ("dyn", 1, true) => sized(Type::Dyn, size_of(0)),
        ("duration", 1, true) if string_or_dyn(a(0)) || matches!(a(0), Some(Type::Duration)) => one(Type::Duration),
        ("timestamp", 1, true) if matches!(a(0), Some(Type::String | Type::Int | Type::Timestamp | Type::Dyn)) => {
            one(Type::Timestamp)
        }
        ("contains" | "startsWith" | "endsWith", 1, false) if string_or_dyn(t) && string_or_dyn(a(0)) => {
            let cost = if name == "contains" {
                traversal_cost(target_size).saturating_mul(traversal_cost(size_of(0)))
            } else {
                traversal_cost(size_of(0))
            };
            return Some((one(Type::Bool), cost.max(1)));
        }
        ("matches", 1, false) | ("matches", 2, true) => {
            let (subject, pattern, pattern_index) = if global { (a(0), a(1), 1) } else { (t, a(0), 0) };
            if !string_or_dyn(subject) || !string_or_dyn(pattern) {
                return None;
            }
            let subject_size = if global { size_of(0) } else { target_size };
            let regex_size = literal_len(arg_exprs.get(pattern_index), &args[pattern_index]);
            return Some((one(Type::Bool), regex_cost(subject_size, regex_size)));
        }
        ("getFullYear" | "getMonth" | "getDate" | "getDayOfMonth" | "getDayOfWeek" | "getDayOfYear", 0 | 1, false)
            if matches!(t, Some(Type::Timestamp | Type::Dyn)) && (n == 0 || string_or_dyn(a(0))) =>
        {
            one(Type::Int)
        }
        ("getHours" | "getMinutes" | "getSeconds" | "getMilliseconds", 0 | 1, false)
            if matches!(t, Some(Type::Timestamp | Type::Duration | Type::Dyn)) && (n == 0 || string_or_dyn(a(0))) =>
        {
            one(Type::Int)
        }
        // The strings extension (cel-go ext.Strings, version 2 as Kubernetes uses it).
        ("charAt", 1, false) if string_or_dyn(t) && int_or_dyn(a(0)) => {
            // Strings version 2 has no cost estimators: a plain call.
            return Some((sized(Type::String, 4), 1));
        }
        ("indexOf" | "lastIndexOf", 1 | 2, false)
            if string_or_dyn(t) && string_or_dyn(a(0)) && (n == 1 || int_or_dyn(a(1))) =>
        {
            return Some((one(Type::Int), traversal_cost(target_size).max(1)));
        }
        ("indexOf" | "lastIndexOf", 1, false) if matches!(t, Some(Type::List(_))) => {
            return Some((one(Type::Int), list_traversal_cost(target)))
        }
        ("lowerAscii" | "upperAscii" | "trim", 0, false) if string_or_dyn(t) => {
            return Some((sized(Type::String, target_size), traversal_cost(target_size).max(1)));
        }
        ("replace", 2 | 3, false)
            if string_or_dyn(t) && string_or_dyn(a(0)) && string_or_dyn(a(1)) && (n == 2 || int_or_dyn(a(2))) =>
        {
            // Kubernetes' estimate: the longest result replaces the shortest matches with the longest replacement.
            let shortest_match = literal_len_opt(arg_exprs.first()).unwrap_or(0);
            let size = if shortest_match == 0 {
                target_size
                    .saturating_add(1)
                    .saturating_mul(size_of(1))
                    .saturating_add(target_size)
            } else if size_of(1) <= shortest_match {
                target_size
            } else {
                target_size.div_ceil(shortest_match).saturating_mul(size_of(1))
            };
            return Some((
                sized(Type::String, size),
                traversal_cost(target_size.saturating_mul(2)).max(1),
            ));
        }
        ("split", 1 | 2, false) if string_or_dyn(t) && string_or_dyn(a(0)) && (n == 1 || int_or_dyn(a(1))) => {
            let elem = Arc::new(sized(Type::String, target_size));
            let count = match arg_exprs.get(1).map(|expr| &expr.kind) {
                Some(ExprKind::Lit(Literal::Int(limit))) => u64::try_from(*limit).unwrap_or(u64::MAX),
                _ => target_size,
            };
            return Some((
                sized(Type::List(elem), count),
                traversal_cost(target_size.saturating_mul(2)).max(1),
            ));
        }
        ("substring", 1 | 2, false) if string_or_dyn(t) && int_or_dyn(a(0)) && (n == 1 || int_or_dyn(a(1))) => {
            return Some((sized(Type::String, target_size), traversal_cost(target_size).max(1)));
        }
        ("join", 0 | 1, false) if matches!(t, Some(Type::List(_) | Type::Dyn)) && (n == 0 || string_or_dyn(a(0))) => {
            let elem_size = match t {
                Some(Type::List(elem)) => elem.max_size,
                _ => u64::MAX,
            };
            let separators = target_size.saturating_sub(1).saturating_mul(size_of(0));
            let size = target_size.saturating_mul(elem_size).saturating_add(separators);
            return Some((sized(Type::String, size), traversal_cost(size).max(1)));
        }
        ("format", 1, false) if string_or_dyn(t) && matches!(a(0), Some(Type::List(_) | Type::Dyn)) => {
            // cel-go charges for the template only and cannot bound the result.
            return Some((unbounded(Type::String), traversal_cost(target_size).max(1)));
        }
        ("strings.quote", 1, true) if string_or_dyn(a(0)) => {
            return Some((
                sized(Type::String, size_of(0).saturating_mul(2).saturating_add(2)),
                traversal_cost(size_of(0)).max(1),
            ));
        }
        // The Kubernetes regex library.
        ("find", 1, false) if string_or_dyn(t) && string_or_dyn(a(0)) => {
            let regex_size = literal_len(arg_exprs.first(), &args[0]);
            return Some((sized(Type::String, target_size), regex_cost(target_size, regex_size)));
        }
        ("findAll", 1 | 2, false) if string_or_dyn(t) && string_or_dyn(a(0)) && (n == 1 || int_or_dyn(a(1))) => {
            let regex_size = literal_len(arg_exprs.first(), &args[0]);
            let elem = Arc::new(sized(Type::String, target_size));
            return Some((
                sized(Type::List(elem), target_size),
                regex_cost(target_size, regex_size),
            ));
        }
        // The Kubernetes lists library.
        ("isSorted", 0, false) if matches!(t, Some(Type::List(_) | Type::Dyn)) => {
            return Some((one(Type::Bool), list_traversal_cost(target)))
        }
        ("sum" | "min" | "max", 0, false) => match t? {
            Type::List(elem) => return Some(((**elem).clone(), list_traversal_cost(target))),
            Type::Dyn => return Some((unbounded(Type::Dyn), list_traversal_cost(target))),
            _ => return None,
        },
        ("sets.contains" | "sets.equivalent" | "sets.intersects", 2, true) => match (a(0)?, a(1)?) {
            (Type::List(_) | Type::Dyn, Type::List(_) | Type::Dyn) => {
                return Some((one(Type::Bool), size_of(0).saturating_mul(size_of(1)).max(1)));
            }
            _ => return None,
        },
        // The URL library.
        ("url", 1, true) if string_or_dyn(a(0)) => {
            return Some((sized(URL, size_of(0)), traversal_cost(size_of(0)).max(1)))
        }
        ("isURL", 1, true) if string_or_dyn(a(0)) => one(Type::Bool),
        ("getScheme" | "getHost" | "getHostname" | "getPort" | "getEscapedPath", 0, false) if is(t, &URL) => {
            sized(Type::String, target_size)
        }
        ("getQuery", 0, false) if is(t, &URL) => {
            let list = Type::List(Arc::new(sized(Type::String, target_size)));
            sized(
                Type::Map(
                    Arc::new(sized(Type::String, target_size)),
                    Arc::new(sized(list, target_size)),
                ),
                target_size,
            )
        }
        // The IP and CIDR libraries.
        // Kubernetes' estimator prices parsing only for member calls, so these global parsers cost 1 statically.
        ("ip", 1, true) if string_or_dyn(a(0)) => one(IP),
        ("isIP" | "ip.isCanonical" | "isCIDR", 1, true) if string_or_dyn(a(0)) => one(Type::Bool),
        ("family", 0, false) if is(t, &IP) => one(Type::Int),
        (
            "isUnspecified" | "isLoopback" | "isLinkLocalMulticast" | "isLinkLocalUnicast" | "isGlobalUnicast",
            0,
            false,
        ) if is(t, &IP) => one(Type::Bool),
        ("cidr", 1, true) if string_or_dyn(a(0)) => one(CIDR),
        // Comparing two addresses of up to 16 bytes, plus parsing a string argument.
        ("containsIP", 1, false) if is(t, &CIDR) && (is(a(0), &IP) || string_or_dyn(a(0))) => {
            let parse = if matches!(a(0), Some(Type::String)) {
                traversal_cost(size_of(0))
            } else {
                0
            };
            return Some((one(Type::Bool), 4 + parse));
        }
        ("containsCIDR", 1, false) if is(t, &CIDR) && (is(a(0), &CIDR) || string_or_dyn(a(0))) => {
            let parse = if matches!(a(0), Some(Type::String)) {
                traversal_cost(size_of(0))
            } else {
                0
            };
            return Some((one(Type::Bool), 7 + parse));
        }
        ("ip", 0, false) if is(t, &CIDR) => one(IP),
        ("masked", 0, false) if is(t, &CIDR) => one(CIDR),
        ("prefixLength", 0, false) if is(t, &CIDR) => one(Type::Int),
        // The quantity library.
        ("quantity", 1, true) if string_or_dyn(a(0)) => one(QUANTITY),
        ("isQuantity", 1, true) if string_or_dyn(a(0)) => one(Type::Bool),
        ("isInteger", 0, false) if is(t, &QUANTITY) => one(Type::Bool),
        ("asInteger" | "sign", 0, false) if is(t, &QUANTITY) => one(Type::Int),
        ("asApproximateFloat", 0, false) if is(t, &QUANTITY) => one(Type::Double),
        ("add" | "sub", 1, false) if is(t, &QUANTITY) && (is(a(0), &QUANTITY) || int_or_dyn(a(0))) => one(QUANTITY),
        ("isGreaterThan" | "isLessThan", 1, false)
            if (is(t, &QUANTITY) && is(a(0), &QUANTITY)) || (is(t, &SEMVER) && is(a(0), &SEMVER)) =>
        {
            one(Type::Bool)
        }
        ("compareTo", 1, false)
            if (is(t, &QUANTITY) && is(a(0), &QUANTITY)) || (is(t, &SEMVER) && is(a(0), &SEMVER)) =>
        {
            one(Type::Int)
        }
        // The semver library.
        ("semver", 1 | 2, true) if string_or_dyn(a(0)) && (n == 1 || is(a(1), &Type::Bool)) => one(SEMVER),
        ("isSemver", 1 | 2, true) if string_or_dyn(a(0)) && (n == 1 || is(a(1), &Type::Bool)) => one(Type::Bool),
        ("major" | "minor" | "patch", 0, false) if is(t, &SEMVER) => one(Type::Int),
        // The image library (Kubernetes 1.33).
        ("image", 1, true) if string_or_dyn(a(0)) => one(IMAGE),
        ("isImage", 1, true) if string_or_dyn(a(0)) => one(Type::Bool),
        ("containsDigest", 0, false) if is(t, &IMAGE) => one(Type::Bool),
        ("registry" | "repository" | "identifier" | "tag" | "digest", 0, false) if is(t, &IMAGE) => {
            sized(Type::String, target_size.max(1))
        }
        // Optional types.
        ("optional.of" | "optional.ofNonZeroValue", 1, true) => {
            return Some((sized(Type::Optional(args[0].clone()), size_of(0)), 1));
        }
        ("optional.none", 0, true) => one(Type::optional(Type::Dyn)),
        ("hasValue", 0, false) if matches!(t, Some(Type::Optional(_) | Type::Dyn)) => one(Type::Bool),
        ("value", 0, false) => match t? {
            Type::Optional(inner) => (**inner).clone(),
            Type::Dyn => unbounded(Type::Dyn),
            _ => return None,
        },
        ("or", 1, false) => match (t?, a(0)?) {
            (Type::Optional(x), Type::Optional(y)) if same(&x.ty, &y.ty) => target?.clone(),
            (Type::Dyn, other) | (other, Type::Dyn) => unbounded(other.clone()),
            _ => return None,
        },
        ("orValue", 1, false) => match t? {
            Type::Optional(inner) if same(&inner.ty, a(0)?) => sized(inner.ty.clone(), inner.max_size.max(size_of(0))),
            Type::Dyn => unbounded(a(0)?.clone()),
            _ => return None,
        },
        // Named formats.
        ("format.named", 1, true) if string_or_dyn(a(0)) => one(Type::optional(FORMAT)),
        (format, 0, true)
            if format
                .strip_prefix("format.")
                .is_some_and(|name| FORMAT_NAMES.contains(&name)) =>
        {
            one(FORMAT)
        }
        ("validate", 1, false) if is(t, &FORMAT) && string_or_dyn(a(0)) => {
            return Some((
                one(Type::optional(Type::list(Type::String))),
                traversal_cost(size_of(0)).max(1),
            ));
        }
        _ => {
            if any_dyn && is_known(name) {
                return None;
            }
            return None;
        }
    };
    Some((result, 1))
}
