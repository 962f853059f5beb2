//! Generated request bodies: valid objects of every default kind, a custom resource and a CRD, with one node
//! replaced by a value of the wrong shape and the text then damaged (truncated, a BOM, invalid UTF-8, a
//! duplicate key), sent as JSON, YAML, protobuf, and each patch type.

use std::sync::atomic::{AtomicUsize, Ordering};

use kapi_core::GroupVersionKind;
use proptest::{prelude::*, test_runner::TestRunner};
use serde_json::{json, Value};

use super::{assert_still_serving, exchange, raw_client, start, Request};

/// One served kind: where it lives and a valid object of it.
struct Kind {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    /// The collection path.
    collection: &'static str,
    valid: fn(&str) -> Value,
}

fn api_version(kind: &Kind) -> String {
    if kind.group.is_empty() {
        kind.version.to_owned()
    } else {
        format!("{}/{}", kind.group, kind.version)
    }
}

fn object(kind: &Kind, name: &str, rest: Value) -> Value {
    let mut object = json!({
        "apiVersion": api_version(kind),
        "kind": kind.kind,
        "metadata": {"name": name, "labels": {"app": "fuzz"}, "annotations": {"note": "x"}},
    });
    if let (Some(map), Some(rest)) = (object.as_object_mut(), rest.as_object()) {
        map.extend(rest.clone());
    }
    object
}

const KINDS: &[Kind] = &[
    Kind {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        collection: "/api/v1/namespaces/default/configmaps",
        valid: |name| {
            object(
                &KINDS[0],
                name,
                json!({"data": {"k": "v"}, "binaryData": {"b": "aGk="}, "immutable": false}),
            )
        },
    },
    Kind {
        group: "",
        version: "v1",
        kind: "Secret",
        collection: "/api/v1/namespaces/default/secrets",
        valid: |name| {
            object(
                &KINDS[1],
                name,
                json!({"type": "Opaque", "data": {"k": "dg=="}, "stringData": {"s": "t"}}),
            )
        },
    },
    Kind {
        group: "",
        version: "v1",
        kind: "Namespace",
        collection: "/api/v1/namespaces",
        valid: |name| object(&KINDS[2], name, json!({"spec": {"finalizers": ["kubernetes"]}})),
    },
    Kind {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        collection: "/apis/coordination.k8s.io/v1/namespaces/default/leases",
        valid: |name| {
            object(
                &KINDS[3],
                name,
                json!({"spec": {"holderIdentity": "h", "leaseDurationSeconds": 10,
                "acquireTime": "2024-01-02T03:04:05.000000Z", "renewTime": "2024-01-02T03:04:05.000000Z",
                "leaseTransitions": 1}}),
            )
        },
    },
    Kind {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "Role",
        collection: "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        valid: |name| {
            object(
                &KINDS[4],
                name,
                json!({"rules": [{"apiGroups": [""], "resources": ["configmaps"],
                "verbs": ["get", "list"], "resourceNames": ["x"]}]}),
            )
        },
    },
    Kind {
        group: "",
        version: "v1",
        kind: "Event",
        collection: "/api/v1/namespaces/default/events",
        valid: |name| {
            object(
                &KINDS[5],
                name,
                json!({"involvedObject": {"kind": "ConfigMap", "namespace": "default",
                "name": "x", "apiVersion": "v1"}, "reason": "Fuzzed", "message": "m", "type": "Normal", "count": 1,
                "firstTimestamp": "2024-01-02T03:04:05Z", "lastTimestamp": "2024-01-02T03:04:05Z",
                "source": {"component": "fuzz"}}),
            )
        },
    },
    Kind {
        group: "events.k8s.io",
        version: "v1",
        kind: "Event",
        collection: "/apis/events.k8s.io/v1/namespaces/default/events",
        valid: |name| {
            object(
                &KINDS[6],
                name,
                json!({"eventTime": "2024-01-02T03:04:05.000000Z",
                "reportingController": "example.com/fuzz", "reportingInstance": "i", "action": "Act",
                "reason": "Fuzzed", "type": "Normal", "note": "n",
                "regarding": {"kind": "ConfigMap", "namespace": "default", "name": "x", "apiVersion": "v1"}}),
            )
        },
    },
    Kind {
        group: "apiextensions.k8s.io",
        version: "v1",
        kind: "CustomResourceDefinition",
        collection: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        valid: |name| {
            // A CRD's name must be `<plural>.<group>`: the plural follows the object's name.
            let plural = name.split('.').next().unwrap_or(name).to_owned();
            let mut crd = super::widget_crd();
            crd["metadata"]["name"] = json!(format!("{plural}.fuzz.example.com"));
            crd["spec"]["group"] = json!("fuzz.example.com");
            crd["spec"]["names"] =
                json!({"plural": plural, "kind": format!("K{plural}"), "listKind": format!("K{plural}List")});
            crd
        },
    },
    Kind {
        group: "bad.example.com",
        version: "v1",
        kind: "Widget",
        collection: "/apis/bad.example.com/v1/namespaces/default/widgets",
        valid: |name| {
            object(
                &KINDS[8],
                name,
                json!({"spec": {"color": "red", "size": 1, "tags": ["a"],
                "items": [{"name": "a", "value": 1}], "labels": {"a": "b"}, "free": {"x": {"y": [1, "z", null]}}}}),
            )
        },
    },
];

/// The name a kind's seed object (the target of updates and patches) has.
fn seed_name(kind: &Kind) -> String {
    if kind.kind == "CustomResourceDefinition" {
        "seeds.fuzz.example.com".to_owned()
    } else {
        // Both Event kinds are one resource: each needs its own seed.
        format!(
            "seed-{}",
            kind.group
                .split('.')
                .next()
                .filter(|group| !group.is_empty())
                .unwrap_or("core")
        )
    }
}

fn item_path(kind: &Kind, name: &str) -> String {
    format!("{}/{name}", kind.collection)
}

/// A value of the wrong shape (or a text the JSON model cannot hold: huge numbers, deep nesting).
#[derive(Clone, Debug)]
enum Garbage {
    Value(Value),
    Raw(String),
}

fn garbage() -> impl Strategy<Value = Garbage> {
    let deep = (
        prop_oneof![Just(5usize), Just(127), Just(128), Just(129), Just(200), Just(5000)],
        any::<bool>(),
    )
        .prop_map(|(depth, arrays)| {
            let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
            Garbage::Raw(format!("{}1{}", open.repeat(depth), close.repeat(depth)))
        });
    prop_oneof![
        Just(Garbage::Value(Value::Null)),
        any::<bool>().prop_map(|value| Garbage::Value(json!(value))),
        any::<i64>().prop_map(|value| Garbage::Value(json!(value))),
        any::<f64>()
            .prop_filter("finite", |value| value.is_finite())
            .prop_map(|value| Garbage::Value(json!(value))),
        prop_oneof![
            Just("1e400"),
            Just("-1e400"),
            Just("123456789012345678901234567890"),
            Just("18446744073709551616"),
            Just("-9223372036854775809"),
            Just("1.0e-400"),
            Just("0.5"),
            Just("-0"),
        ]
        .prop_map(|raw| Garbage::Raw(raw.to_owned())),
        "[a-zA-Z0-9 ./:_-]{0,20}".prop_map(|text| Garbage::Value(json!(text))),
        (1usize..300_000).prop_map(|length| Garbage::Value(json!("x".repeat(length)))),
        Just(Garbage::Value(json!([]))),
        Just(Garbage::Value(json!({}))),
        Just(Garbage::Value(json!([1, "a", null, {"b": []}]))),
        Just(Garbage::Value(json!({"": "", "a/b": 1, "\u{0}": null}))),
        (1usize..100_000).prop_map(|length| Garbage::Value(json!({"k".repeat(length): "v"}))),
        deep,
    ]
}

/// Damage done to the serialized text.
#[derive(Clone, Debug)]
enum TextDamage {
    None,
    /// Cut at this fraction (of 65536) of the length.
    Truncate(u16),
    Bom,
    /// Invalid UTF-8 bytes at this fraction of the length.
    InvalidUtf8(u16),
    /// The first key repeated with another value.
    DuplicateKey,
    TrailingGarbage,
}

fn damage() -> impl Strategy<Value = TextDamage> {
    prop_oneof![
        4 => Just(TextDamage::None),
        1 => any::<u16>().prop_map(TextDamage::Truncate),
        1 => Just(TextDamage::Bom),
        1 => any::<u16>().prop_map(TextDamage::InvalidUtf8),
        1 => Just(TextDamage::DuplicateKey),
        1 => Just(TextDamage::TrailingGarbage),
    ]
}

/// How the body goes to the server.
#[derive(Clone, Copy, Debug)]
enum Verb {
    Create,
    CreateYaml,
    Update,
    MergePatch,
    StrategicMergePatch,
    JsonPatch,
    Apply,
    /// A protobuf create: a valid encoding truncated or with bytes flipped, or bytes with(out) the magic.
    CreateProtobuf,
}

fn verb() -> impl Strategy<Value = Verb> {
    prop_oneof![
        Just(Verb::Create),
        Just(Verb::CreateYaml),
        Just(Verb::Update),
        Just(Verb::MergePatch),
        Just(Verb::StrategicMergePatch),
        Just(Verb::JsonPatch),
        Just(Verb::Apply),
        Just(Verb::CreateProtobuf),
    ]
}

#[derive(Clone, Debug)]
struct Case {
    kind: usize,
    verb: Verb,
    /// Which node of the document (pre-order, modulo their count) gets the garbage; None leaves it valid.
    node: Option<usize>,
    garbage: Garbage,
    damage: TextDamage,
    /// Extra query parameters.
    strict: bool,
    dry_run: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..KINDS.len(),
        verb(),
        prop::option::weighted(0.9, any::<usize>()),
        garbage(),
        damage(),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(kind, verb, node, garbage, damage, strict, dry_run)| Case {
            kind,
            verb,
            node,
            garbage,
            damage,
            strict,
            dry_run,
        })
}

/// JSON pointers of every node, pre-order.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{prefix}/{escaped}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointers(child, format!("{prefix}/{index}"), out);
            }
        }
        _ => {}
    }
}

const RAW_MARK: &str = "\u{1}raw-garbage\u{1}";

/// The document with the garbage placed, as text.
fn damaged_text(document: &Value, case: &Case) -> Vec<u8> {
    let mut document = document.clone();
    if let Some(node) = case.node {
        let mut all = Vec::new();
        pointers(&document, String::new(), &mut all);
        let pointer = &all[node % all.len()];
        let replacement = match &case.garbage {
            Garbage::Value(value) => value.clone(),
            Garbage::Raw(_) => json!(RAW_MARK),
        };
        match document.pointer_mut(pointer) {
            Some(slot) => *slot = replacement,
            None => unreachable!("pointers come from the document"),
        }
    }
    let mut text = serde_json::to_string(&document).expect("a JSON value serializes");
    if let Garbage::Raw(raw) = &case.garbage {
        let quoted = serde_json::to_string(RAW_MARK).expect("a string serializes");
        text = text.replace(&quoted, raw);
    }
    let mut bytes = text.into_bytes();
    let at = |fraction: u16, length: usize| length * usize::from(fraction) / 65536;
    match case.damage {
        TextDamage::None => {}
        TextDamage::Truncate(fraction) => bytes.truncate(at(fraction, bytes.len())),
        TextDamage::Bom => bytes.splice(0..0, [0xEF, 0xBB, 0xBF]).for_each(drop),
        TextDamage::InvalidUtf8(fraction) => {
            let position = at(fraction, bytes.len());
            bytes
                .splice(position..position, [0xC3, 0x28, 0xFF, 0xFE])
                .for_each(drop);
        }
        TextDamage::DuplicateKey => {
            if bytes.first() == Some(&b'{') {
                bytes
                    .splice(1..1, *br#""metadata":{"name":"dup"},"kind":7,"#)
                    .for_each(drop);
            } else {
                bytes.extend_from_slice(b"{}");
            }
        }
        TextDamage::TrailingGarbage => bytes.extend_from_slice(b"}]\"\x00garbage"),
    }
    bytes
}

/// A YAML rendering of the damaged JSON text: the JSON inline (YAML is a superset) or block YAML with damage.
fn yaml_text(document: &Value, case: &Case) -> Vec<u8> {
    match case.damage {
        TextDamage::None | TextDamage::DuplicateKey => damaged_text(document, case),
        _ => {
            let mut text = serde_yaml::to_string(document)
                .expect("a JSON value as YAML")
                .into_bytes();
            match case.damage {
                TextDamage::Truncate(fraction) => text.truncate(text.len() * usize::from(fraction) / 65536),
                TextDamage::InvalidUtf8(_) => text.extend_from_slice(b"\nbad: \xff\xfe\n"),
                TextDamage::Bom => text.splice(0..0, [0xEF, 0xBB, 0xBF]).for_each(drop),
                _ => text.extend_from_slice(b"\n\t- : [ &a *b {{{\n"),
            }
            text
        }
    }
}

fn protobuf_body(kind: &Kind, document: &Value, case: &Case) -> Vec<u8> {
    let gvk = GroupVersionKind::new(kind.group, kind.version, kind.kind);
    let mut bytes = kapi_protobuf::encode(&gvk, document).unwrap_or_else(|_| b"k8s\x00\x0a\x02v1".to_vec());
    match case.damage {
        TextDamage::None => {}
        TextDamage::Truncate(fraction) => bytes.truncate(bytes.len() * usize::from(fraction) / 65536),
        TextDamage::InvalidUtf8(fraction) => {
            let position = (bytes.len() * usize::from(fraction) / 65536)
                .max(4)
                .min(bytes.len() - 1);
            bytes[position] ^= 0xFF;
        }
        TextDamage::Bom => bytes.drain(0..4).for_each(drop),
        TextDamage::DuplicateKey => bytes = damaged_text(document, case),
        TextDamage::TrailingGarbage => bytes.extend_from_slice(&[0xFF; 11]),
    }
    bytes
}

fn query(case: &Case, extra: &[&str]) -> String {
    let mut parameters: Vec<&str> = extra.to_vec();
    if case.strict {
        parameters.push("fieldValidation=Strict");
    }
    if case.dry_run {
        parameters.push("dryRun=All");
    }
    if parameters.is_empty() {
        String::new()
    } else {
        format!("?{}", parameters.join("&"))
    }
}

fn request(case: &Case, post_name: &str) -> Request {
    let kind = &KINDS[case.kind];
    let seed = &seed_name(kind);
    match case.verb {
        Verb::Create => Request::new("POST", format!("{}{}", kind.collection, query(case, &[])))
            .body("application/json", damaged_text(&(kind.valid)(post_name), case)),
        Verb::CreateYaml => Request::new("POST", format!("{}{}", kind.collection, query(case, &[])))
            .body("application/yaml", yaml_text(&(kind.valid)(post_name), case)),
        Verb::CreateProtobuf => Request::new("POST", format!("{}{}", kind.collection, query(case, &[]))).body(
            "application/vnd.kubernetes.protobuf",
            protobuf_body(kind, &(kind.valid)(post_name), case),
        ),
        Verb::Update => Request::new("PUT", format!("{}{}", item_path(kind, seed), query(case, &[])))
            .body("application/json", damaged_text(&(kind.valid)(seed), case)),
        Verb::MergePatch | Verb::StrategicMergePatch => {
            let content_type = if matches!(case.verb, Verb::MergePatch) {
                "application/merge-patch+json"
            } else {
                "application/strategic-merge-patch+json"
            };
            let mut patch = (kind.valid)(seed);
            if let Some(map) = patch.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            Request::new("PATCH", format!("{}{}", item_path(kind, seed), query(case, &[])))
                .body(content_type, damaged_text(&patch, case))
        }
        Verb::JsonPatch => {
            let patch = json!([
                {"op": "add", "path": "/metadata/labels/fuzzed", "value": "yes"},
                {"op": "test", "path": "/metadata/name", "value": seed},
                {"op": "replace", "path": "/metadata/annotations", "value": {"note": "y"}},
            ]);
            Request::new("PATCH", format!("{}{}", item_path(kind, seed), query(case, &[])))
                .body("application/json-patch+json", damaged_text(&patch, case))
        }
        Verb::Apply => Request::new(
            "PATCH",
            format!(
                "{}{}",
                item_path(kind, seed),
                query(case, &["fieldManager=fuzz", "force=true"])
            ),
        )
        .body("application/apply-patch+yaml", yaml_text(&(kind.valid)(seed), case)),
    }
}

/// A 2xx write answered an object: unless dry-run, a read now finds it at the answered resourceVersion.
async fn assert_kept(client: &kube::Client, case: &Case, request: &Request, object: &Value) {
    let kind = &KINDS[case.kind];
    let (Some(name), Some(revision)) = (
        object["metadata"]["name"].as_str(),
        object["metadata"]["resourceVersion"].as_str(),
    ) else {
        panic!(
            "a written object with a name and resourceVersion: {object} for {}",
            super::describe(request)
        );
    };
    if case.dry_run {
        return;
    }
    let read = Request::new("GET", item_path(kind, name));
    let (answer, stored) = exchange(client, &read).await;
    assert_eq!(
        answer.status,
        200,
        "the acknowledged write of {} is readable: {}",
        super::describe(request),
        answer.text()
    );
    let stored = stored.expect("the object");
    // A controller may have written since (a CRD's status): never older than the acknowledged write.
    let number = |text: Option<&str>| text.and_then(|text| text.parse::<u64>().ok());
    assert!(
        number(stored["metadata"]["resourceVersion"].as_str()) >= number(Some(revision)),
        "the read returns the acknowledged write of {} (or a newer one): {stored}",
        super::describe(request)
    );
}

async fn create_seeds(client: &kube::Client) {
    for kind in KINDS {
        let create =
            Request::new("POST", kind.collection).body("application/json", (kind.valid)(&seed_name(kind)).to_string());
        let (answer, _) = exchange(client, &create).await;
        assert_eq!(answer.status, 201, "seed {}: {}", kind.kind, answer.text());
    }
}

/// The number of generated bodies; each is one request (plus a read after an accepted write).
const CASES: u32 = 480;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bad_bodies_get_clear_answers() {
    let env = start().await;
    let client = raw_client(&env).await;
    create_seeds(&client).await;
    let runtime = tokio::runtime::Handle::current();
    let counter = AtomicUsize::new(0);
    let outcomes = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let config = ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let result = tokio::task::block_in_place(|| {
        runner
            .run(&case(), |case| {
                let number = counter.fetch_add(1, Ordering::Relaxed);
                let kind = &KINDS[case.kind];
                let post_name = if kind.kind == "CustomResourceDefinition" {
                    format!("p{number}s.fuzz.example.com")
                } else {
                    format!("p-{number}")
                };
                let request = request(&case, &post_name);
                runtime.block_on(async {
                    let (answer, value) = exchange(&client, &request).await;
                    *outcomes.lock().expect("not poisoned").entry(answer.status).or_default() += 1;
                    if (200..300).contains(&answer.status) && !request.uri.contains("dryRun") {
                        assert_kept(&client, &case, &request, &value.expect("the written object")).await;
                    }
                });
                Ok(())
            })
            // The failure (with the minimal case) is only printed.
            .map_err(|failure| failure.to_string())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    eprintln!(
        "bad bodies: {CASES} cases, answers by status: {:?}",
        outcomes.lock().expect("not poisoned")
    );
    assert_still_serving(&client, "bodies").await;
    for kind in KINDS {
        let (answer, _) = exchange(&client, &Request::new("GET", item_path(kind, &seed_name(kind)))).await;
        assert_eq!(
            answer.status,
            200,
            "the seed {} is still there: {}",
            kind.kind,
            answer.text()
        );
    }
    env.shutdown().await.expect("clean shutdown");
}
