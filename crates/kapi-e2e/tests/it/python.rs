//! The Python `kubernetes` client (`pip install kubernetes`), through scripts in `tests/python/`.

use std::{process::Command, sync::OnceLock};

use kapi_e2e::{parse_json, run_to_completion, KapiServer};
use serde_json::json;

use crate::common::shared;

static SERVER: OnceLock<KapiServer> = OnceLock::new();

fn run_script(server: &KapiServer, script: &str, args: &[&str]) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let mut command = Command::new("python3");
    command.arg(&path).args(args).env("KUBECONFIG", server.kubeconfig());
    let out = run_to_completion(command, "", &format!("python3 {script}"));
    assert_eq!(
        out.code, 0,
        "{script} failed (is `pip install kubernetes` done?): {out:?}"
    );
    parse_json(out.stdout.trim())
}

#[test]
fn core_v1_configmaps() {
    let seen = run_script(shared(&SERVER), "configmaps.py", &["python-cm"]);
    assert_eq!(
        seen["created"],
        json!({"name": "py", "uid_len": 36, "data": {"a": "1"}})
    );
    assert_eq!(seen["read_data"], json!({"a": "1"}));
    assert_eq!(
        seen["patched"],
        json!({"data": {"a": "1", "b": "2"}, "labels": {"app": "py", "extra": "x"}})
    );
    assert_eq!(
        seen["pages"],
        json!([["page-0", "page-1"], ["page-2", "page-3"], ["page-4"]])
    );
    assert_eq!(seen["selected"], json!(["py"]));
    assert_eq!(
        seen["watch"],
        json!([["ADDED", "watched"], ["MODIFIED", "watched"], ["DELETED", "watched"]])
    );
    assert_eq!(
        seen["missing"],
        json!({"status": 404, "reason": "Not Found", "body_reason": "NotFound", "message": "configmaps \"nope\" not found"})
    );
    assert_eq!(
        seen["exists"],
        json!({"status": 409, "reason": "Conflict", "body_reason": "AlreadyExists", "message": "configmaps \"py\" already exists"})
    );
    assert_eq!(seen["invalid"]["status"], 422);
    assert_eq!(seen["invalid"]["reason"], "Unprocessable Entity");
    assert_eq!(seen["invalid"]["body_reason"], "Invalid");
    let message = seen["invalid"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(r#"ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain"#),
        "{message}"
    );
    assert_eq!(
        seen["after_delete"],
        json!(["page-0", "page-1", "page-2", "page-3", "page-4"])
    );
}

#[test]
fn secrets_leases_rbac_namespaces() {
    let seen = run_script(shared(&SERVER), "other_apis.py", &["python-other"]);
    assert_eq!(seen["namespace_phase"], "Active");
    assert_eq!(seen["listed_namespaces"], json!(["default", "python-other"]));
    // stringData is folded into data on write, as upstream.
    assert_eq!(
        seen["secret"],
        json!({"data": {"user": "YWRtaW4="}, "decoded": "admin", "string_data": null})
    );
    assert_eq!(seen["secrets_by_type"], json!(["s"]));
    // MicroTime keeps microseconds through a round trip.
    assert_eq!(seen["lease"], json!({"holder": "py", "renew_time_roundtrip": true}));
    assert_eq!(seen["lease_renewed"], true);
    assert_eq!(seen["binding"], json!({"role": "reader", "subjects": ["alice"]}));
    assert_eq!(
        seen["deleted_namespace"],
        json!({"kind": "Namespace", "phase": "Terminating"})
    );
}

#[test]
fn delete_options_a_body_over_the_limit_and_a_watch_timeout() {
    let seen = run_script(shared(&SERVER), "edges.py", &["python-edges"]);
    assert_eq!(seen["wrong_uid"]["status"], 409, "{seen}");
    assert_eq!(seen["wrong_uid"]["body_reason"], "Conflict");
    assert!(
        seen["wrong_uid"]["message"].as_str().is_some_and(
            |message| message.contains("the UID in the precondition (11111111-2222-3333-4444-555555555555)")
        ),
        "{seen}"
    );
    assert_eq!(
        seen["deleted_with_uid"], 404,
        "deleted with the right uid and no grace period"
    );
    assert_eq!(
        seen["foreground"],
        json!({"finalizers": ["foregroundDeletion"], "deleting": true})
    );
    assert_eq!(seen["too_large"], 413);
    assert_eq!(seen["watch_timeout"]["events"], 0);
    assert!(
        seen["watch_timeout"]["ended_after_s"]
            .as_u64()
            .is_some_and(|seconds| (1..30).contains(&seconds)),
        "{seen}"
    );
}
