//! CEL for CustomResourceDefinitions: compiling and evaluating `x-kubernetes-validations` rules the way
//! kube-apiserver does (apiextensions-apiserver `pkg/apiserver/schema/cel` and k8s.io/apiserver `pkg/cel`).
//!
//! # Use
//!
//! ```
//! use kapi_core::FieldPath;
//! use serde_json::json;
//!
//! let schema = json!({
//!     "type": "object",
//!     "properties": {"spec": {
//!         "type": "object",
//!         "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min must not exceed max"}],
//!         "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}
//!     }}
//! });
//! let path = FieldPath::from_names(&["spec", "validation", "openAPIV3Schema"]);
//! let rules = kapi_cel::compile(&schema, &path).expect("the rules compile");
//! let errors = rules.validate(&json!({"spec": {"min": 3, "max": 1}}), None);
//! assert_eq!(errors.to_string(), "spec: Invalid value: min must not exceed max");
//! ```
//!
//! # Engine decision
//!
//! kapi has its own CEL engine rather than the `cel` crate (cel-rust, formerly `cel-interpreter`; MIT,
//! maintained). That crate builds in about 38 s from clean on two cores (its ANTLR-generated parser pulls in
//! `antlr4rust`, `chrono`, `chrono-tz` and `nom`; kapi-cel itself takes about 10 s on top of `regex` and
//! `serde_json`, which the workspace builds anyway), but the deciding point is that it is a dynamically typed
//! interpreter: it has no type checker and no cost model. Kubernetes needs both when a CRD is written —
//! `undefined field 'x'` and `found no matching overload` errors are reported on the CRD with their
//! positions, and rules are refused when their *estimated* worst-case cost (driven by the schema's
//! `maxLength`/`maxItems`/`maxProperties`) exceeds the per-expression or per-CRD limits — and a runtime cost
//! meter that interrupts an evaluation midway, for which cel-rust's interpreter has no hook. Adding those
//! would mean a second type system over its AST and a fork of its evaluator; the language subset and libraries
//! Kubernetes' CRD environment enables are small enough that our own parser, checker (with cel-go's cost
//! model) and evaluator are simpler, and are exact where it matters (messages, positions, costs).
//!
//! # What is supported
//!
//! The CEL language without protobuf message construction: literals (int, uint, double, strings with every
//! escape, raw and triple-quoted strings, bytes), operators, the conditional, `in`, indexing, field selection,
//! `has()`, the macros `all`, `exists`, `exists_one`, `map` (2 and 3 arguments) and `filter`, optional types
//! (`x.?f`, `m[?k]`, `optional.of/none/ofNonZeroValue`, `hasValue`, `value`, `or`, `orValue`, `optMap`,
//! `optFlatMap`, `[?x]`, `{?k: v}`), conversions, timestamps and durations with their accessors.
//!
//! Libraries, as Kubernetes 1.36 enables them for CRDs: cel-go's strings extension at version 2 (`charAt`,
//! `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`, `split`, `substring`, `trim`, `join`,
//! `format`, `strings.quote`), sets (`sets.contains`, `sets.equivalent`, `sets.intersects`), two-variable
//! comprehensions (`all(k, v, p)`, `exists`, `existsOne`, `transformList`, `transformMap`,
//! `transformMapEntry`), and Kubernetes' lists (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`),
//! regex (`find`, `findAll`), URLs, IPs and CIDRs, quantities, semver, container images (`image`, `isImage`,
//! `registry`, `repository`, `tag`, `digest`, `identifier`, `containsDigest`) and named formats
//! (`format.dns1123Label().validate(s)`, `format.named(name)`). As in kube-apiserver's CRD environment there are
//! no encoders, math or bindings libraries; constant regexes, durations and timestamps, and the homogeneity of
//! list and map literals, are checked at compile time; property names are escaped (`self.__namespace__`,
//! `self.x__dash__y`); fields kept only by `x-kubernetes-preserve-unknown-fields` are invisible to rules.
//!
//! Validation follows upstream's walk: `self` per schema node (each list item and map value for rules below
//! `items`/`additionalProperties`, rules inside `allOf` on the same value), transition rules only where an old
//! value correlates, ratcheting of unchanged values on update, and the per-call and per-object cost budgets.
#![forbid(unsafe_code)]

mod builtins;
mod checker;
mod compile;
mod eval;
mod format;
mod functions;
mod lexer;
mod library;
mod members;
mod parser;
mod time;
mod types;
mod validate;
mod value;

use kapi_core::{FieldErrors, FieldPath};
use serde_json::Value;

pub use crate::limits::*;

/// The cost limits, as kube-apiserver's `k8s.io/apiserver/pkg/apis/cel` config sets them.
pub mod limits {
    /// The most one evaluation of one expression may cost at runtime (`PerCallLimit`).
    pub const PER_CALL_LIMIT: u64 = crate::validate::PER_CALL_LIMIT;
    /// The most all rules may cost at runtime while validating one object (`RuntimeCELCostBudget`).
    pub const RUNTIME_COST_BUDGET: u64 = crate::validate::RUNTIME_COST_BUDGET;
    /// The most one expression's estimated cost may be, times its node's cardinality (`StaticEstimatedCostLimit`).
    pub const STATIC_ESTIMATED_COST_LIMIT: u64 = crate::compile::STATIC_ESTIMATED_COST_LIMIT;
    /// The most the estimated costs of all expressions of one schema may add up to (`StaticEstimatedCRDCostLimit`).
    pub const STATIC_ESTIMATED_CRD_COST_LIMIT: u64 = crate::compile::STATIC_ESTIMATED_CRD_COST_LIMIT;
}

/// All `x-kubernetes-validations` rules found anywhere in a CRD version's openAPIV3Schema, compiled.
///
/// Build it once per CRD version with [`compile`] and share it: it is `Send + Sync`, and [`validate`]
/// takes `&self`.
///
/// [`validate`]: CompiledValidations::validate
#[derive(Debug)]
pub struct CompiledValidations {
    root: Option<compile::Node>,
}

/// Compiles the rules of a CRD version's `openAPIV3Schema` (at `schema_path`, e.g.
/// `spec.versions[0].schema.openAPIV3Schema`).
///
/// Errors are reported as upstream reports them on the CRD: the rule's own fields (`rule is not specified`,
/// `message must not contain line breaks`, unsupported `reason`, invalid `fieldPath`), `compilation failed:
/// ERROR: <input>:1:5: undefined field 'x'` with the source line and a caret (field paths like
/// `...openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule`), `messageExpression compilation
/// failed`, `oldSelf` on an uncorrelatable part of the schema, `optionalOldSelf` without `oldSelf`, and the
/// estimated-cost limits (per expression, and for the schema as a whole).
///
/// The schema is expected to be structural (the schema crate validates that first); nodes CEL cannot type are
/// skipped, as upstream skips them.
pub fn compile(open_api_v3_schema: &Value, schema_path: &FieldPath) -> Result<CompiledValidations, FieldErrors> {
    let (root, errors) = compile::compile_schema(open_api_v3_schema, schema_path);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CompiledValidations { root })
}

impl CompiledValidations {
    /// Evaluates every rule against `new` (and `old` for transition rules).
    ///
    /// `self` is bound per schema node: objects, each list item for rules under `items`, each map value for
    /// rules under `additionalProperties`. Rules that use `oldSelf` run only when an old value correlates
    /// (objects by field name, map-type lists by their keys, maps unless atomic), except with
    /// `optionalOldSelf: true`, where `oldSelf` is an optional. Null values are not validated.
    ///
    /// Failures come back with upstream's field path (the rule's `fieldPath` appended), type (`Invalid`, or
    /// `Forbidden`/`Required`/`Duplicate` from `reason`) and message (`messageExpression`'s result, `message`,
    /// or `failed rule: <rule>`). Runtime errors (`no such key: x evaluating rule: ...`) are `Invalid` too. A
    /// rule that costs more than [`PER_CALL_LIMIT`] is interrupted, and all rules together may cost at most
    /// [`RUNTIME_COST_BUDGET`]; either ends validation with upstream's cost error.
    ///
    /// On updates, failures of rules without `oldSelf` on values that did not change are dropped (CRD validation
    /// ratcheting, on by default since Kubernetes 1.30); [`validate_with_warnings`] returns them as warnings.
    ///
    /// [`validate_with_warnings`]: CompiledValidations::validate_with_warnings
    pub fn validate(&self, new: &Value, old: Option<&Value>) -> FieldErrors {
        self.validate_with_warnings(new, old).0
    }

    /// Like [`validate`](CompiledValidations::validate), and also returns the ratcheted failures as the warning
    /// texts kube-apiserver sends in `Warning` headers (`spec.x: Invalid value: ...`).
    pub fn validate_with_warnings(&self, new: &Value, old: Option<&Value>) -> (FieldErrors, Vec<String>) {
        let Some(root) = &self.root else {
            return (FieldErrors::new(), Vec::new());
        };
        let mut validation = validate::Validation::new(RUNTIME_COST_BUDGET);
        validation.node(root, &FieldPath::nil(), new, old, validate::Ratchet::root(old));
        let warnings = validation.ratcheted.iter().map(ToString::to_string).collect();
        (validation.errors, warnings)
    }

    /// Whether the schema has no rules at all (validation is then a no-op).
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }
}

/// Parses, checks and evaluates a standalone expression with `self` bound to an untyped JSON value; for tests,
/// tooling and one-off checks. Returns the result as JSON (timestamps, durations and library types as their
/// string forms) or the error message.
pub fn evaluate(expression: &str, self_value: &Value) -> Result<Value, String> {
    let program =
        parser::parse(expression).map_err(|error| parser::format_error(expression, error.offset, &error.message))?;
    let variables = std::collections::HashMap::from([(
        "self".to_owned(),
        std::sync::Arc::new(types::Decl::unbounded(types::Type::Dyn)),
    )]);
    let checked = checker::check(&program, variables);
    if let Some(error) = checked.errors.first() {
        return Err(parser::format_error(expression, error.offset, &error.message));
    }
    let mut evaluator = eval::Evaluator::new(
        vec![(std::rc::Rc::from("self"), value::Val::from_json(self_value, None))],
        PER_CALL_LIMIT,
    );
    match evaluator.eval(&program) {
        Ok(result) => Ok(to_json(&result)),
        Err(eval::Failure::Error(message)) => Err(message),
        Err(eval::Failure::CostExceeded) => Err("operation cancelled: actual cost limit exceeded".to_owned()),
    }
}

fn to_json(value: &value::Val) -> Value {
    use value::Val;
    match value {
        Val::Null | Val::Optional(None) => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(i) => Value::from(*i),
        Val::Uint(u) => Value::from(*u),
        Val::Double(d) => serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number),
        Val::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Val::Map(map) => Value::Object(
            map.entries
                .iter()
                .map(|(key, value)| (builtins::key_text(&key.to_val()), to_json(value)))
                .collect(),
        ),
        Val::Optional(Some(inner)) => to_json(inner),
        Val::Quantity(q) => Value::String(format!("{}e{}", q.mantissa, q.exponent)),
        other => Value::String(builtins::to_string(other).unwrap_or_else(|_| other.type_name().to_owned())),
    }
}
