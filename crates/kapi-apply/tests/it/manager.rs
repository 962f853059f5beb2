//! The field manager's bookkeeping around the merge: messages, reset fields, subresources, entry order, caps.

use kapi_apply::{
    apply, conflict_message, update, ApplyError, Conflict, ManagedFields, ManagerEntry, Operation, Path, Set, Writer,
};
use serde_json::json;

use crate::fixture::{summary, widget, with_spec, writer};

#[test]
fn conflict_messages_read_like_kube_apiserver() {
    let one = [Conflict {
        manager: "\"b\"".to_owned(),
        path: Path::fields(&["data", "a"]),
    }];
    assert_eq!(
        conflict_message(&one),
        "Apply failed with 1 conflict: conflict with \"b\": .data.a"
    );
    let many = [
        Conflict {
            manager: "\"b\" using v1".to_owned(),
            path: Path::fields(&["data", "x"]),
        },
        Conflict {
            manager: "\"a\"".to_owned(),
            path: Path::fields(&["data", "a"]),
        },
        Conflict {
            manager: "\"a\"".to_owned(),
            path: Path::fields(&["data", "b"]),
        },
    ];
    assert_eq!(
        conflict_message(&many),
        "Apply failed with 3 conflicts: conflicts with \"a\":\n- .data.a\n- .data.b\nconflicts with \"b\" using v1:\n- .data.x"
    );
}

#[test]
fn reset_fields_are_neither_owned_nor_compared() {
    let status: Set = [Path::fields(&["status"])].into_iter().collect();
    let mut config = with_spec(json!({"replicas": 1}));
    config["status"] = json!({"phase": "Running"});
    let applied = apply(
        &json!({}),
        &config,
        &ManagedFields::default(),
        &writer("a", &status),
        false,
    )
    .expect("apply");
    assert_eq!(summary(&applied.managed)[0].2, json!({"f:spec": {"f:replicas": {}}}));
    // Someone else's status never conflicts through the main resource.
    let mut other = with_spec(json!({"replicas": 1}));
    other["status"] = json!({"phase": "Failed"});
    let live = applied.object.expect("created");
    assert!(apply(&live, &other, &applied.managed, &writer("b", &status), false).is_ok());
}

#[test]
fn subresource_entries_are_their_own_identity() {
    let none = Set::new();
    let mut status_config = with_spec(json!(null));
    status_config["status"] = json!({"phase": "Running"});
    let status_writer = Writer {
        subresource: "status",
        ..writer("controller", &none)
    };
    let applied = apply(
        &json!({}),
        &status_config,
        &ManagedFields::default(),
        &status_writer,
        false,
    )
    .expect("apply");
    let entry = &applied.managed.encode()[0];
    assert_eq!(entry["subresource"], "status");
    assert_eq!(entry["fieldsV1"], json!({"f:spec": {}, "f:status": {"f:phase": {}}}));
    let mut other = with_spec(json!(null));
    other["status"] = json!({"phase": "Failed"});
    let live = applied.object.expect("created");
    match apply(&live, &other, &applied.managed, &writer("user", &none), false) {
        Err(ApplyError::Conflicts(conflicts)) => {
            assert_eq!(conflicts[0].manager, "\"controller\" with subresource \"status\"")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn creates_recorded_as_updates_mark_added_maps_and_skip_zero_structs() {
    let none = Set::new();
    let object = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "labels": {"app": "x"}}, "spec": {"replicas": 1}});
    // A typed object's empty value already has `metadata` and `spec`: only what is inside them is added.
    let zero = json!({"metadata": {}, "spec": {}});
    let managed = update(&zero, &object, &ManagedFields::default(), &writer("creator", &none));
    assert_eq!(
        summary(&managed)[0].2,
        json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:replicas": {}}})
    );
    // Nothing tracked: no entry at all.
    let bare = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    assert!(
        update(&zero, &bare, &ManagedFields::default(), &writer("creator", &none))
            .entries
            .is_empty()
    );
}

#[test]
fn entries_are_encoded_apply_first_then_by_time_then_name() {
    let entry = |manager: &str, operation, time: Option<&str>| ManagerEntry {
        manager: manager.to_owned(),
        operation,
        api_version: "v1".to_owned(),
        time: time.map(str::to_owned),
        subresource: String::new(),
        fields: [Path::fields(&["data", manager])].into_iter().collect(),
    };
    let managed = ManagedFields {
        entries: vec![
            entry("z", Operation::Update, Some("2026-01-01T00:00:01Z")),
            entry("y", Operation::Update, Some("2026-01-01T00:00:00Z")),
            entry("b", Operation::Apply, Some("2026-01-01T00:00:00Z")),
            entry("a", Operation::Apply, None),
        ],
    };
    let names: Vec<String> = managed
        .encode()
        .iter()
        .map(|e| e["manager"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["a", "b", "y", "z"]);
    let first = &managed.encode()[1];
    let keys: Vec<&str> = first.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]
    );
    let decoded = ManagedFields::decode(&managed.encode()).expect("decodes");
    assert_eq!(decoded.encode(), managed.encode());
}

#[test]
fn more_than_ten_update_managers_merge_the_oldest_into_ancient_changes() {
    let none = Set::new();
    let mut live = with_spec(json!({"labels": {}}));
    let mut managed = ManagedFields::default();
    for n in 0..12 {
        let manager = format!("m{n:02}");
        let time = format!("2026-01-01T00:00:{n:02}Z");
        let mut new = live.clone();
        new["spec"]["labels"][manager.as_str()] = json!("x");
        let w = Writer {
            time: &time,
            ..writer(&manager, &none)
        };
        managed = update(&live, &new, &managed, &w);
        live = new;
    }
    let names: Vec<String> = summary(&managed).into_iter().map(|(m, _, _)| m).collect();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "ancient-changes");
    assert_eq!(
        summary(&managed)[0].2,
        json!({"f:spec": {"f:labels": {"f:m00": {}, "f:m01": {}, "f:m02": {}}}})
    );
}

#[test]
fn reset_requests_are_an_empty_list_or_one_empty_entry() {
    assert!(ManagedFields::is_reset_request(&[]));
    assert!(ManagedFields::is_reset_request(&[json!({})]));
    assert!(!ManagedFields::is_reset_request(&[json!({"manager": "m"})]));
}

#[test]
fn untyped_objects_apply_without_a_schema() {
    let none = Set::new();
    let deduced = Writer {
        schema: kapi_apply::TypeRef::Deduced,
        ..writer("a", &none)
    };
    let config =
        json!({"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": {"x": [1], "y": {"z": 1}}});
    let applied = apply(&json!({}), &config, &ManagedFields::default(), &deduced, false).expect("apply");
    assert_eq!(
        summary(&applied.managed)[0].2,
        json!({"f:spec": {".": {}, "f:x": {}, "f:y": {".": {}, "f:z": {}}}})
    );
    let _ = widget();
}
