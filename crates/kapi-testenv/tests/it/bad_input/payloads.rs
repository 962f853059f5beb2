//! Hand-picked bad bodies the generated ones rarely hit: managedFields and metadata of the wrong shape, JSON
//! patch operations and strategic-merge directives that make no sense, YAML oddities (aliases, tags, several
//! documents), deep nesting through a schema's free-form part, JSON patches that nest or copy without end,
//! and bodies at the size limits. After each, the targets must still read.

use serde_json::json;

use super::{assert_still_serving, describe, exchange, raw_client, send, start, Request};

const CM: &str = "/api/v1/namespaces/default/configmaps";
const W: &str = "/apis/bad.example.com/v1/namespaces/default/widgets";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_picked_bad_bodies_get_clear_answers() {
    let env = start().await;
    let client = raw_client(&env).await;
    send(
        &client,
        &Request::new("POST", CM).body(
            "application/json",
            json!({"metadata":{"name":"t"},"data":{"a":"b"}}).to_string(),
        ),
    )
    .await;
    send(&client, &Request::new("POST", W).body("application/json", json!({"apiVersion":"bad.example.com/v1","kind":"Widget","metadata":{"name":"t"},"spec":{"size":1,"items":[{"name":"a","value":1}]}}).to_string())).await;
    send(
        &client,
        &Request::new("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles").body(
            "application/json",
            json!({"metadata":{"name":"t"},"rules":[{"apiGroups":[""],"resources":["x"],"verbs":["get"]}]}).to_string(),
        ),
    )
    .await;
    let deep = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let deeparr = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let mf = |fields: serde_json::Value| {
        json!({"metadata":{"name":"t","managedFields":[{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":fields}]},"data":{"a":"b"}}).to_string()
    };
    let mut cases: Vec<Request> = vec![];
    for body in [
        format!(
            r#"{{"metadata":{{"name":"t"}},"spec":{{"size":1,"free":{}}}}}"#,
            deep(120)
        ),
        format!(
            r#"{{"metadata":{{"name":"t"}},"spec":{{"size":1,"free":{{"x":{}}}}}}}"#,
            deeparr(124)
        ),
        format!(
            r#"{{"metadata":{{"name":"t"}},"spec":{{"size":1,"free":{}}}}}"#,
            deep(126)
        ),
    ] {
        cases.push(Request::new("PUT", format!("{W}/t")).body("application/json", body.clone()));
        cases.push(Request::new("PATCH", format!("{W}/t")).body("application/merge-patch+json", body.clone()));
        cases.push(Request::new("PATCH", format!("{W}/t?fieldManager=x")).body(
            "application/apply-patch+yaml",
            format!(r#"{{"apiVersion":"bad.example.com/v1","kind":"Widget",{}"#, &body[1..]),
        ));
        cases.push(Request::new("POST", W).body("application/json", body.replace("\"t\"", "\"t2\"")));
    }
    for fields in [
        json!({"f:data": {"k:{": {}}}),
        json!({"k:{\"a\":": {}}),
        json!({"f:data": {"v:[": {}}}),
        json!({"i:99999999999999999999": {}}),
        json!({"x:y": {}}),
        json!({".": {"a": 1}}),
        json!({"f:data": 5}),
        json!([1]),
        json!("s"),
        json!({"f:metadata": {"f:labels": {"k:{\"name\":1}": {".": {}}}}}),
        json!({"": {}}),
        json!({"f:": {"f:": {}}}),
        json!({"v:\"\u{0}\"": {}}),
    ] {
        cases.push(Request::new("PUT", format!("{CM}/t")).body("application/json", mf(fields.clone())));
        cases.push(Request::new("POST", CM).body("application/json", mf(fields.clone()).replace("\"t\"", "\"t3\"")));
        cases.push(
            Request::new("PATCH", format!("{CM}/t?fieldManager=x"))
                .body("application/apply-patch+yaml", mf(fields.clone())),
        );
        cases.push(Request::new("PATCH", format!("{CM}/t")).body("application/merge-patch+json", mf(fields.clone())));
    }
    for meta in [
        json!({"name":"t","managedFields":[{"manager":"m","operation":"Bogus","time":"garbage"}]}),
        json!({"name":"t","managedFields":[{"fieldsType":"FieldsV2","fieldsV1":{}}]}),
        json!({"name":"t","managedFields":[{}]}),
        json!({"name":"t","managedFields":{}}),
        json!({"name":"t","managedFields":[null]}),
        json!({"name":"t","resourceVersion":"abc"}),
        json!({"name":"t","resourceVersion":"99999999999999999999"}),
        json!({"name":"t","resourceVersion":"-1"}),
        json!({"name":"t","creationTimestamp":"garbage"}),
        json!({"name":"t","deletionTimestamp":"garbage"}),
        json!({"name":"t","deletionTimestamp":"2024-01-01T00:00:00Z"}),
        json!({"name":"t","ownerReferences":[{"apiVersion":"v1","kind":"X","name":"y","uid":"z","controller":true},{"apiVersion":"v1","kind":"X","name":"y2","uid":"z2","controller":true}]}),
        json!({"name":"t","ownerReferences":[{}]}),
        json!({"name":"t","finalizers":["a/b","BAD FIN",""]}),
        json!({"name":"t","generation":-5}),
        json!({"name":"t","generation":"x"}),
        json!({"name":"t","uid":5}),
        json!({"name":"t","labels":{"a":5}}),
        json!({"name":"t","labels":{"k".repeat(300):"v"}}),
        json!({"generateName":"x".repeat(300)}),
        json!({"name":"", "generateName":""}),
        json!({"name":"t","namespace":"other"}),
        json!({"name":"t","namespace":5}),
        json!({"name":"t","selfLink":5}),
        json!({"name":"t","deletionGracePeriodSeconds":"x"}),
    ] {
        let body = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":meta,"data":{"a":"b"}}).to_string();
        cases.push(Request::new("PUT", format!("{CM}/t")).body("application/json", body.clone()));
        cases.push(Request::new("POST", CM).body("application/json", body.replace("\"t\"", "\"t4\"")));
        cases.push(
            Request::new("PATCH", format!("{CM}/t?fieldManager=x")).body("application/apply-patch+yaml", body.clone()),
        );
        cases.push(
            Request::new("PATCH", format!("{CM}/t")).body("application/strategic-merge-patch+json", body.clone()),
        );
        let wbody = body
            .replace("\"v1\"", "\"bad.example.com/v1\"")
            .replace("ConfigMap", "Widget");
        cases.push(Request::new("PUT", format!("{W}/t")).body("application/json", wbody.clone()));
        cases.push(
            Request::new("PATCH", format!("{W}/t?fieldManager=x")).body("application/apply-patch+yaml", wbody.clone()),
        );
    }
    for patch in [
        json!([{"op":"add","path":"/metadata/labels/-","value":"x"}]),
        json!([{"op":"add","path":"/data/~2","value":"x"}]),
        json!([{"op":"add","path":"","value":{}}]),
        json!([{"op":"add","path":"","value":5}]),
        json!([{"op":"replace","path":"/","value":"x"}]),
        json!([{"op":"move","from":"/nothing","path":"/data/x"}]),
        json!([{"op":"copy","from":"/metadata","path":"/metadata/labels"}]),
        json!([{"op":"move","from":"/metadata","path":"/metadata/labels/x"}]),
        json!([{"op":"add","path":"/rules/99999999999999999999","value":{}}]),
        json!([{"op":"add","path":"/rules/-1","value":{}}]),
        json!([{"op":"remove","path":"/rules/0/verbs/5"}]),
        json!([{"op":"add","path":"/rules/1","value":{}}]),
        json!([{"op":"test","path":"/rules","value":null}]),
        json!([{"op":"add"}]),
        json!([{"op":"add","path":5}]),
        json!([{"op":5}]),
        json!([null]),
        json!([[]]),
        json!([{"op":"copy","from":"/rules","path":"/rules/0/x"}]),
        json!([{"op":"add","path":"/metadata/name","value":"other"}]),
        json!([{"op":"remove","path":"/metadata"}]),
        json!([{"op":"remove","path":"/apiVersion"}]),
        json!([{"op":"replace","path":"/kind","value":"Pod"}]),
        json!([{"op":"add","path":"/metadata/managedFields","value":[{"x":1}]}]),
    ] {
        let body = patch.to_string();
        cases.push(
            Request::new("PATCH", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/t")
                .body("application/json-patch+json", body.clone()),
        );
        cases.push(
            Request::new("PATCH", format!("{W}/t"))
                .body("application/json-patch+json", body.replace("/rules", "/spec/items")),
        );
        cases.push(
            Request::new("PATCH", format!("{CM}/t"))
                .body("application/json-patch+json", body.replace("/rules", "/data")),
        );
    }
    for smp in [
        json!({"rules":[{"$patch":"delete"}]}),
        json!({"rules":{"$patch":"replace"}}),
        json!({"$patch":"replace"}),
        json!({"$patch":"delete"}),
        json!({"$setElementOrder/rules":[{"x":1}]}),
        json!({"$setElementOrder/rules":5}),
        json!({"$retainKeys":["rules"]}),
        json!({"$retainKeys":5}),
        json!({"$deleteFromPrimitiveList/rules":[1]}),
        json!({"rules":[{"$patch":"merge"}]}),
        json!({"metadata":{"$patch":"frobnicate"}}),
        json!({"metadata":{"labels":{"$patch":"delete"}}}),
        json!({"rules":[{"verbs":{"$patch":"replace"}}]}),
        json!({"metadata":{"finalizers":[{"$patch":"delete"}]}}),
        json!({"$setElementOrder/metadata":[]}),
        json!({"metadata":{"ownerReferences":[{"$patch":"delete"}]}}),
        json!({"metadata":{"ownerReferences":[{"$patch":"delete","uid":"x"}]}}),
        json!({"metadata":{"ownerReferences":[{"uid":5}]}}),
        json!({"metadata":{"$deleteFromPrimitiveList/finalizers":"x"}}),
        json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]}}),
    ] {
        let body = smp.to_string();
        cases.push(
            Request::new("PATCH", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/t")
                .body("application/strategic-merge-patch+json", body.clone()),
        );
        cases.push(
            Request::new("PATCH", format!("{CM}/t"))
                .body("application/strategic-merge-patch+json", body.replace("rules", "data")),
        );
    }
    for yaml in [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata: &a\n  x: *a\n".to_owned(),
        "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n---\napiVersion: v1\nkind: ConfigMap\n".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  a: !!binary aGk=\n".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  ? [a, b]\n  : c\n".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  1: 2\n  true: null\n  ~: x\n".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  a: 1e400\n  b: .nan\n  c: .inf\n  d: 0x1F\n  e: 99999999999999999999999\n".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n  labels: !!map {a: !!int x}\n".to_owned(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n  <<: {labels: {a: b}}\n".to_owned(),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata: {}\n", "[".repeat(200)),
        "--- !!str\n".to_owned(), "%YAML 9.9\n---\na: b\n".to_owned(), "\t\tkey: [".to_owned(), "".to_owned(), "null\n".to_owned(), "~".to_owned(),
    ] {
        cases.push(Request::new("PATCH", format!("{CM}/t?fieldManager=x")).body("application/apply-patch+yaml", yaml.clone()));
        cases.push(Request::new("PUT", format!("{CM}/t")).body("application/yaml", yaml.clone()));
        cases.push(Request::new("POST", CM).body("application/yaml", yaml.replace("name: t", "name: ty")));
        cases.push(Request::new("PATCH", format!("{W}/t?fieldManager=x")).body("application/apply-patch+yaml", yaml.replace("apiVersion: v1", "apiVersion: bad.example.com/v1").replace("ConfigMap", "Widget")));
    }
    for n in [130usize, 300, 1000, 5000] {
        let flow = format!(
            "apiVersion: bad.example.com/v1\nkind: Widget\nmetadata:\n  name: t\nspec:\n  free: {}1{}\n",
            "{a: ".repeat(n),
            "}".repeat(n)
        );
        let flow_arr = format!(
            "apiVersion: bad.example.com/v1\nkind: Widget\nmetadata:\n  name: t\nspec:\n  free:\n    x: {}1{}\n",
            "[".repeat(n),
            "]".repeat(n)
        );
        let mut block =
            "apiVersion: bad.example.com/v1\nkind: Widget\nmetadata:\n  name: t\nspec:\n  free:\n".to_owned();
        for k in 0..n {
            block.push_str(&" ".repeat(4 + k));
            block.push_str("a:\n");
        }
        for body in [flow, flow_arr, block] {
            cases.push(
                Request::new("PATCH", format!("{W}/t?fieldManager=x"))
                    .body("application/apply-patch+yaml", body.clone()),
            );
            cases.push(Request::new("PUT", format!("{W}/t")).body("application/yaml", body.clone()));
        }
    }
    let big = "x".repeat(3 * 1024 * 1024 + 10);
    cases.push(Request::new("POST", CM).body(
        "application/json",
        format!(r#"{{"metadata":{{"name":"big"}},"data":{{"a":"{big}"}}}}"#),
    ));
    cases.push(Request::new("PATCH", format!("{CM}/t")).body(
        "application/merge-patch+json",
        format!(r#"{{"data":{{"a":"{}"}}}}"#, "y".repeat(1_100_000)),
    ));
    cases.push(Request::new("PATCH", format!("{CM}/t")).body(
        "application/merge-patch+json",
        format!(r#"{{"metadata":{{"annotations":{{"a":"{}"}}}}}}"#, "y".repeat(300_000)),
    ));
    cases.push(
        Request::new("PATCH", format!("{CM}/t?fieldManager={}", "m".repeat(128)))
            .body("application/merge-patch+json", "{}"),
    );
    cases.push(
        Request::new("PATCH", format!("{CM}/t?fieldManager={}", "m".repeat(129)))
            .body("application/merge-patch+json", "{}"),
    );
    for request in &cases {
        exchange(&client, request).await;
        // Whatever was accepted, the objects stay readable (a stored object that does not decode answers 500).
        for read in [format!("{CM}/t"), format!("{W}/t"), W.to_owned()] {
            let (answer, _) = exchange(&client, &Request::new("GET", read)).await;
            assert!(answer.status < 300, "after {}: {}", describe(request), answer.text());
        }
    }
    eprintln!("hand-picked bad bodies: {} requests", cases.len());
    assert_still_serving(&client, "payloads").await;
    env.shutdown().await.expect("clean shutdown");
}
