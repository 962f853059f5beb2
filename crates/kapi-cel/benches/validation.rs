//! Validation time per object for a custom resource whose schema has about 50 fields and 3 CEL rules (the
//! figure issue 5 asks for), plus compile time. `cargo bench -p kapi-cel`.

use std::{hint::black_box, time::Instant};

use kapi_core::FieldPath;
use serde_json::{json, Map, Value};

/// A schema with 48 spec fields (strings, integers, a list and a map among them) and three rules: a
/// cross-field comparison, a list macro with a regex, and a transition rule.
fn schema() -> Value {
    let mut properties = Map::new();
    for index in 0..40 {
        let field = if index % 2 == 0 {
            json!({"type": "string", "maxLength": 64})
        } else {
            json!({"type": "integer", "minimum": 0})
        };
        properties.insert(format!("field{index}"), field);
    }
    properties.insert("minReplicas".to_owned(), json!({"type": "integer"}));
    properties.insert("replicas".to_owned(), json!({"type": "integer"}));
    properties.insert("mode".to_owned(), json!({"type": "string", "enum": ["auto", "manual"]}));
    properties.insert("owner".to_owned(), json!({"type": "string", "maxLength": 63}));
    properties.insert(
        "tags".to_owned(),
        json!({"type": "array", "maxItems": 16, "items": {"type": "string", "maxLength": 32},
               "x-kubernetes-validations": [{"rule": "self.all(t, t.matches('^[a-z][a-z0-9-]*$'))", "message": "tags must be lowercase"}]}),
    );
    properties.insert(
        "labels".to_owned(),
        json!({"type": "object", "maxProperties": 16, "additionalProperties": {"type": "string", "maxLength": 63}}),
    );
    properties.insert(
        "id".to_owned(),
        json!({"type": "string", "maxLength": 36, "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "id is immutable"}]}),
    );
    properties.insert("ratio".to_owned(), json!({"type": "number"}));
    json!({"type": "object", "properties": {"spec": {
        "type": "object",
        "x-kubernetes-validations": [{"rule": "self.minReplicas <= self.replicas", "message": "replicas must be >= minReplicas"}],
        "properties": properties
    }}})
}

fn object(id: &str) -> Value {
    let mut spec = Map::new();
    for index in 0..40 {
        let value = if index % 2 == 0 {
            json!(format!("value-{index}"))
        } else {
            json!(index)
        };
        spec.insert(format!("field{index}"), value);
    }
    spec.insert("minReplicas".to_owned(), json!(1));
    spec.insert("replicas".to_owned(), json!(3));
    spec.insert("mode".to_owned(), json!("auto"));
    spec.insert("owner".to_owned(), json!("team-a"));
    spec.insert("tags".to_owned(), json!(["alpha", "beta", "gamma-1", "delta"]));
    spec.insert("labels".to_owned(), json!({"app": "widget", "tier": "backend"}));
    spec.insert("id".to_owned(), json!(id));
    spec.insert("ratio".to_owned(), json!(0.5));
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": spec})
}

fn per_iteration(label: &str, iterations: u32, mut run: impl FnMut()) {
    for _ in 0..iterations / 10 {
        run();
    }
    let started = Instant::now();
    for _ in 0..iterations {
        run();
    }
    let elapsed = started.elapsed();
    let micros = elapsed.as_secs_f64() * 1e6 / f64::from(iterations);
    println!("{label:<46} {micros:>9.2} µs/op  ({:>9.0} ops/s)", 1e6 / micros);
}

fn main() {
    let schema = schema();
    let path = FieldPath::from_names(&["spec", "versions[0]", "schema", "openAPIV3Schema"]);
    let rules =
        kapi_cel::compile(&schema, &path).unwrap_or_else(|errors| panic!("the bench schema compiles: {errors}"));
    let new = object("id-1");
    let old = object("id-1");
    assert!(rules.validate(&new, Some(&old)).is_empty(), "the bench object is valid");

    println!("kapi-cel: 50-field schema, 3 rules");
    per_iteration("compile (schema with 3 rules)", 2_000, || {
        black_box(kapi_cel::compile(black_box(&schema), &path).is_ok());
    });
    per_iteration("validate create (2 rules run)", 20_000, || {
        black_box(rules.validate(black_box(&new), None));
    });
    per_iteration("validate update (3 rules run, oldSelf)", 20_000, || {
        black_box(rules.validate(black_box(&new), Some(black_box(&old))));
    });
    let changed = object("id-2");
    per_iteration("validate update failing (immutable id)", 20_000, || {
        black_box(rules.validate(black_box(&changed), Some(black_box(&old))));
    });
}
