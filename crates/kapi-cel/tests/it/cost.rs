//! The cost bounds: the static estimate refuses rules that could be too expensive (upstream's limits and
//! boundaries), and the runtime meter stops evaluation so that no rule can stall the server.

use std::time::{Duration, Instant};

use kapi_core::FieldPath;
use serde_json::{json, Value};

fn path() -> FieldPath {
    FieldPath::from_names(&["spec", "validation", "openAPIV3Schema"])
}

fn tags_schema(max_items: Option<u64>, max_length: Option<u64>, rule: &str) -> Value {
    let mut items = json!({"type": "string"});
    if let Some(max_length) = max_length {
        items["maxLength"] = json!(max_length);
    }
    let mut tags = json!({"type": "array", "items": items, "x-kubernetes-validations": [{"rule": rule}]});
    if let Some(max_items) = max_items {
        tags["maxItems"] = json!(max_items);
    }
    json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"tags": tags}}}})
}

fn accepted(schema: &Value) -> bool {
    kapi_cel::compile(schema, &path()).is_ok()
}

#[test]
fn unbounded_lists_and_strings_are_refused() {
    let errors = kapi_cel::compile(&tags_schema(None, None, "self.all(x, x.contains('gpu'))"), &path())
        .expect_err("too expensive");
    let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(rendered.len(), 3, "{rendered:?}");
    assert!(rendered[0].ends_with("rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"));
    assert!(rendered[1].ends_with(
        "rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema"
    ));
    assert!(rendered[2]
        .starts_with("spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total"));
}

/// The largest accepted maxItems for `self.all(x, x.contains('gpu'))` at several maxLengths, as measured against
/// kube-apiserver's validator: 11, 30 and 106 cost units per item.
#[test]
fn bounded_lists_are_accepted_up_to_upstreams_boundary() {
    for (max_length, largest) in [(16, 909_090), (63, 333_333), (253, 94_339)] {
        let rule = "self.all(x, x.contains('gpu'))";
        assert!(
            accepted(&tags_schema(Some(largest), Some(max_length), rule)),
            "maxLength {max_length}, maxItems {largest}"
        );
        assert!(
            !accepted(&tags_schema(Some(largest + 1), Some(max_length), rule)),
            "maxLength {max_length}, maxItems {}",
            largest + 1
        );
    }
}

#[test]
fn a_factor_below_100x_is_printed() {
    let errors = kapi_cel::compile(
        &tags_schema(Some(2_000_000), Some(16), "self.all(x, x.contains('gpu'))"),
        &path(),
    )
    .expect_err("over budget");
    let first = errors.iter().next().map(ToString::to_string).unwrap_or_default();
    assert!(
        first.contains("estimated rule cost exceeds budget by factor of 2.2x"),
        "{first}"
    );
}

#[test]
fn a_pathological_expression_is_stopped_quickly() {
    let items: Vec<u64> = (0..2000).collect();
    let started = Instant::now();
    let result = kapi_cel::evaluate("self.all(x, self.all(y, self.all(z, x + y + z >= 0)))", &json!(items));
    assert_eq!(
        result,
        Err("operation cancelled: actual cost limit exceeded".to_owned())
    );
    // The per-call limit is reached after about a million cost units; generous for a loaded debug build.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn the_per_object_budget_stops_validation() {
    // Two rules on each of 1,000 inner lists of 1,000 integers: each rule fits the static limits, but together
    // they cost more than the 10,000,000 units one object may use.
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"rows": {
        "type": "array", "maxItems": 1000, "items": {
            "type": "array", "maxItems": 1000, "items": {"type": "integer"},
            "x-kubernetes-validations": [{"rule": "self.all(x, x >= 0)"}, {"rule": "!self.exists(x, x < 0)"}]
        }
    }}}}});
    let rules = kapi_cel::compile(&schema, &path()).unwrap_or_else(|errors| panic!("compiles: {errors}"));
    let row: Vec<u64> = (0..1000).collect();
    let rows: Vec<Value> = (0..1000).map(|_| json!(row)).collect();
    let object = json!({"spec": {"rows": rows}});
    let started = Instant::now();
    let errors: Vec<String> = rules.validate(&object, None).iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with(": Invalid value: \"array\": validation failed due to running out of cost budget, no further validation rules will be run"),
        "{errors:?}"
    );
    assert!(errors[0].starts_with("spec.rows["), "{errors:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    // A small object fits the budget.
    assert!(rules
        .validate(&json!({"spec": {"rows": [[1, 2], [3]]}}), None)
        .is_empty());
}

#[test]
fn repeated_concatenation_of_a_large_list_is_stopped_quickly() {
    let items: Vec<u64> = (0..60_000).collect();
    let started = Instant::now();
    let result = kapi_cel::evaluate("self.map(x, self + self).size() > 0", &json!(items));
    assert_eq!(
        result,
        Err("operation cancelled: actual cost limit exceeded".to_owned())
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn comparing_large_nested_values_in_a_loop_is_stopped_quickly() {
    let big: Vec<Vec<u64>> = (0..5).map(|_| (0..100_000).collect()).collect();
    let small: Vec<u64> = (0..100_000).collect();
    let started = Instant::now();
    let result = kapi_cel::evaluate(
        "self.small.all(x, self.big == self.big)",
        &json!({"big": big, "small": small}),
    );
    assert_eq!(
        result,
        Err("operation cancelled: actual cost limit exceeded".to_owned())
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn many_ratcheted_failures_below_one_large_value_compare_it_once() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"names": {
        "type": "array", "maxItems": 100000,
        "items": {"type": "string", "maxLength": 8, "x-kubernetes-validations": [{"rule": "self.startsWith('x')"}]}
    }}}}});
    let rules = kapi_cel::compile(&schema, &path()).unwrap_or_else(|errors| panic!("compiles: {errors}"));
    let names: Vec<String> = (0..20_000).map(|index| format!("n{index}")).collect();
    let object = json!({"spec": {"names": names}});
    let started = Instant::now();
    let (errors, warnings) = rules.validate_with_warnings(&object, Some(&object));
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(warnings.len(), 20_000);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
