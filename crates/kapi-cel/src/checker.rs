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
pub(crate) const NAMESPACES: [&str; 6] = ["sets", "optional", "base64", "strings", "format", "ip"];

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
}

/// Checks `expr` with the given variables in scope (`self`, `oldSelf`).
pub(crate) fn check(expr: &Expr, variables: HashMap<String, Arc<Decl>>) -> CheckResult {
    let mut checker = Checker {
        scopes: vec![variables],
        errors: Vec::new(),
        uses_old_self: false,
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
                let cost = operand_checked.cost.saturating_add(1);
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
                let mut cost: u64 = 10;
                let mut elem: Option<Arc<Decl>> = None;
                let mut max_elem_size = 0_u64;
                for (index, item) in items.iter().enumerate() {
                    let checked = self.check(item);
                    cost = cost.saturating_add(checked.cost);
                    let mut item_decl = checked.decl;
                    if optional.contains(&index) {
                        if let Type::Optional(inner) = &item_decl.ty {
                            item_decl = inner.clone();
                        }
                    }
                    max_elem_size = max_elem_size.max(item_decl.max_size);
                    elem = Some(match elem {
                        None => item_decl,
                        Some(previous) if previous.ty.accepts(&item_decl.ty) && !previous.ty.is_dyn() => previous,
                        Some(_) => Arc::new(Decl::unbounded(Type::Dyn)),
                    });
                }
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
                let mut cost: u64 = 30;
                let mut key_type: Option<Type> = None;
                let mut value_type: Option<Type> = None;
                for (key, value, _) in entries {
                    let key_checked = self.check(key);
                    let value_checked = self.check(value);
                    cost = cost.saturating_add(key_checked.cost).saturating_add(value_checked.cost);
                    key_type = Some(unify(key_type, &key_checked.decl.ty));
                    value_type = Some(unify(value_type, &value_checked.decl.ty));
                }
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
                predicate,
                transform,
            } => self.check_comprehension(expr, *kind, range, var, predicate.as_deref(), transform.as_deref()),
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
        var: &str,
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
        self.scopes.push(HashMap::from([(var.to_owned(), elem.clone())]));
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
            MacroKind::Map => (predicate_cost.saturating_add(transform_cost).saturating_add(12), 11),
        };
        let cost = range_checked
            .cost
            .saturating_add(fixed)
            .saturating_add(iterations.saturating_mul(per_iteration));
        match kind {
            MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne => scalar(Type::Bool, cost),
            MacroKind::Filter => with_size(Type::List(elem), iterations, cost),
            MacroKind::Map => {
                let decl =
                    transform_checked.map_or_else(|| Arc::new(Decl::unbounded(Type::Dyn)), |checked| checked.decl);
                with_size(Type::List(decl), iterations, cost)
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
        let arg_checked: Vec<Checked> = args.iter().map(|arg| self.check(arg)).collect();
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

fn unify(previous: Option<Type>, next: &Type) -> Type {
    match previous {
        None => next.clone(),
        Some(previous) if previous.accepts(next) && !next.is_dyn() => previous,
        Some(_) => Type::Dyn,
    }
}
