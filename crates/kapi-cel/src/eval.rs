//! The tree-walking evaluator with a runtime cost meter: every evaluated node adds its cost, and evaluation stops
//! as soon as the meter passes its limit, so no expression runs unbounded.

use std::rc::Rc;

use crate::{
    builtins::{self, key_text},
    checker::qualified_name,
    parser::{Expr, ExprKind, Literal, MacroKind},
    value::{Key, MapVal, Val},
};

/// Why an evaluation produced no value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// A CEL runtime error (`no such key: x`, `division by zero`, ...).
    Error(String),
    /// The cost meter passed its limit.
    CostExceeded,
}

type Outcome = Result<Val, Failure>;

/// Evaluates expressions against variables, counting cost.
pub(crate) struct Evaluator {
    pub(crate) cost: u64,
    limit: u64,
    scope: Vec<(Rc<str>, Val)>,
}

impl Evaluator {
    /// An evaluator with the given variables and cost limit.
    pub(crate) fn new(variables: Vec<(Rc<str>, Val)>, limit: u64) -> Evaluator {
        Evaluator {
            cost: 0,
            limit,
            scope: variables,
        }
    }

    fn charge(&mut self, amount: u64) -> Result<(), Failure> {
        self.cost = self.cost.saturating_add(amount);
        if self.cost > self.limit {
            return Err(Failure::CostExceeded);
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> Option<&Val> {
        self.scope
            .iter()
            .rev()
            .find(|(variable, _)| variable.as_ref() == name)
            .map(|(_, value)| value)
    }

    /// Evaluates `expr`.
    pub(crate) fn eval(&mut self, expr: &Expr) -> Outcome {
        match &expr.kind {
            ExprKind::Lit(literal) => Ok(match literal {
                Literal::Null => Val::Null,
                Literal::Bool(b) => Val::Bool(*b),
                Literal::Int(i) => Val::Int(*i),
                Literal::Uint(u) => Val::Uint(*u),
                Literal::Double(d) => Val::Double(*d),
                Literal::String(s) => Val::string(s.as_str()),
                Literal::Bytes(b) => Val::Bytes(Rc::from(b.as_slice())),
            }),
            ExprKind::Ident(name) => {
                self.charge(1)?;
                match self.lookup(name) {
                    Some(value) => Ok(value.clone()),
                    None => match name.as_str() {
                        "int" | "uint" | "double" | "string" | "bytes" | "bool" | "list" | "map" | "null_type"
                        | "type" => Ok(Val::Type(Rc::from(name.as_str()))),
                        _ => Err(Failure::Error(format!("no such attribute: {name}"))),
                    },
                }
            }
            ExprKind::Select {
                operand,
                field,
                test_only,
                optional,
            } => {
                let value = self.eval(operand)?;
                if !*test_only {
                    self.charge(1)?;
                }
                select(value, field, *test_only, *optional)
            }
            ExprKind::List { items, optional } => {
                self.charge(10)?;
                let mut values = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let value = self.eval(item)?;
                    if optional.contains(&index) {
                        match value {
                            Val::Optional(Some(inner)) => values.push((*inner).clone()),
                            Val::Optional(None) => {}
                            _ => return Err(Failure::Error(builtins::no_overload(""))),
                        }
                    } else {
                        values.push(value);
                    }
                }
                Ok(Val::List(Rc::new(values)))
            }
            ExprKind::Map(entries) => {
                self.charge(30)?;
                let mut built = Vec::with_capacity(entries.len());
                for (key, value, optional) in entries {
                    let key = self.eval(key)?;
                    let value = self.eval(value)?;
                    let Some(key) = Key::from_val(&key) else {
                        return Err(Failure::Error(format!("unsupported key type: {}", key.type_name())));
                    };
                    let value = match (optional, value) {
                        (true, Val::Optional(Some(inner))) => (*inner).clone(),
                        (true, Val::Optional(None)) => continue,
                        (_, value) => value,
                    };
                    built.push((key, value));
                }
                let map = MapVal::from_entries(built)
                    .map_err(|key| Failure::Error(format!("Failed with repeated key: {}", key_text(&key.to_val()))))?;
                Ok(Val::Map(Rc::new(map)))
            }
            ExprKind::Comprehension {
                kind,
                range,
                var,
                var2,
                predicate,
                transform,
            } => self.comprehension(
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
                let target = self.eval(target)?;
                self.charge(1)?;
                match target {
                    Val::Optional(None) => Ok(Val::Optional(None)),
                    Val::Optional(Some(inner)) => {
                        self.scope.push((Rc::from(var.as_str()), (*inner).clone()));
                        let result = self.eval(body);
                        self.scope.pop();
                        let result = result?;
                        if *flat {
                            match result {
                                Val::Optional(_) => Ok(result),
                                _ => Err(Failure::Error(builtins::no_overload(""))),
                            }
                        } else {
                            Ok(Val::Optional(Some(Rc::new(result))))
                        }
                    }
                    _ => Err(Failure::Error(builtins::no_overload(""))),
                }
            }
            ExprKind::Call { function, target, args } => self.call(function, target.as_deref(), args),
        }
    }

    fn comprehension(
        &mut self,
        kind: MacroKind,
        range: &Expr,
        (var, var2): (&str, Option<&str>),
        predicate: Option<&Expr>,
        transform: Option<&Expr>,
    ) -> Outcome {
        let range = self.eval(range)?;
        // (first variable, second variable): element or key alone; or index and element, key and value.
        let pairs: Vec<(Val, Val)> = match &range {
            Val::List(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match var2 {
                    Some(_) => (Val::Int(index as i64), item.clone()),
                    None => (item.clone(), Val::Null),
                })
                .collect(),
            Val::Map(map) => map
                .entries
                .iter()
                .map(|(key, value)| (key.to_val(), value.clone()))
                .collect(),
            other => return Err(Failure::Error(format!("cannot iterate over {}", other.type_name()))),
        };
        let var: Rc<str> = Rc::from(var);
        let var2: Option<Rc<str>> = var2.map(Rc::from);
        let mut count = 0_i64;
        let mut results = Vec::new();
        let mut entries: Vec<(Key, Val)> = Vec::new();
        // all/exists keep going past an error in case a later element decides the result, as CEL's logic does.
        let mut pending_error: Option<Failure> = None;
        // Each iteration pays the loop overhead of cel-go's macro expansion, as the static estimate assumes.
        let per_iteration = match kind {
            MacroKind::All => 3,
            MacroKind::Exists => 4,
            MacroKind::ExistsOne => 2,
            MacroKind::Filter => 13,
            MacroKind::Map | MacroKind::TransformList => 12,
            MacroKind::TransformMap | MacroKind::TransformMapEntry => 32,
        };
        for (first, second) in pairs {
            self.charge(per_iteration)?;
            self.scope.push((var.clone(), first.clone()));
            if let Some(var2) = &var2 {
                self.scope.push((var2.clone(), second));
            }
            let predicate_result = predicate.map(|predicate| self.eval(predicate));
            let outcome = match kind {
                MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne | MacroKind::Filter => {
                    predicate_result.unwrap_or(Ok(Val::Bool(true)))
                }
                MacroKind::Map | MacroKind::TransformList | MacroKind::TransformMap | MacroKind::TransformMapEntry => {
                    match predicate_result {
                        Some(Ok(Val::Bool(false))) => Ok(Val::Null),
                        Some(Err(failure)) => Err(failure),
                        Some(Ok(Val::Bool(true))) | None => match transform {
                            Some(transform) => self.eval(transform).and_then(|value| {
                                self.collect(kind, &first, value, &mut results, &mut entries)?;
                                Ok(Val::Null)
                            }),
                            None => Ok(Val::Null),
                        },
                        Some(Ok(_)) => Err(Failure::Error(builtins::no_overload(""))),
                    }
                }
            };
            self.scope.pop();
            if var2.is_some() {
                self.scope.pop();
            }
            match (kind, outcome) {
                (_, Err(Failure::CostExceeded)) => return Err(Failure::CostExceeded),
                (MacroKind::All, Ok(Val::Bool(false))) => return Ok(Val::Bool(false)),
                (MacroKind::Exists, Ok(Val::Bool(true))) => return Ok(Val::Bool(true)),
                (MacroKind::All | MacroKind::Exists, Ok(Val::Bool(_))) => {}
                (MacroKind::All | MacroKind::Exists, Err(failure)) => {
                    pending_error.get_or_insert(failure);
                }
                (MacroKind::ExistsOne, Ok(Val::Bool(matched))) => count += i64::from(matched),
                (MacroKind::Filter, Ok(Val::Bool(keep))) => {
                    if keep {
                        results.push(first);
                    }
                }
                (
                    MacroKind::Map | MacroKind::TransformList | MacroKind::TransformMap | MacroKind::TransformMapEntry,
                    Ok(_),
                ) => {}
                (_, Err(failure)) => return Err(failure),
                (_, Ok(_)) => {
                    return Err(Failure::Error(
                        "no matching overload for comprehension predicate".to_owned(),
                    ))
                }
            }
        }
        if let Some(failure) = pending_error {
            return Err(failure);
        }
        Ok(match kind {
            MacroKind::All => Val::Bool(true),
            MacroKind::Exists => Val::Bool(false),
            MacroKind::ExistsOne => Val::Bool(count == 1),
            MacroKind::Filter | MacroKind::Map | MacroKind::TransformList => Val::List(Rc::new(results)),
            MacroKind::TransformMap | MacroKind::TransformMapEntry => {
                let map = MapVal::from_entries(entries).map_err(|key| {
                    Failure::Error(format!("insert failed: key {} already exists", key_text(&key.to_val())))
                })?;
                Val::Map(Rc::new(map))
            }
        })
    }

    /// Adds one transformed value to a comprehension's result.
    fn collect(
        &mut self,
        kind: MacroKind,
        first: &Val,
        value: Val,
        results: &mut Vec<Val>,
        entries: &mut Vec<(Key, Val)>,
    ) -> Result<(), Failure> {
        match kind {
            MacroKind::TransformMap => {
                let key = Key::from_val(first).ok_or_else(|| Failure::Error("unsupported map key".to_owned()))?;
                entries.push((key, value));
            }
            MacroKind::TransformMapEntry => {
                let Val::Map(entry) = value else {
                    return Err(Failure::Error("transformMapEntry requires a map result".to_owned()));
                };
                entries.extend(entry.entries.iter().cloned());
            }
            _ => results.push(value),
        }
        Ok(())
    }

    fn call(&mut self, function: &str, target: Option<&Expr>, args: &[Expr]) -> Outcome {
        match (function, args) {
            ("_&&_" | "_||_", [left, right]) => {
                let short = function == "_||_";
                let left = self.eval(left);
                if let Ok(Val::Bool(value)) = left {
                    if value == short {
                        return Ok(Val::Bool(short));
                    }
                }
                if matches!(left, Err(Failure::CostExceeded)) {
                    return left;
                }
                let right = self.eval(right)?;
                match (left, right) {
                    (_, Val::Bool(value)) if value == short => Ok(Val::Bool(short)),
                    (Ok(Val::Bool(_)), Val::Bool(_)) => Ok(Val::Bool(!short)),
                    (Err(failure), _) => Err(failure),
                    _ => Err(Failure::Error(builtins::no_overload(function))),
                }
            }
            ("_?_:_", [condition, when_true, when_false]) => match self.eval(condition)? {
                Val::Bool(true) => self.eval(when_true),
                Val::Bool(false) => self.eval(when_false),
                _ => Err(Failure::Error(builtins::no_overload(""))),
            },
            _ => {
                let qualified =
                    target.and_then(|target| qualified_name(target, function, |name| self.lookup(name).is_some()));
                let (name, target) = match &qualified {
                    Some(name) => (name.as_str(), None),
                    None => (function, target),
                };
                let target = match target {
                    Some(target) => Some(self.eval(target)?),
                    None => None,
                };
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(self.eval(arg)?);
                }
                let (value, cost) = builtins::call(name, target, values).map_err(Failure::Error)?;
                self.charge(cost)?;
                Ok(value)
            }
        }
    }
}

fn select(value: Val, field: &str, test_only: bool, optional: bool) -> Outcome {
    let (value, wrap) = match value {
        Val::Optional(None) => {
            return Ok(if test_only {
                Val::Bool(false)
            } else {
                Val::Optional(None)
            })
        }
        Val::Optional(Some(inner)) => ((*inner).clone(), true),
        other => (other, optional),
    };
    let Val::Map(map) = value else {
        return Err(Failure::Error(builtins::no_overload(field)));
    };
    let found = map.get_str(field);
    if test_only {
        return Ok(Val::Bool(found.is_some()));
    }
    if wrap {
        return Ok(Val::Optional(found.cloned().map(Rc::new)));
    }
    found
        .cloned()
        .ok_or_else(|| Failure::Error(format!("no such key: {field}")))
}
