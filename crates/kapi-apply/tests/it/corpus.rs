//! The table of apply scenarios: each case is a sequence of applies and updates by named managers on one Widget,
//! with the outcome of every step (the spec written, every managedFields entry, or the conflicts). The cases
//! follow structured-merge-diff's and kube-apiserver's scenarios, rewritten with our own data.

use kapi_apply::{apply, update, ApplyError, ManagedFields, Set};
use serde_json::{json, Value};

use crate::fixture::{summary, with_spec, writer};

/// What a step must produce.
pub(crate) enum Outcome {
    /// Success: whether the object changed, its spec (when given) and every entry `(manager, operation, fieldsV1)`.
    Ok {
        changed: bool,
        spec: Option<Value>,
        managers: Vec<(&'static str, &'static str, Value)>,
    },
    /// 409: these conflicts (`<manager label>: <path>`), in order.
    Conflicts(Vec<&'static str>),
    /// The configuration cannot be merged.
    Invalid,
}

pub(crate) enum Step {
    Apply {
        manager: &'static str,
        spec: Value,
        force: bool,
        outcome: Outcome,
    },
    Update {
        manager: &'static str,
        spec: Value,
        outcome: Outcome,
    },
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) steps: Vec<Step>,
}

pub(crate) fn applies(manager: &'static str, spec: Value, outcome: Outcome) -> Step {
    Step::Apply {
        manager,
        spec,
        force: false,
        outcome,
    }
}

pub(crate) fn forces(manager: &'static str, spec: Value, outcome: Outcome) -> Step {
    Step::Apply {
        manager,
        spec,
        force: true,
        outcome,
    }
}

pub(crate) fn updates(manager: &'static str, spec: Value, outcome: Outcome) -> Step {
    Step::Update { manager, spec, outcome }
}

pub(crate) fn written(spec: Value, managers: Vec<(&'static str, &'static str, Value)>) -> Outcome {
    Outcome::Ok {
        changed: true,
        spec: Some(spec),
        managers,
    }
}

pub(crate) fn unchanged(managers: Vec<(&'static str, &'static str, Value)>) -> Outcome {
    Outcome::Ok {
        changed: false,
        spec: None,
        managers,
    }
}

pub(crate) fn conflicts(list: Vec<&'static str>) -> Outcome {
    Outcome::Conflicts(list)
}

pub(crate) fn owns(manager: &'static str, fields: Value) -> (&'static str, &'static str, Value) {
    (manager, "Apply", fields)
}

pub(crate) fn updated(manager: &'static str, fields: Value) -> (&'static str, &'static str, Value) {
    (manager, "Update", fields)
}

fn object_of(spec: &Value) -> Value {
    if spec.as_object().is_some_and(serde_json::Map::is_empty) {
        let mut object = with_spec(Value::Null);
        if let Some(map) = object.as_object_mut() {
            map.shift_remove("spec");
        }
        return object;
    }
    with_spec(spec.clone())
}

fn check(case: &str, index: usize, outcome: &Outcome, result: Result<(Option<Value>, ManagedFields), ApplyError>) {
    let at = format!("{case}, step {}", index + 1);
    match (outcome, result) {
        (
            Outcome::Ok {
                changed,
                spec,
                managers,
            },
            Ok((object, managed)),
        ) => {
            assert_eq!(object.is_some(), *changed, "{at}: changed");
            if let (Some(spec), Some(object)) = (spec, &object) {
                assert_eq!(object.get("spec").unwrap_or(&Value::Null), spec, "{at}: spec");
            }
            let expected: Vec<(String, String, Value)> = managers
                .iter()
                .map(|(m, o, f)| ((*m).to_owned(), (*o).to_owned(), f.clone()))
                .collect();
            assert_eq!(summary(&managed), expected, "{at}: managedFields");
        }
        (Outcome::Conflicts(expected), Err(ApplyError::Conflicts(found))) => {
            let found: Vec<String> = found.iter().map(|c| format!("{}: {}", c.manager, c.path)).collect();
            assert_eq!(found, *expected, "{at}: conflicts");
        }
        (Outcome::Invalid, Err(ApplyError::Invalid(_))) => {}
        (_, other) => panic!("{at}: unexpected result {other:?}"),
    }
}

#[test]
fn apply_corpus() {
    let none = Set::new();
    let cases = crate::corpus_cases::cases();
    assert!(cases.len() >= 25, "the corpus keeps its cases");
    for case in cases {
        let mut live = json!({});
        let mut managed = ManagedFields::default();
        for (index, step) in case.steps.iter().enumerate() {
            let (outcome, result) = match step {
                Step::Apply {
                    manager,
                    spec,
                    force,
                    outcome,
                } => {
                    let result = apply(&live, &object_of(spec), &managed, &writer(manager, &none), *force)
                        .map(|applied| (applied.object, applied.managed));
                    (outcome, result)
                }
                Step::Update { manager, spec, outcome } => {
                    let new = object_of(spec);
                    let changed = new != live;
                    let managed = update(&live, &new, &managed, &writer(manager, &none));
                    (outcome, Ok((changed.then_some(new), managed)))
                }
            };
            if let Ok((object, next)) = &result {
                if let Some(object) = object {
                    live = object.clone();
                }
                managed = next.clone();
            }
            check(case.name, index, outcome, result);
        }
    }
}
