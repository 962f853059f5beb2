//! Replays of the reference recordings. Discovery scenarios list real kube-apiserver's full sets; kapi serves
//! fewer types, so those compare every entry kapi lists with the recorded entry of the same name.

use serde_json::Value;

use crate::{
    matching::{match_value, Bindings},
    replay::{load, reference_available, replay},
    router::send,
    test_router,
};

/// The scenarios replayed step by step; every step must match except the [`KNOWN_DIFFERENCES`].
const REPLAYED: &[&str] = &[
    "crd_cluster_scoped",
    "crd_cr_apply_list_map",
    "crd_cr_create_defaults_pruning",
    "crd_cr_field_selectors",
    "crd_cr_generation",
    "crd_cr_invalid_cel",
    "crd_cr_invalid_collections",
    "crd_cr_invalid_required",
    "crd_cr_invalid_values",
    "crd_cr_multiversion_none_conversion",
    "crd_cr_patch_types",
    "crd_cr_protobuf_accept",
    "crd_cr_scale_subresource",
    "crd_cr_status_subresource",
    "crd_cr_strict_unknown_field",
    "crd_cr_table",
    "crd_cr_transition_rule",
    "crd_create_rich_schema",
    "crd_delete_with_instances",
    "crd_discovery_group",
    "crd_invalid_cel",
    "crd_invalid_schema",
    "crd_invalid_versions_and_names",
    "crd_openapi",
    "crud_clusterrole_lifecycle",
    "crud_configmap_immutable",
    "crud_configmap_invalid_key",
    "crud_configmap_lifecycle",
    "crud_configmap_too_large",
    "crud_create_existing",
    "crud_create_missing_namespace",
    "crud_delete_preconditions",
    "crud_delete_propagation",
    "crud_delete_with_finalizer",
    "crud_deletecollection_label_selector",
    "crud_dryrun",
    "crud_event_invalid",
    "crud_event_lifecycle",
    "crud_generate_name",
    "crud_get_missing",
    "crud_invalid_lease_and_rbac",
    "crud_invalid_metadata",
    "crud_invalid_name_too_long",
    "crud_invalid_name_uppercase",
    "crud_lease_lifecycle",
    "crud_malformed_json",
    "crud_managed_fields_on_create",
    "crud_namespace_invalid",
    "crud_namespace_lifecycle",
    "crud_owner_references",
    "crud_protobuf_builtin",
    "crud_role_lifecycle",
    "crud_secret_opaque",
    "crud_secret_stringdata",
    "crud_secret_tls_missing_keys",
    "crud_secret_types",
    "crud_serviceaccount_lifecycle",
    "crud_unsupported_content_type",
    "crud_update_identity_checks",
    "crud_update_stale_rv",
    "crud_update_unconditional",
    "crud_wrong_kind_in_body",
    "discovery_aggregated_api",
    "discovery_aggregated_apis",
    "discovery_aggregated_negotiation",
    "discovery_api",
    "discovery_api_v1",
    "discovery_apis",
    "discovery_apis_group_versions",
    "discovery_apis_rbac",
    "discovery_not_found",
    "discovery_openapi_v2",
    "discovery_openapi_v3_core_v1",
    "discovery_openapi_v3_index",
    "list_accept_negotiation",
    "list_all_namespaces",
    "list_continue_after_compaction",
    "list_continue_bad_token",
    "list_empty_and_scope_errors",
    "list_field_selector_unsupported",
    "list_field_selectors",
    "list_label_selector_invalid",
    "list_label_selectors",
    "list_pagination_consistent_snapshot",
    "list_pagination_limit_continue",
    "list_partial_object_metadata",
    "list_rv_exact_after_compaction",
    "list_rv_match_exact_old",
    "list_rv_match_invalid",
    "list_rv_too_large",
    "list_rv_zero",
    "list_table_clusterrolebindings",
    "list_table_configmaps",
    "list_table_events",
    "list_table_leases",
    "list_table_namespaces",
    "list_table_roles",
    "list_table_secrets",
    "list_table_serviceaccounts",
    "list_table_unsupported_versions",
    "patch_apply_conflict",
    "patch_apply_create",
    "patch_apply_dryrun_and_subresource",
    "patch_apply_field_removal",
    "patch_apply_force",
    "patch_apply_invalid_bodies",
    "patch_apply_managed_fields_after_update",
    "patch_apply_shared_ownership",
    "patch_apply_type_mismatch",
    "patch_apply_without_field_manager",
    "patch_field_validation_strict",
    "patch_field_validation_warn",
    "patch_json_invalid",
    "patch_json_ops",
    "patch_json_test",
    "patch_merge_configmap",
    "patch_merge_precondition_and_errors",
    "patch_smp_configmap",
    "patch_smp_containers_merge_key",
    "patch_smp_invalid",
    "patch_smp_retainkeys",
    "patch_smp_role_rules",
    "patch_smp_serviceaccount_secrets",
    "watch_bookmarks",
    "watch_cluster_scoped_namespaces",
    "watch_configmap_events",
    "watch_delete_variants",
    "watch_initial_state",
    "watch_label_selector_transitions",
    "watch_param_validation",
    "watch_partial_object_metadata",
    "watch_send_initial_events",
    "watch_single_object_field_selector",
    "watch_table",
    "watch_too_old_rv_after_compaction",
    "watch_too_old_rv_watch_cache",
];

/// Steps allowed to differ, each with the reason.
const KNOWN_DIFFERENCES: &[(&str, usize, &str)] = &[
    (
        "crd_cr_protobuf_accept",
        6,
        "a protobuf body for a custom resource (which has no protobuf form): kube-apiserver drops the connection, \
         kapi answers 415 (docs/compatibility.md)",
    ),
    (
        "crd_cr_invalid_required",
        5,
        "a 422 carries no pruning warnings, and a string field holding an object is not pruned inside \
         (upstream warns `unknown field \"spec.color.r\"`)",
    ),
    (
        "crd_openapi",
        1,
        "the /openapi/v3 document of a custom resource group-version derives the built-in definitions it refers \
         to (autoscaling/v1 Scale) from their v2 form, which lacks kube's `default: {}` on struct fields",
    ),
    (
        "crd_openapi",
        3,
        "the capture deleted the CRD between the steps without recording it; the replay's CRD still exists (409)",
    ),
    (
        "crd_cr_scale_subresource",
        6,
        "an update through /scale is recorded in managedFields as an ordinary Update of the object, without \
         upstream's separate `subresource: scale` entry",
    ),
    (
        "list_rv_exact_after_compaction",
        5,
        "an Exact list of events at a compacted RV: kube-apiserver keeps no watch cache for events (its default \
         --watch-cache-sizes), so the list reaches etcd and gets 410; kapi serves events from a watch cache like \
         every type, which still holds that state, and answers 200 as upstream does for configmaps (step 4)",
    ),
    (
        "watch_too_old_rv_after_compaction",
        3,
        "a watch of events from a compacted RV: kube-apiserver keeps no watch cache for events, so etcd answers \
         the ERROR 410 'The resourceVersion for the provided watch is too old.'; kapi's events watch cache still \
         holds the events after that RV and replays them, as upstream does for configmaps (step 4)",
    ),
];

/// Steps of scenarios the recording marks unstable, where kapi gives the other outcome the reference README
/// describes (scenario, step, a text the difference contains, the outcome kapi gives).
const UNSTABLE_OUTCOMES: &[(&str, usize, &str, &str)] = &[(
    "watch_too_old_rv_watch_cache",
    1,
    r#"expected "ERROR", got "ADDED""#,
    "a freshly started watch cache still holds every event since its initial list and replays them; the ERROR \
     410 comes only once the cache window has moved past the RV",
)];

/// Steps where kube-apiserver answers a client's mistake with a 500 and kapi deliberately gives the 4xx that
/// names the mistake (docs/compatibility.md, "Deliberate differences"): (scenario, step, kapi's status, why).
const DELIBERATE_CLIENT_ERRORS: &[(&str, usize, u16, &str)] = &[
    (
        "watch_param_validation",
        7,
        400,
        "non-numeric resourceVersion on a watch: 400 as on a list",
    ),
    (
        "patch_apply_type_mismatch",
        0,
        400,
        "apply with a number as a label value",
    ),
    (
        "patch_apply_type_mismatch",
        1,
        400,
        "apply with a number as a ConfigMap data value",
    ),
    (
        "patch_field_validation_strict",
        4,
        400,
        "strict apply with an unknown top-level field",
    ),
    (
        "patch_smp_invalid",
        1,
        400,
        "strategic merge patch with an unknown $patch directive",
    ),
    (
        "patch_smp_invalid",
        4,
        400,
        "strategic merge patch deleting a list item without its merge key",
    ),
];

async fn run(scenario: &str) -> Vec<String> {
    let (router, storage) = crate::test_router_and_storage().await;
    replay(&router, storage.as_ref(), scenario).await
}

/// The differences of one scenario that are not [`KNOWN_DIFFERENCES`].
async fn unexpected_differences(scenario: &'static str) -> Vec<String> {
    let differences = run(scenario).await;
    let mut missing_deliberate: Vec<String> = DELIBERATE_CLIENT_ERRORS
        .iter()
        .filter(|(known, step, status, _)| {
            *known == scenario
                && !differences.iter().any(|difference| {
                    difference.starts_with(&format!("step {step} "))
                        && difference.contains(&format!(": status {status}, expected 500:"))
                })
        })
        .map(|(_, step, status, why)| format!("step {step}: expected kapi's deliberate {status} ({why})"))
        .collect();
    let mut unexpected: Vec<String> = differences
        .into_iter()
        .filter(|difference| {
            !KNOWN_DIFFERENCES
                .iter()
                .any(|(known, step, _)| *known == scenario && difference.starts_with(&format!("step {step} ")))
        })
        .filter(|difference| {
            !UNSTABLE_OUTCOMES.iter().any(|(known, step, text, _)| {
                *known == scenario && difference.starts_with(&format!("step {step} ")) && difference.contains(text)
            })
        })
        .filter(|difference| {
            !DELIBERATE_CLIENT_ERRORS.iter().any(|(known, step, status, _)| {
                *known == scenario
                    && difference.starts_with(&format!("step {step} "))
                    && difference.contains(&format!(": status {status}, expected 500:"))
            })
        })
        .collect();
    unexpected.append(&mut missing_deliberate);
    unexpected
}

/// Scenarios replayed at once: their watches wait on timeouts, so a few at a time shortens the run without
/// starving the steps that must happen while a watch is open.
const CONCURRENT_SCENARIOS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_scenarios_match_kube_apiserver() {
    if !reference_available() {
        eprintln!("reference recordings not found; skipping the replay");
        return;
    }
    // `KAPI_REPLAY=a,b` replays just those scenarios (also ones not in REPLAYED) to inspect their differences.
    let chosen: Vec<&'static str> = match std::env::var("KAPI_REPLAY") {
        Ok(names) => names
            .split(',')
            .filter(|name| !name.is_empty())
            .map(|name| &*Box::leak(name.to_owned().into_boxed_str()))
            .collect(),
        Err(_) => REPLAYED.to_vec(),
    };
    let mut failures = Vec::new();
    for batch in chosen.chunks(CONCURRENT_SCENARIOS) {
        let runs: Vec<_> = batch
            .iter()
            .map(|scenario| (*scenario, tokio::spawn(unexpected_differences(scenario))))
            .collect();
        for (scenario, handle) in runs {
            let differences = handle.await.expect("the replay does not panic");
            eprintln!("{scenario}: {}", if differences.is_empty() { "pass" } else { "FAIL" });
            for difference in &differences {
                eprintln!("    {difference}");
            }
            if !differences.is_empty() {
                failures.push(scenario);
            }
        }
    }
    assert!(failures.is_empty(), "scenarios that differ: {failures:?}");
}

/// Entries of a recorded list keyed by `key`, to compare ours one by one.
fn find_by<'a>(list: &'a Value, key: &str, name: &Value) -> Option<&'a Value> {
    list.as_array()?.iter().find(|entry| entry.get(key) == Some(name))
}

fn without(value: &Value, keys: &[&str]) -> Value {
    let mut value = value.clone();
    if let Some(map) = value.as_object_mut() {
        for key in keys {
            map.remove(*key);
        }
    }
    value
}

/// Every entry of ours matches the recorded entry of the same name.
fn compare_entries(recorded: &Value, ours: &Value, key: &str, differences: &mut Vec<String>) {
    for entry in ours.as_array().into_iter().flatten() {
        let name = &entry[key];
        match find_by(recorded, key, name) {
            Some(expected) => {
                if let Err(why) = match_value(expected, entry, &mut Bindings::default(), &format!("{name}")) {
                    differences.push(why);
                }
            }
            None => differences.push(format!("{name}: not served by kube-apiserver")),
        }
    }
}

async fn recorded_and_ours(scenario: &str, step: usize) -> (Value, Value, String) {
    let recording = load(scenario);
    let recorded = &recording["steps"][step];
    let router = test_router().await;
    let accept = recorded["request"]["headers"]["Accept"]
        .as_str()
        .unwrap_or("application/json");
    let path = recorded["request"]["path"].as_str().expect("path");
    let ours = send(&router, "GET", path, &[("accept", accept)], None).await;
    assert_eq!(
        u64::from(ours.status.as_u16()),
        recorded["response"]["status"].as_u64().unwrap_or(0),
        "{scenario} {path}"
    );
    let expected_type = recorded["response"]["headers"]["Content-Type"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(ours.content_type, expected_type, "{scenario} {path}");
    (recorded["response"]["body"].clone(), ours.body, path.to_owned())
}

#[tokio::test]
async fn legacy_discovery_matches_for_served_resources() {
    if !reference_available() {
        return;
    }
    let mut differences = Vec::new();
    let (recorded, ours, _) = recorded_and_ours("discovery_api_v1", 0).await;
    assert_eq!(ours["groupVersion"], recorded["groupVersion"]);
    assert_eq!(ours.get("apiVersion"), recorded.get("apiVersion"));
    compare_entries(&recorded["resources"], &ours["resources"], "name", &mut differences);
    let (recorded, ours, _) = recorded_and_ours("discovery_apis_group_versions", 0).await;
    assert_eq!(ours["kind"], recorded["kind"]);
    compare_entries(&recorded["resources"], &ours["resources"], "name", &mut differences);
    let (recorded, ours, _) = recorded_and_ours("discovery_apis", 0).await;
    compare_entries(&recorded["groups"], &ours["groups"], "name", &mut differences);
    let (recorded, ours, _) = recorded_and_ours("discovery_apis_rbac", 0).await;
    assert_eq!(recorded, ours);
    let (recorded, ours, _) = recorded_and_ours("discovery_api", 0).await;
    assert_eq!(ours["kind"], recorded["kind"]);
    assert_eq!(ours["versions"], recorded["versions"]);
    assert!(differences.is_empty(), "{differences:#?}");
}

/// The recorded resources with only the subresources kapi serves (ServiceAccount `token` is not served yet).
fn served_subresources_only(recorded: &Value, ours: &Value) -> Value {
    let mut recorded = recorded.clone();
    for entry in recorded.as_array_mut().into_iter().flatten() {
        let ours_entry = find_by(ours, "resource", &entry["resource"])
            .cloned()
            .unwrap_or(Value::Null);
        let served: Vec<Value> = entry["subresources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|sub| find_by(&ours_entry["subresources"], "subresource", &sub["subresource"]).is_some())
            .cloned()
            .collect();
        if let Some(map) = entry.as_object_mut() {
            if served.is_empty() {
                map.remove("subresources");
            } else {
                map.insert("subresources".to_owned(), Value::Array(served));
            }
        }
    }
    recorded
}

#[tokio::test]
async fn aggregated_discovery_matches_for_served_resources() {
    if !reference_available() {
        return;
    }
    let mut differences = Vec::new();
    for scenario in ["discovery_aggregated_api", "discovery_aggregated_apis"] {
        let (recorded, ours, _) = recorded_and_ours(scenario, 0).await;
        assert_eq!(without(&ours, &["items"]), without(&recorded, &["items"]));
        for group in ours["items"].as_array().into_iter().flatten() {
            let name = &group["metadata"];
            let Some(expected) = recorded["items"]
                .as_array()
                .and_then(|items| items.iter().find(|item| item["metadata"] == *name))
            else {
                differences.push(format!("{name}: group not served upstream"));
                continue;
            };
            for version in group["versions"].as_array().into_iter().flatten() {
                let Some(expected_version) = find_by(&expected["versions"], "version", &version["version"]) else {
                    differences.push(format!("{name} {}: version not served upstream", version["version"]));
                    continue;
                };
                assert_eq!(version["freshness"], expected_version["freshness"]);
                let served = served_subresources_only(&expected_version["resources"], &version["resources"]);
                compare_entries(&served, &version["resources"], "resource", &mut differences);
            }
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
}

#[tokio::test]
async fn discovery_negotiation_and_not_found_match() {
    if !reference_available() {
        return;
    }
    // discovery_not_found step 3 asks for /apis/apps/v1/nonexistents: upstream serves apps/v1 and answers a
    // Status; kapi does not serve the group and answers the mux's text 404 like for any unknown group.
    let cases = [
        ("discovery_aggregated_negotiation", vec![0, 1, 3]),
        ("discovery_not_found", vec![0, 1, 2, 4, 5]),
    ];
    for (scenario, steps) in cases {
        let recording = load(scenario);
        for step in steps {
            let recorded = &recording["steps"][step]["response"];
            let (expected, ours, path) = recorded_and_ours(scenario, step).await;
            if recorded["status"] != 200 {
                assert_eq!(ours, expected, "{scenario} {path}");
            }
        }
    }
}

#[tokio::test]
async fn openapi_v3_core_configmap_paths_match() {
    if !reference_available() {
        return;
    }
    let recording = load("discovery_openapi_v3_core_v1");
    let recorded = &recording["steps"][0]["response"]["body"];
    let router = test_router().await;
    let ours = send(
        &router,
        "GET",
        "/openapi/v3/api/v1",
        &[("accept", "application/json")],
        None,
    )
    .await;
    let mut compared = 0;
    for (path, operations) in recorded["paths"].as_object().into_iter().flatten() {
        if !path.contains("configmaps") {
            continue;
        }
        assert_eq!(&ours.body["paths"][path], operations, "{path}");
        compared += 1;
    }
    assert!(compared >= 4, "compared {compared} configmap paths");
    assert_eq!(ours.body["info"], recorded["info"]);
}
