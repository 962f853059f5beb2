//! Evaluating compiled rules against an object (and its old version), walking the schema as upstream's
//! `cel.Validator` does, with the per-call and per-object runtime cost budgets.

use std::{collections::HashMap, rc::Rc};

use kapi_core::{BadValue, FieldError, FieldErrorType, FieldErrors, FieldPath};
use serde_json::Value;

use crate::{
    compile::{CompiledRule, Node},
    eval::{Evaluator, Failure},
    value::Val,
};

/// Upstream's `PerCallLimit`: the most one evaluation of one expression may cost.
pub(crate) const PER_CALL_LIMIT: u64 = 1_000_000;
/// Upstream's `RuntimeCELCostBudget`: the most all rules may cost while validating one object.
pub(crate) const RUNTIME_COST_BUDGET: u64 = 10_000_000;
/// Upstream's `MaxEvaluatedMessageExpressionSizeBytes`.
const MAX_MESSAGE_EXPRESSION_BYTES: usize = 5 * 1024;

/// Where a node stands for CRD validation ratcheting (upstream's `ratchetingOptions`): the old value correlated
/// with it, else the nearest correlated ancestor's new and old values. A non-transition rule's failure on an
/// unchanged value is only a warning, so objects stored before a rule was added stay updatable.
#[derive(Clone, Copy, Default)]
pub(crate) struct Ratchet<'a> {
    current: Option<&'a Value>,
    parent: Option<(&'a Value, &'a Value)>,
}

impl<'a> Ratchet<'a> {
    /// The root of an update (`old` present) or a create.
    pub(crate) fn root(old: Option<&'a Value>) -> Ratchet<'a> {
        Ratchet {
            current: old,
            parent: None,
        }
    }

    fn child(self, new: &'a Value, old_child: Option<&'a Value>) -> Ratchet<'a> {
        match self.current {
            None => self,
            Some(old) => Ratchet {
                current: old_child,
                parent: Some((new, old)),
            },
        }
    }

    /// Whether the value (or, without an old value of its own, its nearest correlated ancestor) is unchanged.
    /// Comparisons are cached by address, as upstream's `CachedDeepEqual`, so that many failures below one large
    /// ancestor compare it once.
    fn unchanged(self, new: &Value, cache: &mut HashMap<(usize, usize), bool>) -> bool {
        let (new, old) = match (self.current, self.parent) {
            (Some(old), _) => (new, old),
            (None, Some((parent_new, parent_old))) => (parent_new, parent_old),
            (None, None) => return false,
        };
        let key = (std::ptr::from_ref(new) as usize, std::ptr::from_ref(old) as usize);
        *cache.entry(key).or_insert_with(|| new == old)
    }
}

/// The validation walk's state: collected errors and the remaining budget (`None` once exhausted).
pub(crate) struct Validation {
    pub(crate) errors: FieldErrors,
    /// Failures on unchanged values, reported as warnings instead (ratcheting).
    pub(crate) ratcheted: FieldErrors,
    /// Deep-equality results of (new, old) pairs, by address.
    unchanged_cache: HashMap<(usize, usize), bool>,
    remaining: u64,
    stopped: bool,
}

impl Validation {
    pub(crate) fn new(budget: u64) -> Validation {
        Validation {
            errors: FieldErrors::new(),
            ratcheted: FieldErrors::new(),
            unchanged_cache: HashMap::new(),
            remaining: budget,
            stopped: false,
        }
    }

    /// Validates `new` (with `old` when it correlates) against `node` at `path`.
    pub(crate) fn node<'a>(
        &mut self,
        node: &Node,
        path: &FieldPath,
        new: &'a Value,
        old: Option<&'a Value>,
        ratchet: Ratchet<'a>,
    ) {
        if self.stopped || new.is_null() {
            return;
        }
        let old = old.filter(|old| !old.is_null());
        self.rules(node, path, new, old, ratchet);
        if self.stopped {
            return;
        }
        // An allOf entry's rules (and its properties' rules) apply to this same value; upstream ratchets them
        // by the parent only.
        for entry in &node.all_of {
            let entry_ratchet = Ratchet {
                current: None,
                parent: ratchet.parent,
            };
            self.node(entry, path, new, old, entry_ratchet);
            if self.stopped {
                return;
            }
        }
        match new {
            Value::Object(members) => {
                let old_members = if node.atomic_map {
                    None
                } else {
                    old.and_then(Value::as_object)
                };
                if let Some(additional) = &node.additional_properties {
                    for (key, value) in members {
                        let old_value = old_members.and_then(|old| old.get(key));
                        let child_ratchet = ratchet.child(new, old_value);
                        self.node(additional, &path.key(key.as_str()), value, old_value, child_ratchet);
                        if self.stopped {
                            return;
                        }
                    }
                }
                for (name, child) in &node.properties {
                    if let Some(value) = members.get(name) {
                        let old_value = old_members.and_then(|old| old.get(name));
                        // apiVersion and kind of a resource cannot ratchet: old and new are the same version.
                        let child_ratchet = if path.is_nil() && (name == "apiVersion" || name == "kind") {
                            Ratchet::default()
                        } else {
                            ratchet.child(new, old_value)
                        };
                        self.node(child, &path.child(name.as_str()), value, old_value, child_ratchet);
                        if self.stopped {
                            return;
                        }
                    }
                }
            }
            Value::Array(items) => {
                let Some(item_node) = &node.items else { return };
                let old_items = old.and_then(Value::as_array);
                for (index, item) in items.iter().enumerate() {
                    // Only map-type lists correlate an item with its old version (by the list's keys).
                    let old_item = match (&node.list_map_keys, old_items) {
                        (Some(keys), Some(old_items)) => old_items
                            .iter()
                            .find(|old_item| keys.iter().all(|key| old_item.get(key) == item.get(key))),
                        _ => None,
                    };
                    // Set items never bind oldSelf (compilation forbids it), but an unchanged item ratchets.
                    let ratchet_item = match (node.list_set, old_items) {
                        (true, Some(old_items)) => old_items.iter().find(|old_item| *old_item == item),
                        _ => old_item,
                    };
                    let child_ratchet = ratchet.child(new, ratchet_item);
                    self.node(item_node, &path.index(index), item, old_item, child_ratchet);
                    if self.stopped {
                        return;
                    }
                }
            }
            _ => {}
        }
    }

    fn type_value(node: &Node) -> BadValue {
        BadValue::Str(node.schema_type.clone())
    }

    fn stop(&mut self, error: FieldError) {
        self.errors.push(error);
        self.stopped = true;
    }

    fn rules(&mut self, node: &Node, path: &FieldPath, new: &Value, old: Option<&Value>, ratchet: Ratchet<'_>) {
        if node.rules.is_empty() {
            return;
        }
        if self.remaining == 0 {
            self.stop(FieldError::invalid(
                path,
                Self::type_value(node),
                "validation failed due to running out of cost budget, no further validation rules will be run",
            ));
            return;
        }
        let convert = |json: &Value, fields: &Option<Vec<String>>| match fields {
            Some(fields) => Val::from_json_fields(json, &node.decl, fields),
            None => Val::from_json(json, Some(&node.decl)),
        };
        let self_value = convert(new, &node.self_fields);
        let uses_old_self = node.rules.iter().any(|rule| rule.uses_old_self);
        let old_value = old
            .filter(|_| uses_old_self)
            .map(|old| convert(old, &node.old_self_fields));
        for rule in &node.rules {
            if rule.uses_old_self && old_value.is_none() && !rule.optional_old_self {
                continue;
            }
            let old_binding = if rule.optional_old_self {
                Some(Val::Optional(old_value.clone().map(Rc::new)))
            } else {
                old_value.clone()
            };
            let mut variables = vec![(Rc::from("self"), self_value.clone())];
            if let Some(old_binding) = old_binding {
                variables.push((Rc::from("oldSelf"), old_binding));
            }
            let mut evaluator = Evaluator::new(variables.clone(), PER_CALL_LIMIT);
            let outcome = evaluator.eval(&rule.program);
            let cost = evaluator.cost;
            if matches!(outcome, Err(Failure::CostExceeded)) {
                self.stop(FieldError::invalid(
                    path,
                    Self::type_value(node),
                    format!(
                        "'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: {}",
                        rule_error_string(rule)
                    ),
                ));
                return;
            }
            if cost > self.remaining {
                self.stop(FieldError::invalid(
                    path,
                    Self::type_value(node),
                    "validation failed due to running out of cost budget, no further validation rules will be run",
                ));
                return;
            }
            self.remaining -= cost;
            match outcome {
                Ok(Val::Bool(true)) => {}
                Ok(Val::Bool(false)) => self.failed(node, rule, path, new, variables, ratchet),
                Ok(other) => self.errors.push(FieldError::invalid(
                    path,
                    Self::type_value(node),
                    format!("rule returned {} instead of a bool evaluating rule: {}", other.type_name(), rule_error_string(rule)),
                )),
                Err(Failure::Error(message)) if message.starts_with("no such overload") => self.errors.push(FieldError::invalid(
                    path,
                    Self::type_value(node),
                    format!(
                        "'{message}': call arguments did not match a supported operator, function or macro signature for rule: {}",
                        rule_error_string(rule)
                    ),
                )),
                Err(Failure::Error(message)) => self.errors.push(FieldError::invalid(
                    path,
                    Self::type_value(node),
                    format!("{message} evaluating rule: {}", rule_error_string(rule)),
                )),
                Err(Failure::CostExceeded) => {}
            }
            if self.stopped {
                return;
            }
        }
    }

    fn failed(
        &mut self,
        node: &Node,
        rule: &CompiledRule,
        path: &FieldPath,
        new: &Value,
        variables: Vec<(Rc<str>, Val)>,
        ratchet: Ratchet<'_>,
    ) {
        let error_path = match &rule.field_path {
            Some(field_path) => path.child(field_path.as_str()),
            None => path.clone(),
        };
        let mut detail = None;
        if let Some(message_expression) = &rule.message_expression {
            let mut evaluator = Evaluator::new(variables, PER_CALL_LIMIT);
            let outcome = evaluator.eval(message_expression);
            if matches!(outcome, Err(Failure::CostExceeded)) {
                self.stop(FieldError::invalid(
                    &error_path,
                    Self::type_value(node),
                    "no further validation rules will be run due to call cost exceeds limit for messageExpression"
                        .to_owned(),
                ));
                return;
            }
            if evaluator.cost > self.remaining {
                self.stop(FieldError::invalid(
                    &error_path,
                    Self::type_value(node),
                    "messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run",
                ));
                return;
            }
            self.remaining -= evaluator.cost;
            if let Ok(Val::String(message)) = outcome {
                let trimmed = message.trim();
                // An unusable message (too long, multi-line, empty) falls back to the rule's message, as upstream.
                if !trimmed.is_empty() && trimmed.len() <= MAX_MESSAGE_EXPRESSION_BYTES && !trimmed.contains('\n') {
                    detail = Some((trimmed.to_owned(), true));
                }
            }
        }
        let (detail, from_expression) = detail.unwrap_or_else(|| {
            let message = if rule.message.is_empty() {
                format!("failed rule: {}", rule_error_string(rule))
            } else {
                rule.message.clone()
            };
            (message, false)
        });
        let value = if from_expression
            || node.schema_type == "object"
            || node.schema_type == "array"
            || new.is_object()
            || new.is_array()
        {
            BadValue::Omitted
        } else {
            BadValue::Unstructured(new.clone())
        };
        let error = match rule.reason {
            Some(FieldErrorType::Forbidden) => FieldError::forbidden(&error_path, detail),
            Some(FieldErrorType::Required) => FieldError::required(&error_path, detail),
            Some(FieldErrorType::Duplicate) => FieldError::duplicate(&error_path, value),
            _ => FieldError::invalid(&error_path, value, detail),
        };
        if !rule.uses_old_self && ratchet.unchanged(new, &mut self.unchanged_cache) {
            self.ratcheted.push(error);
        } else {
            self.errors.push(error);
        }
    }
}

/// Upstream's `ruleErrorString`: the message if set, else the rule.
fn rule_error_string(rule: &CompiledRule) -> &str {
    if rule.message.is_empty() {
        &rule.rule
    } else {
        &rule.message
    }
}
