//! Compiling every `x-kubernetes-validations` rule of a schema, with the checks and messages of
//! apiextensions-apiserver's CRD validation: the rule's own fields, compilation, `oldSelf` placement, and the
//! per-expression and per-CRD estimated cost limits.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use kapi_core::{FieldError, FieldErrorType, FieldErrors, FieldPath};
use serde_json::{json, Value};

use crate::{
    checker::check,
    parser::{format_error, parse, Expr, ExprKind},
    types::{escape_field_name, root_decl, schema_decl, Decl, Type},
};

/// Upstream's `StaticEstimatedCostLimit`: the most one expression may cost, times its schema node's cardinality.
pub(crate) const STATIC_ESTIMATED_COST_LIMIT: u64 = 10_000_000;
/// Upstream's `StaticEstimatedCRDCostLimit`: the most all expressions of a schema may cost together.
pub(crate) const STATIC_ESTIMATED_CRD_COST_LIMIT: u64 = 100_000_000;
/// How many of the most expensive expressions the total-cost error names (upstream keeps four).
const MOST_EXPENSIVE_REPORTED: usize = 4;

const SUPPORTED_REASONS: [&str; 4] = [
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];

/// One compiled rule.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) rule: String,
    pub(crate) program: Expr,
    pub(crate) message: String,
    pub(crate) message_expression: Option<Expr>,
    pub(crate) reason: Option<FieldErrorType>,
    /// The rule's `fieldPath`, normalized to how it prints (`replicas`, `a.b`, `m[key]`).
    pub(crate) field_path: Option<String>,
    pub(crate) uses_old_self: bool,
    pub(crate) optional_old_self: bool,
}

/// The compiled rules of one schema node and of the nodes below it that have any.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) decl: Arc<Decl>,
    /// The schema's `type` (`object`, `array`, ...): decides whether a failing value is printed.
    pub(crate) schema_type: String,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) properties: Vec<(String, Node)>,
    pub(crate) items: Option<Box<Node>>,
    pub(crate) additional_properties: Option<Box<Node>>,
    /// Rules inside `allOf` entries, applied to this same value.
    pub(crate) all_of: Vec<Node>,
    /// For `x-kubernetes-list-type: map`: the keys that correlate old and new items.
    pub(crate) list_map_keys: Option<Vec<String>>,
    /// `x-kubernetes-list-type: set`: an item correlates with an equal old item, for ratcheting only.
    pub(crate) list_set: bool,
    /// `x-kubernetes-map-type: atomic` objects do not correlate old and new entries.
    pub(crate) atomic_map: bool,
    /// The only fields of `self` the rules read (`None`: the whole value); others need no conversion.
    pub(crate) self_fields: Option<Vec<String>>,
    /// The same for `oldSelf`.
    pub(crate) old_self_fields: Option<Vec<String>>,
}

/// Adds to `fields` the fields of variable `name` that `expr` selects; `false` when `expr` uses the variable
/// as a whole (or shadows it), so all of it is needed.
fn fields_read(expr: &Expr, name: &str, fields: &mut BTreeSet<String>) -> bool {
    match &expr.kind {
        ExprKind::Select { operand, field, .. } if matches!(&operand.kind, ExprKind::Ident(variable) if variable == name) =>
        {
            fields.insert(field.clone());
            true
        }
        ExprKind::Ident(variable) => variable != name,
        ExprKind::Lit(_) => true,
        ExprKind::Select { operand, .. } => fields_read(operand, name, fields),
        ExprKind::Call { target, args, .. } => {
            target.as_deref().is_none_or(|target| fields_read(target, name, fields))
                && args.iter().all(|arg| fields_read(arg, name, fields))
        }
        ExprKind::List { items, .. } => items.iter().all(|item| fields_read(item, name, fields)),
        ExprKind::Map(entries) => entries
            .iter()
            .all(|(key, value, _)| fields_read(key, name, fields) && fields_read(value, name, fields)),
        ExprKind::Comprehension {
            range,
            var,
            var2,
            predicate,
            transform,
            ..
        } => {
            var != name
                && var2.as_deref() != Some(name)
                && fields_read(range, name, fields)
                && predicate.as_deref().is_none_or(|p| fields_read(p, name, fields))
                && transform.as_deref().is_none_or(|t| fields_read(t, name, fields))
        }
        ExprKind::OptMap { target, var, body, .. } => {
            var != name && fields_read(target, name, fields) && fields_read(body, name, fields)
        }
    }
}

/// The fields of `name` that all of `rules` read, or `None` when some rule needs the whole value.
fn fields_read_by(rules: &[CompiledRule], name: &str) -> Option<Vec<String>> {
    let mut fields = BTreeSet::new();
    for rule in rules {
        if !fields_read(&rule.program, name, &mut fields) {
            return None;
        }
        if let Some(message_expression) = &rule.message_expression {
            if !fields_read(message_expression, name, &mut fields) {
                return None;
            }
        }
    }
    Some(fields.into_iter().collect())
}

struct Compiler {
    errors: FieldErrors,
    /// Every expression's path and estimated cost, for the per-CRD total.
    costs: Vec<(FieldPath, u64)>,
    /// How many errors were about the rules' own fields; CEL is not compiled at or above such a node.
    schema_errors: usize,
}

/// Compiles all rules under `schema` (the root of a CRD version's openAPIV3Schema).
pub(crate) fn compile_schema(schema: &Value, path: &FieldPath) -> (Option<Node>, FieldErrors) {
    let mut compiler = Compiler {
        errors: FieldErrors::new(),
        costs: Vec::new(),
        schema_errors: 0,
    };
    let node = root_decl(schema).and_then(|decl| compiler.node(schema, decl, path, 1, None));
    let total = compiler
        .costs
        .iter()
        .fold(0_u64, |sum, (_, cost)| sum.saturating_add(*cost));
    if total > STATIC_ESTIMATED_CRD_COST_LIMIT {
        // Only expressions worth at least 1% of the limit are named, as upstream's TotalCost does.
        let mut costs: Vec<(FieldPath, u64)> = compiler
            .costs
            .iter()
            .filter(|(_, cost)| *cost >= STATIC_ESTIMATED_CRD_COST_LIMIT / 100)
            .cloned()
            .collect();
        costs.sort_by_key(|(_, cost)| std::cmp::Reverse(*cost));
        for (expensive, _) in costs.into_iter().take(MOST_EXPENSIVE_REPORTED) {
            compiler.errors.push(FieldError::forbidden(
                &expensive,
                "contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
            ));
        }
        compiler.errors.push(FieldError::forbidden(
            path,
            cost_error_message(
                "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema",
                total,
                STATIC_ESTIMATED_CRD_COST_LIMIT,
            ),
        ));
    }
    (node, compiler.errors)
}

/// Upstream's `getCostErrorMessage`.
fn cost_error_message(name: &str, cost: u64, limit: u64) -> String {
    let factor = cost as f64 / limit as f64;
    let factor = if factor > 100.0 {
        "more than 100x".to_owned()
    } else if factor < 1.5 {
        format!("{factor:.6}x")
    } else {
        format!("{factor:.1}x")
    };
    format!(
        "{name} exceeds budget by factor of {factor} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    )
}

fn has_newlines(text: &str) -> bool {
    text.contains(['\n', '\r'])
}

/// The rule as Go prints the internal `ValidationRule` struct in `Invalid value: {...}`.
fn rule_struct(rule: &Value) -> Value {
    let text = |key: &str| rule.get(key).and_then(Value::as_str).unwrap_or_default();
    json!({
        "Rule": text("rule"),
        "Message": text("message"),
        "MessageExpression": text("messageExpression"),
        "Reason": rule.get("reason").and_then(Value::as_str),
        "FieldPath": text("fieldPath"),
        "OptionalOldSelf": rule.get("optionalOldSelf").and_then(Value::as_bool),
    })
}

impl Compiler {
    /// Compiles `schema` and its children; `None` when nothing below has rules.
    fn node(
        &mut self,
        schema: &Value,
        decl: Arc<Decl>,
        path: &FieldPath,
        cardinality: u64,
        uncorrelatable: Option<&FieldPath>,
    ) -> Option<Node> {
        let schema_type = schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let schema_errors_before = self.schema_errors;
        let atomic_map = schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
        let mut additional_properties = None;
        if let (Some(additional), Type::Map(_, value_decl)) =
            (schema.get("additionalProperties").filter(|v| v.is_object()), &decl.ty)
        {
            let child_cardinality = cardinality.saturating_mul(decl.max_size.max(1));
            additional_properties = self
                .node(
                    additional,
                    value_decl.clone(),
                    &path.child("additionalProperties"),
                    child_cardinality,
                    uncorrelatable,
                )
                .map(Box::new);
        }
        let mut properties = Vec::new();
        if let (Some(members), Type::Object(object)) = (schema.get("properties").and_then(Value::as_object), &decl.ty) {
            let mut names: Vec<&String> = members.keys().collect();
            names.sort();
            for name in names {
                let Some(property) = members.get(name) else { continue };
                // A property rules cannot name (unescapable) still has its own rules, typed from its schema.
                let field_decl =
                    match escape_field_name(name).and_then(|cel_name| object.fields.get(&cel_name).cloned()) {
                        Some(decl) => decl,
                        None => match schema_decl(property, &format!("self.{name}"), flag_of(property)) {
                            Some(decl) => decl,
                            None => continue,
                        },
                    };
                let child_path = path.child("properties").key(name.as_str());
                // The properties of an atomic object have no old value of their own.
                let forbid = if atomic_map {
                    uncorrelatable.or(Some(path))
                } else {
                    uncorrelatable
                };
                if let Some(node) = self.node(property, field_decl, &child_path, cardinality, forbid) {
                    properties.push((name.clone(), node));
                }
            }
        }
        let mut all_of = Vec::new();
        for (index, entry) in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let entry_path = path.child("allOf").index(index);
            if let Some(mut node) = self.node(entry, decl.clone(), &entry_path, cardinality, uncorrelatable) {
                // Errors print the value's own type, which allOf entries seldom repeat.
                node.schema_type.clone_from(&schema_type);
                all_of.push(node);
            }
        }
        let mut items = None;
        let list_type = schema
            .get("x-kubernetes-list-type")
            .and_then(Value::as_str)
            .unwrap_or("atomic");
        if let (Some(item_schema), Type::List(elem)) = (schema.get("items"), &decl.ty) {
            let child_cardinality = cardinality.saturating_mul(decl.max_size.max(1));
            let forbid = if list_type == "map" {
                uncorrelatable
            } else {
                uncorrelatable.or(Some(path))
            };
            items = self
                .node(
                    item_schema,
                    elem.clone(),
                    &path.child("items"),
                    child_cardinality,
                    forbid,
                )
                .map(Box::new);
        }
        let deeper_schema_errors = self.schema_errors > schema_errors_before;
        let rules = self.rules(schema, &decl, path, cardinality, uncorrelatable, deeper_schema_errors);
        let list_map_keys = (list_type == "map").then(|| {
            schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|keys| keys.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        });
        if rules.is_empty()
            && properties.is_empty()
            && items.is_none()
            && additional_properties.is_none()
            && all_of.is_empty()
        {
            return None;
        }
        Some(Node {
            decl,
            schema_type,
            properties,
            items,
            additional_properties,
            all_of,
            list_map_keys,
            list_set: list_type == "set",
            atomic_map,
            self_fields: fields_read_by(&rules, "self"),
            old_self_fields: fields_read_by(&rules, "oldSelf"),
            rules,
        })
    }

    fn rules(
        &mut self,
        schema: &Value,
        decl: &Arc<Decl>,
        path: &FieldPath,
        cardinality: u64,
        uncorrelatable: Option<&FieldPath>,
        deeper_schema_errors: bool,
    ) -> Vec<CompiledRule> {
        let Some(rules) = schema.get("x-kubernetes-validations").and_then(Value::as_array) else {
            return Vec::new();
        };
        let mut schema_errors = false;
        for (index, rule) in rules.iter().enumerate() {
            let rule_path = path.child("x-kubernetes-validations").index(index);
            let text = |key: &str| rule.get(key).and_then(Value::as_str).unwrap_or_default();
            let (source, message, message_expression, field_path) = (
                text("rule"),
                text("message"),
                text("messageExpression"),
                text("fieldPath"),
            );
            let mut push = |error: FieldError| {
                schema_errors = true;
                self.schema_errors += 1;
                self.errors.push(error);
            };
            if source.trim().is_empty() {
                push(FieldError::required(&rule_path.child("rule"), "rule is not specified"));
            } else if !message.is_empty() && message.trim().is_empty() {
                push(FieldError::invalid(
                    &rule_path.child("message"),
                    message,
                    "message must be non-empty if specified",
                ));
            } else if has_newlines(message.trim()) {
                push(FieldError::invalid(
                    &rule_path.child("message"),
                    message,
                    "message must not contain line breaks",
                ));
            } else if has_newlines(source.trim()) && message.trim().is_empty() {
                push(FieldError::required(
                    &rule_path.child("message"),
                    "message must be specified if rule contains line breaks",
                ));
            }
            if !message_expression.is_empty() && message_expression.trim().is_empty() {
                push(FieldError::required(
                    &rule_path.child("messageExpression"),
                    "messageExpression must be non-empty if specified",
                ));
            }
            if let Some(reason) = rule.get("reason").and_then(Value::as_str) {
                if !SUPPORTED_REASONS.contains(&reason) {
                    push(FieldError::not_supported(
                        &rule_path.child("reason"),
                        reason,
                        &SUPPORTED_REASONS,
                    ));
                }
            }
            if !field_path.is_empty() && field_path.trim().is_empty() {
                push(FieldError::invalid(
                    &rule_path.child("fieldPath"),
                    field_path,
                    "fieldPath must be non-empty if specified",
                ));
            }
            if has_newlines(field_path) {
                push(FieldError::invalid(
                    &rule_path.child("fieldPath"),
                    field_path,
                    "fieldPath must not contain line breaks",
                ));
            }
            if !field_path.is_empty() && normalize_field_path(field_path, schema).is_none() {
                push(FieldError::invalid(
                    &rule_path.child("fieldPath"),
                    field_path,
                    "fieldPath must be a valid path",
                ));
            }
        }
        if schema_errors || deeper_schema_errors {
            return Vec::new();
        }
        let mut compiled = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let rule_path = path.child("x-kubernetes-validations").index(index);
            if let Some(rule) = self.rule(rule, decl, &rule_path, cardinality, uncorrelatable, schema) {
                compiled.push(rule);
            }
        }
        compiled
    }

    fn rule(
        &mut self,
        rule: &Value,
        decl: &Arc<Decl>,
        rule_path: &FieldPath,
        cardinality: u64,
        uncorrelatable: Option<&FieldPath>,
        schema: &Value,
    ) -> Option<CompiledRule> {
        let text = |key: &str| rule.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let source = text("rule");
        let optional_old_self = rule.get("optionalOldSelf").and_then(Value::as_bool);
        let old_self_decl = if optional_old_self == Some(true) {
            Arc::new(Decl {
                ty: Type::Optional(decl.clone()),
                max_size: decl.max_size,
            })
        } else {
            decl.clone()
        };
        let variables = HashMap::from([("self".to_owned(), decl.clone()), ("oldSelf".to_owned(), old_self_decl)]);
        let invalid = |detail: String| {
            FieldError::invalid(
                &rule_path.child("rule"),
                kapi_core::BadValue::Json(rule_struct(rule)),
                detail,
            )
        };
        let (program, cost, uses_old_self) = match parse(&source) {
            Err(error) => {
                self.errors.push(invalid(format!(
                    "compilation failed: {}",
                    format_error(&source, error.offset, &error.message)
                )));
                (None, 0, false)
            }
            Ok(program) => {
                let checked = check(&program, variables.clone());
                if !checked.errors.is_empty() {
                    let messages: Vec<String> = checked
                        .errors
                        .iter()
                        .map(|error| format_error(&source, error.offset, &error.message))
                        .collect();
                    self.errors
                        .push(invalid(format!("compilation failed: {}", messages.join("\n"))));
                    (None, 0, checked.uses_old_self)
                } else if !matches!(checked.ty, Type::Bool) {
                    self.errors
                        .push(invalid("cel expression must evaluate to a bool".to_owned()));
                    (None, 0, checked.uses_old_self)
                } else {
                    (Some(program), checked.cost, checked.uses_old_self)
                }
            }
        };
        let expression_cost = if cost == 0 { 0 } else { cost.saturating_mul(cardinality) };
        if expression_cost > STATIC_ESTIMATED_COST_LIMIT {
            self.errors.push(FieldError::forbidden(
                &rule_path.child("rule"),
                cost_error_message("estimated rule cost", expression_cost, STATIC_ESTIMATED_COST_LIMIT),
            ));
        }
        self.costs.push((rule_path.child("rule"), expression_cost));
        let message_expression_source = text("messageExpression");
        let mut message_expression = None;
        // As upstream, a messageExpression is compiled only once its rule compiled.
        if program.is_some() && !message_expression_source.trim().is_empty() {
            let message_path = rule_path.child("messageExpression");
            let message_invalid = |detail: String| {
                FieldError::invalid(&message_path, kapi_core::BadValue::Json(rule_struct(rule)), detail)
            };
            match parse(&message_expression_source) {
                Err(error) => self.errors.push(message_invalid(format!(
                    "messageExpression compilation failed: {}",
                    format_error(&message_expression_source, error.offset, &error.message)
                ))),
                Ok(expr) => {
                    let checked = check(&expr, variables);
                    if !checked.errors.is_empty() {
                        let messages: Vec<String> = checked
                            .errors
                            .iter()
                            .map(|error| format_error(&message_expression_source, error.offset, &error.message))
                            .collect();
                        self.errors.push(message_invalid(format!(
                            "messageExpression compilation failed: {}",
                            messages.join("\n")
                        )));
                    } else if !matches!(checked.ty, Type::String) {
                        self.errors.push(message_invalid(
                            "messageExpression must evaluate to a string".to_owned(),
                        ));
                    } else {
                        let message_cost = if checked.cost == 0 {
                            0
                        } else {
                            checked.cost.saturating_mul(cardinality)
                        };
                        if message_cost > STATIC_ESTIMATED_COST_LIMIT {
                            self.errors.push(FieldError::forbidden(
                                &message_path,
                                cost_error_message(
                                    "estimated messageExpression cost",
                                    message_cost,
                                    STATIC_ESTIMATED_COST_LIMIT,
                                ),
                            ));
                        }
                        self.costs.push((message_path.clone(), message_cost));
                        message_expression = Some(expr);
                    }
                }
            }
        }
        if uses_old_self {
            if let Some(uncorrelatable) = uncorrelatable {
                self.errors.push(FieldError::invalid(
                    &rule_path.child("rule"),
                    source.as_str(),
                    format!(
                        "oldSelf cannot be used on the uncorrelatable portion of the schema within {uncorrelatable}"
                    ),
                ));
            }
        } else if let Some(flag) = optional_old_self {
            self.errors.push(FieldError::invalid(
                &rule_path.child("optionalOldSelf"),
                flag,
                "may not be set if oldSelf is not used in rule",
            ));
        }
        let reason = rule.get("reason").and_then(Value::as_str).map(|reason| match reason {
            "FieldValueForbidden" => FieldErrorType::Forbidden,
            "FieldValueRequired" => FieldErrorType::Required,
            "FieldValueDuplicate" => FieldErrorType::Duplicate,
            _ => FieldErrorType::Invalid,
        });
        let field_path = text("fieldPath");
        Some(CompiledRule {
            program: program?,
            message: text("message").trim().to_owned(),
            rule: source.trim().to_owned(),
            message_expression,
            reason,
            field_path: if field_path.is_empty() {
                None
            } else {
                normalize_field_path(&field_path, schema)
            },
            uses_old_self,
            optional_old_self: optional_old_self == Some(true),
        })
    }
}

/// Validates a rule's `fieldPath` (`.a.b`, `.m['key']`, `['a.b']`) against the schema and returns how it prints
/// below the rule's node (`a.b`, `m[key]`), as upstream's `ValidFieldPath`.
pub(crate) fn normalize_field_path(field_path: &str, schema: &Value) -> Option<String> {
    let mut printed = FieldPath::nil();
    let mut node = schema;
    let mut rest = field_path;
    let step = |name: String, node: &mut &Value, printed: &mut FieldPath| -> Option<()> {
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            *printed = if printed.is_nil() {
                FieldPath::new(name.as_str())
            } else {
                printed.child(name.as_str())
            };
            *node = properties.get(&name)?;
        } else if let Some(additional) = node.get("additionalProperties").filter(|value| value.is_object()) {
            *printed = printed.key(name);
            *node = additional;
        } else {
            return None;
        }
        Some(())
    };
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            if name.is_empty() || name.contains(']') {
                return None;
            }
            step(name.to_owned(), &mut node, &mut printed)?;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("['") {
            let mut end = None;
            let bytes = after.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                if *b == b'\'' && (i == 0 || bytes[i - 1] != b'\\') {
                    end = Some(i);
                    break;
                }
            }
            let end = end?;
            let key = unescape_single_quoted(&after[..end])?;
            step(key, &mut node, &mut printed)?;
            rest = after[end + 1..].strip_prefix(']')?;
        } else {
            return None;
        }
    }
    let text = printed.to_string();
    (!printed.is_nil()).then_some(text)
}

fn unescape_single_quoted(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\'' => '\'',
            '\\' => '\\',
            _ => return None,
        });
    }
    Some(out)
}

/// Whether a property is an embedded resource.
fn flag_of(property: &Value) -> bool {
    property.get("x-kubernetes-embedded-resource").and_then(Value::as_bool) == Some(true)
}
