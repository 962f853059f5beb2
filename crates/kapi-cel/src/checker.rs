//! Type checking against the schema's declared types, and the static worst-case cost estimate (cel-go's
//! `checker.Cost` model: traversal costs of 0.1 per character, comprehension costs times the most items a
//! collection can hold, sizes from `maxLength`/`maxItems`/`maxProperties` or else from the 3 MiB request limit).

use std::{collections::HashMap, sync::Arc};

use crate::{
    functions::signature,
    parser::{Expr, ExprKind, Literal, MacroKind},
    types::{Decl, Type},
};

/// A checked expression's type, worst-case size and worst-case cost.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) decl: Arc<Decl>,
    pub(crate) cost: u64,
}

/// One type error at a character offset.
#[derive(Debug, Clone)]
pub(crate) struct TypeError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// The result of checking a whole expression.
pub(crate) struct CheckResult {
    pub(crate) ty: Type,
    pub(crate) cost: u64,
    pub(crate) uses_old_self: bool,
    pub(crate) errors: Vec<TypeError>,
}

/// Namespaces of qualified function names (`sets.contains`, `optional.of`, ...).
pub(crate) const NAMESPACES: [&str; 5] = ["sets", "optional", "strings", "format", "ip"];

/// The qualified function name of `ns.f(...)` when `ns` is a library namespace rather than a variable.
pub(crate) fn qualified_name(target: &Expr, function: &str, is_variable: impl Fn(&str) -> bool) -> Option<String> {
    match &target.kind {
        ExprKind::Ident(namespace) if NAMESPACES.contains(&namespace.as_str()) && !is_variable(namespace) => {
            Some(format!("{namespace}.{function}"))
        }
        _ => None,
    }
}

/// Scales a size by cel-go's string traversal factor (0.1 per character), rounding up.
pub(crate) fn traversal_cost(size: u64) -> u64 {
    size / 10 + u64::from(size % 10 != 0)
}

struct Checker {
    scopes: Vec<HashMap<String, Arc<Decl>>>,
    errors: Vec<TypeError>,
    uses_old_self: bool,
    /// Set while checking the arguments of `format()`, whose list literals may mix types.
    in_format_arguments: bool,
}

/// Checks `expr` with the given variables in scope (`self`, `oldSelf`).
pub(crate) fn check(expr: &Expr, variables: HashMap<String, Arc<Decl>>) -> CheckResult {
    let mut checker = Checker {
        scopes: vec![variables],
        errors: Vec::new(),
        uses_old_self: false,
        in_format_arguments: false,
    };
    let checked = checker.check(expr);
    CheckResult {
        ty: checked.decl.ty.clone(),
        cost: checked.cost,
        uses_old_self: checker.uses_old_self,
        errors: checker.errors,
    }
}

fn scalar(ty: Type, cost: u64) -> Checked {
    Checked {
        decl: Arc::new(Decl { ty, max_size: 1 }),
        cost,
    }
}

fn with_size(ty: Type, max_size: u64, cost: u64) -> Checked {
    Checked {
        decl: Arc::new(Decl { ty, max_size }),
        cost,
    }
}

impl Checker {
    fn lookup(&self, name: &str) -> Option<Arc<Decl>> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name).cloned())
    }

    fn error(&mut self, offset: usize, message: String) -> Checked {
        self.errors.push(TypeError { offset, message });
        scalar(Type::Dyn, 0)
    }

    fn check(&mut self, expr: &Expr) -> Checked {
        if !matches!(expr.kind, ExprKind::List { .. } | ExprKind::Map(_)) {
            self.in_format_arguments = false;
        }
        match &expr.kind {
            ExprKind::Lit(literal) => match literal {
                Literal::Null => scalar(Type::Null, 0),
                Literal::Bool(_) => scalar(Type::Bool, 0),
                Literal::Int(_) => scalar(Type::Int, 0),
                Literal::Uint(_) => scalar(Type::Uint, 0),
                Literal::Double(_) => scalar(Type::Double, 0),
                Literal::String(text) => with_size(Type::String, text.chars().count() as u64, 0),
                Literal::Bytes(bytes) => with_size(Type::Bytes, bytes.len() as u64, 0),
            },
            ExprKind::Ident(name) => {
                if name == "oldSelf" {
                    self.uses_old_self = true;
                }
                match self.lookup(name) {
                    Some(decl) => Checked { decl, cost: 1 },
                    None => match name.as_str() {
                        "int" | "uint" | "double" | "string" | "bytes" | "bool" | "list" | "map" | "null_type"
                        | "type" => scalar(Type::Type, 0),
                        _ => self.error(
                            expr.offset,
                            format!("undeclared reference to '{name}' (in container '')"),
                        ),
                    },
                }
            }
            ExprKind::Select {
                operand,
                field,
                test_only,
                optional,
            } => {
                let operand_checked = self.check(operand);
                // Kubernetes prices has() at nothing beyond its operand (PresenceTestHasCost(false)).
                let cost = operand_checked.cost.saturating_add(u64::from(!*test_only));
                let field_decl = match &operand_checked.decl.ty {
                    Type::Object(object) => match object.fields.get(field) {
                        Some(decl) => decl.clone(),
                        None => return self.error(expr.offset, format!("undefined field '{field}'")),
                    },
                    Type::Map(_, value) => value.clone(),
                    Type::Dyn => Arc::new(Decl::unbounded(Type::Dyn)),
                    Type::Optional(inner)
                        if *optional || matches!(inner.ty, Type::Object(_) | Type::Map(..) | Type::Dyn) =>
                    {
                        let inner_field = match &inner.ty {
                            Type::Object(object) => match object.fields.get(field) {
                                Some(decl) => decl.clone(),
                                None => return self.error(expr.offset, format!("undefined field '{field}'")),
                            },
                            Type::Map(_, value) => value.clone(),
                            _ => Arc::new(Decl::unbounded(Type::Dyn)),
                        };
                        if *test_only {
                            return scalar(Type::Bool, cost);
                        }
                        return Checked {
                            decl: Arc::new(Decl {
                                ty: Type::Optional(inner_field.clone()),
                                max_size: inner_field.max_size,
                            }),
                            cost,
                        };
                    }
                    other => {
                        let other = other.clone();
                        return self.error(expr.offset, format!("type '{other}' does not support field selection"));
                    }
                };
                if *test_only {
                    return scalar(Type::Bool, cost);
                }
                if *optional {
                    return Checked {
                        decl: Arc::new(Decl {
                            ty: Type::Optional(field_decl.clone()),
                            max_size: field_decl.max_size,
                        }),
                        cost,
                    };
                }
                Checked { decl: field_decl, cost }
            }
            ExprKind::List { items, optional } => {
                let exempt = std::mem::take(&mut self.in_format_arguments);
                let mut cost: u64 = 10;
                let mut elem: Option<Arc<Decl>> = None;
                let mut max_elem_size = 0_u64;
                let mut mismatch_reported = false;
                for (index, item) in items.iter().enumerate() {
                    self.in_format_arguments = exempt;
                    let checked = self.check(item);
                    cost = cost.saturating_add(checked.cost);
                    let mut item_decl = checked.decl;
                    if optional.contains(&index) {
                        if let Type::Optional(inner) = &item_decl.ty {
                            item_decl = inner.clone();
                        }
                        // `?optional.none()` has a free type parameter: it fits any list.
                        if item_decl.ty.is_dyn() {
                            continue;
                        }
                    }
                    max_elem_size = max_elem_size.max(item_decl.max_size);
                    elem = Some(match elem {
                        None => item_decl,
                        Some(previous) if previous.ty.to_string() == item_decl.ty.to_string() => previous,
                        Some(previous) => {
                            // Kubernetes validates that list literals are homogeneous (outside format()).
                            if !exempt && !mismatch_reported {
                                mismatch_reported = true;
                                self.error(
                                    item.offset,
                                    format!("expected type '{}' but found '{}'", previous.ty, item_decl.ty),
                                );
                            }
                            Arc::new(Decl::unbounded(Type::Dyn))
                        }
                    });
                }
                self.in_format_arguments = false;
                let elem = elem.map_or_else(
                    || Decl::unbounded(Type::Dyn),
                    |decl| Decl {
                        ty: decl.ty.clone(),
                        max_size: max_elem_size,
                    },
                );
                with_size(Type::List(Arc::new(elem)), items.len() as u64, cost)
            }
            ExprKind::Map(entries) => {
                let exempt = std::mem::take(&mut self.in_format_arguments);
                let mut cost: u64 = 30;
                let mut key_type: Option<Type> = None;
                let mut value_type: Option<Type> = None;
                for (key, value, optional) in entries {
                    self.in_format_arguments = exempt;
                    let key_checked = self.check(key);
                    self.in_format_arguments = exempt;
                    let value_checked = self.check(value);
                    cost = cost.saturating_add(key_checked.cost).saturating_add(value_checked.cost);
                    let mut value_ty = value_checked.decl.ty.clone();
                    if *optional {
                        if let Type::Optional(inner) = &value_ty {
                            value_ty = inner.ty.clone();
                        }
                        // `?k: optional.none()` has a free type parameter: it fits any map.
                        if value_ty.is_dyn() {
                            continue;
                        }
                    }
                    for (previous, next, at) in [
                        (&mut key_type, key_checked.decl.ty.clone(), key.offset),
                        (&mut value_type, value_ty, value.offset),
                    ] {
                        match previous {
                            None => *previous = Some(next),
                            Some(seen) if seen.to_string() == next.to_string() => {}
                            Some(seen) => {
                                if !exempt {
                                    let message = format!("expected type '{seen}' but found '{next}'");
                                    self.error(at, message);
                                }
                                *previous = Some(Type::Dyn);
                            }
                        }
                    }
                }
                self.in_format_arguments = false;
                with_size(
                    Type::map(key_type.unwrap_or(Type::Dyn), value_type.unwrap_or(Type::Dyn)),
                    entries.len() as u64,
                    cost,
                )
            }
            ExprKind::Comprehension {
                kind,
                range,
                var,
                var2,
                predicate,
                transform,
            } => self.check_comprehension(
                expr,
                *kind,
                range,
                (var, var2.as_deref()),
                predicate.as_deref(),
                transform.as_deref(),
            ),
            ExprKind::OptMap {
                flat,
                target,
                var,
                body,
            } => {
                let target_checked = self.check(target);
                let inner = match &target_checked.decl.ty {
                    Type::Optional(inner) => inner.clone(),
                    Type::Dyn => Arc::new(Decl::unbounded(Type::Dyn)),
                    other => {
                        let other = other.clone();
                        return self.error(
                            expr.offset,
                            format!(
                                "found no matching overload for '{}' applied to '{other}'",
                                if *flat { "optFlatMap" } else { "optMap" }
                            ),
                        );
                    }
                };
                self.scopes.push(HashMap::from([(var.clone(), inner)]));
                let body_checked = self.check(body);
                self.scopes.pop();
                let cost = target_checked.cost.saturating_add(body_checked.cost).saturating_add(1);
                if *flat {
                    Checked {
                        decl: body_checked.decl,
                        cost,
                    }
                } else {
                    let size = body_checked.decl.max_size;
                    with_size(Type::Optional(body_checked.decl), size, cost)
                }
            }
            ExprKind::Call { function, target, args } => self.check_call(expr, function, target.as_deref(), args),
        }
    }

    fn check_comprehension(
        &mut self,
        expr: &Expr,
        kind: MacroKind,
        range: &Expr,
        (var, var2): (&str, Option<&str>),
        predicate: Option<&Expr>,
        transform: Option<&Expr>,
    ) -> Checked {
        let range_checked = self.check(range);
        let Some(elem) = range_checked.decl.ty.iter_decl() else {
            let ty = range_checked.decl.ty.clone();
            return self.error(
                expr.offset,
                format!("expression of type '{ty}' cannot be range of a comprehension (must be list, map, or dynamic)"),
            );
        };
        let iterations = range_checked.decl.max_size;
        let mut scope = HashMap::new();
        // Two variables: index and element of a list, key and value of a map.
        let second = match (&range_checked.decl.ty, var2) {
            (_, None) => None,
            (Type::List(item), Some(_)) => Some(item.clone()),
            (Type::Map(_, value), Some(_)) => Some(value.clone()),
            (_, Some(_)) => Some(Arc::new(Decl::unbounded(Type::Dyn))),
        };
        let first = match (&range_checked.decl.ty, var2) {
            (Type::List(_), Some(_)) => Arc::new(Decl {
                ty: Type::Int,
                max_size: 1,
            }),
            _ => elem.clone(),
        };
        scope.insert(var.to_owned(), first);
        if let (Some(var2), Some(second)) = (var2, second.clone()) {
            scope.insert(var2.to_owned(), second);
        }
        self.scopes.push(scope);
        let predicate_checked = predicate.map(|predicate| self.check(predicate));
        let transform_checked = transform.map(|transform| self.check(transform));
        self.scopes.pop();
        if let Some(checked) = &predicate_checked {
            if !Type::Bool.accepts(&checked.decl.ty) {
                let ty = checked.decl.ty.clone();
                let offset = predicate.map_or(expr.offset, |p| p.offset);
                self.error(
                    offset,
                    format!("found no matching overload for '_&&_' applied to '(bool, {ty})'"),
                );
            }
        }
        let predicate_cost = predicate_checked.as_ref().map_or(0, |c| c.cost);
        let transform_cost = transform_checked.as_ref().map_or(0, |c| c.cost);
        // The per-iteration overhead of cel-go's macro expansions (loop condition, accumulator update, list
        // construction) and the cost of the accumulator's initial value and result.
        let (per_iteration, fixed) = match kind {
            MacroKind::All => (predicate_cost.saturating_add(3), 1),
            MacroKind::Exists => (predicate_cost.saturating_add(4), 1),
            MacroKind::ExistsOne => (predicate_cost.saturating_add(2), 2),
            MacroKind::Filter => (predicate_cost.saturating_add(13), 11),
            MacroKind::Map | MacroKind::TransformList => {
                (predicate_cost.saturating_add(transform_cost).saturating_add(12), 11)
            }
            MacroKind::TransformMap | MacroKind::TransformMapEntry => {
                (predicate_cost.saturating_add(transform_cost).saturating_add(32), 31)
            }
        };
        let cost = range_checked
            .cost
            .saturating_add(fixed)
            .saturating_add(iterations.saturating_mul(per_iteration));
        match kind {
            MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne => scalar(Type::Bool, cost),
            MacroKind::Filter => with_size(Type::List(elem), iterations, cost),
            MacroKind::Map | MacroKind::TransformList => {
                let decl =
                    transform_checked.map_or_else(|| Arc::new(Decl::unbounded(Type::Dyn)), |checked| checked.decl);
                with_size(Type::List(decl), iterations, cost)
            }
            MacroKind::TransformMap => {
                let key = match &range_checked.decl.ty {
                    Type::List(_) => Arc::new(Decl {
                        ty: Type::Int,
                        max_size: 1,
                    }),
                    _ => elem,
                };
                let value =
                    transform_checked.map_or_else(|| Arc::new(Decl::unbounded(Type::Dyn)), |checked| checked.decl);
                with_size(Type::Map(key, value), iterations, cost)
            }
            MacroKind::TransformMapEntry => {
                let ty = match transform_checked.map(|checked| checked.decl.ty.clone()) {
                    Some(map @ Type::Map(..)) => map,
                    _ => Type::map(Type::Dyn, Type::Dyn),
                };
                with_size(ty, iterations, cost)
            }
        }
    }

    fn check_call(&mut self, expr: &Expr, function: &str, target: Option<&Expr>, args: &[Expr]) -> Checked {
        let qualified = target.and_then(|target| qualified_name(target, function, |name| self.lookup(name).is_some()));
        let (name, target) = match &qualified {
            Some(name) => (name.as_str(), None),
            None => (function, target),
        };
        let target_checked = target.map(|target| self.check(target));
        let arg_checked: Vec<Checked> = args
            .iter()
            .map(|arg| {
                self.in_format_arguments = name == "format";
                self.check(arg)
            })
            .collect();
        self.in_format_arguments = false;
        self.validate_literal_argument(name, args);
        let mut cost = target_checked.as_ref().map_or(0, |c| c.cost);
        for checked in &arg_checked {
            cost = cost.saturating_add(checked.cost);
        }
        // Logical operators and the conditional charge only one branch in the worst case, like cel-go.
        if name == "_?_:_" && arg_checked.len() == 3 {
            cost = arg_checked[0]
                .cost
                .saturating_add(arg_checked[1].cost.max(arg_checked[2].cost));
        }
        let target_decl = target_checked.as_ref().map(|c| c.decl.clone());
        let arg_decls: Vec<Arc<Decl>> = arg_checked.iter().map(|c| c.decl.clone()).collect();
        match signature(name, target_decl.as_deref(), &arg_decls, args) {
            Some((decl, call_cost)) => Checked {
                decl: Arc::new(decl),
                cost: cost.saturating_add(call_cost),
            },
            None => {
                if arg_decls
                    .iter()
                    .chain(target_decl.iter())
                    .any(|decl| matches!(decl.ty, Type::Dyn))
                    && crate::functions::is_known(name)
                {
                    return with_size(Type::Dyn, u64::MAX, cost.saturating_add(1));
                }
                let arg_types: Vec<String> = arg_decls.iter().map(|decl| decl.ty.to_string()).collect();
                let applied = match &target_decl {
                    Some(target) => format!("{}.({})", target.ty, arg_types.join(", ")),
                    None => format!("({})", arg_types.join(", ")),
                };
                if !crate::functions::is_known(name) {
                    return self.error(
                        expr.offset,
                        format!("undeclared reference to '{name}' (in container '')"),
                    );
                }
                self.error(
                    expr.offset,
                    format!("found no matching overload for '{name}' applied to '{applied}'"),
                )
            }
        }
    }
}

impl Checker {
    /// cel-go's AST validators that Kubernetes enables: constant regexes, durations and timestamps must parse.
    fn validate_literal_argument(&mut self, name: &str, args: &[Expr]) {
        let Some(Expr {
            kind: ExprKind::Lit(Literal::String(text)),
            offset,
            ..
        }) = args.first()
        else {
            return;
        };
        let valid = match name {
            "matches" => regex::Regex::new(&crate::builtins::re2_classes(text)).is_ok(),
            "duration" => crate::time::parse_duration(text).is_some(),
            "timestamp" => crate::time::parse_timestamp(text).is_some(),
            _ => true,
        };
        if !valid {
            self.error(*offset, format!("invalid {name} argument"));
        }
    }
}
