//! Tests for `request_info`, modelled on upstream's RequestInfoFactory cases and the paths of the recordings.

use super::*;

/// (method, path+query, verb, prefix, group, version, namespace, resource, subresource, name, parts)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

fn resolve(method: &str, target: &str) -> RequestInfo {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    RequestInfo::parse(method, path, query).expect("request resolves")
}

#[test]
fn resource_requests() {
    let cases: &[Case] = &[
        (
            "GET",
            "/api/v1/namespaces",
            "list",
            "api",
            "",
            "v1",
            "",
            "namespaces",
            "",
            "",
            &["namespaces"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other",
            "get",
            "api",
            "",
            "v1",
            "other",
            "namespaces",
            "",
            "other",
            &["namespaces", "other"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods/foo",
            "get",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo"],
        ),
        (
            "HEAD",
            "/api/v1/namespaces/other/pods/foo",
            "get",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo"],
        ),
        (
            "GET",
            "/api/v1/pods",
            "list",
            "api",
            "",
            "v1",
            "",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods",
            "list",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?watch=true",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?watch=1",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?watch=yes-please",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?watch=",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?watch=FALSE",
            "list",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?watch=0",
            "list",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/watch/pods",
            "watch",
            "api",
            "",
            "v1",
            "",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/watch/namespaces/other/pods",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/watch/namespaces/other/pods/foo",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo"],
        ),
        (
            "POST",
            "/api/v1/namespaces/other/pods",
            "create",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "PUT",
            "/api/v1/namespaces/other/pods/foo",
            "update",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo"],
        ),
        (
            "PATCH",
            "/api/v1/namespaces/other/pods/foo",
            "patch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo"],
        ),
        (
            "DELETE",
            "/api/v1/namespaces/other/pods/foo",
            "delete",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo"],
        ),
        (
            "DELETE",
            "/api/v1/namespaces/other/pods",
            "deletecollection",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "POST",
            "/api/v1/namespaces/ns-test/serviceaccounts/sa1/token",
            "create",
            "api",
            "",
            "v1",
            "ns-test",
            "serviceaccounts",
            "token",
            "sa1",
            &["serviceaccounts", "sa1", "token"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods/foo/log/extra",
            "get",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "log",
            "foo",
            &["pods", "foo", "log", "extra"],
        ),
        (
            "GET",
            "/apis/extensions/v1beta1/namespaces/other/pods",
            "list",
            "apis",
            "extensions",
            "v1beta1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/corpus-nope",
            "get",
            "apis",
            "rbac.authorization.k8s.io",
            "v1",
            "",
            "clusterroles",
            "",
            "corpus-nope",
            &["clusterroles", "corpus-nope"],
        ),
        (
            "PATCH",
            "/apis/corpus.example.com/v1/namespaces/ns-test/widgets/w1/scale",
            "patch",
            "apis",
            "corpus.example.com",
            "v1",
            "ns-test",
            "widgets",
            "scale",
            "w1",
            &["widgets", "w1", "scale"],
        ),
        // Namespace subresources address the namespace itself.
        (
            "PUT",
            "/api/v1/namespaces/ns-test-term/finalize",
            "update",
            "api",
            "",
            "v1",
            "ns-test-term",
            "namespaces",
            "finalize",
            "ns-test-term",
            &["namespaces", "ns-test-term", "finalize"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/status",
            "get",
            "api",
            "",
            "v1",
            "other",
            "namespaces",
            "status",
            "other",
            &["namespaces", "other", "status"],
        ),
        // proxy takes no subresource.
        (
            "GET",
            "/api/v1/proxy/namespaces/other/pods/foo/a/b",
            "proxy",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo", "a", "b"],
        ),
        (
            "OPTIONS",
            "/api/v1/namespaces/other/pods/foo",
            "",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods", "foo"],
        ),
        // A metadata.name field selector names the object of a list or watch (for authorization).
        (
            "GET",
            "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo&watch=true",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "foo",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3D..",
            "list",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo&labelSelector=a+in+b",
            "list",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
        (
            "GET",
            "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo&limit=abc&watch=1",
            "watch",
            "api",
            "",
            "v1",
            "other",
            "pods",
            "",
            "",
            &["pods"],
        ),
    ];
    for &(method, target, verb, prefix, group, version, namespace, resource, subresource, name, parts) in cases {
        let info = resolve(method, target);
        let context = format!("{method} {target}");
        assert!(info.is_resource_request, "{context}");
        assert_eq!(info.verb, verb, "{context}");
        assert_eq!(info.api_prefix, prefix, "{context}");
        assert_eq!(info.api_group, group, "{context}");
        assert_eq!(info.api_version, version, "{context}");
        assert_eq!(info.namespace, namespace, "{context}");
        assert_eq!(info.resource, resource, "{context}");
        assert_eq!(info.subresource, subresource, "{context}");
        assert_eq!(info.name, name, "{context}");
        assert_eq!(info.parts, parts, "{context}");
        assert_eq!(info.path, target.split('?').next().unwrap_or(target), "{context}");
    }
}

#[test]
fn non_resource_requests() {
    for (method, path, verb) in [
        ("GET", "/", "get"),
        ("GET", "/healthz", "get"),
        ("GET", "/version", "get"),
        ("GET", "/api", "get"),
        ("GET", "/api/v1", "get"),
        ("GET", "/apis", "get"),
        ("GET", "/apis/apps", "get"),
        ("GET", "/apis/apps/v1", "get"),
        ("GET", "/openapi/v3/api/v1", "get"),
        ("POST", "/other/path/here", "post"),
        ("PUT", "/api", "put"),
    ] {
        let info = resolve(method, path);
        assert!(!info.is_resource_request, "{path}");
        assert_eq!(info.verb, verb, "{path}");
        assert_eq!(info.path, path);
        assert!(
            info.resource.is_empty() && info.api_group.is_empty() && info.parts.is_empty(),
            "{path}"
        );
    }
}

#[test]
fn selectors_are_kept_for_collection_verbs_only() {
    let list = resolve(
        "GET",
        "/api/v1/namespaces/ns/configmaps?labelSelector=env%3Dprod&fieldSelector=metadata.name!%3Dx",
    );
    assert_eq!(list.label_selector, "env=prod");
    assert_eq!(list.field_selector, "metadata.name!=x");
    let delete_collection = resolve("DELETE", "/api/v1/namespaces/ns/configmaps?labelSelector=a");
    assert_eq!(delete_collection.label_selector, "a");
    let get = resolve("GET", "/api/v1/namespaces/ns/configmaps/x?labelSelector=a");
    assert_eq!(get.label_selector, "");
    let prefixed_watch = resolve("GET", "/api/v1/watch/configmaps?labelSelector=a");
    assert_eq!(
        prefixed_watch.label_selector, "",
        "the deprecated watch prefix does not carry selectors"
    );
}

#[test]
fn short_special_verb_paths_are_errors() {
    let error = RequestInfo::parse("GET", "/api/v1/watch", "").expect_err("nothing after watch");
    assert_eq!(
        error.to_string(),
        "unable to determine kind and namespace from url, /api/v1/watch"
    );
    let error = RequestInfo::parse("GET", "/apis/apps/v1/proxy", "a=b").expect_err("nothing after proxy");
    assert_eq!(
        error.to_string(),
        "unable to determine kind and namespace from url, /apis/apps/v1/proxy?a=b"
    );
}

#[test]
fn custom_prefixes() {
    let factory = RequestInfoFactory {
        api_prefixes: vec!["k".to_owned()],
        groupless_api_prefixes: vec![],
    };
    let info = factory.resolve("GET", "/k/g/v1/things/t", &[]).expect("resolves");
    assert_eq!(
        (info.api_group.as_str(), info.resource.as_str(), info.name.as_str()),
        ("g", "things", "t")
    );
    assert!(
        !factory
            .resolve("GET", "/api/v1/pods", &[])
            .expect("resolves")
            .is_resource_request
    );
}

#[test]
fn query_decoding() {
    assert_eq!(
        parse_query("a=1&b=x%3Dy+z&c&&d=%zz%4"),
        vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x=y z".to_owned()),
            ("c".to_owned(), String::new()),
            ("d".to_owned(), "%zz%4".to_owned()),
        ]
    );
    assert_eq!(
        parse_query("x=%E2%9C%93%FF"),
        vec![("x".to_owned(), "✓\u{fffd}".to_owned())]
    );
    let query = parse_query("watch=False&dry=&one=0");
    assert!(!query_bool(&query, "watch"));
    assert!(query_bool(&query, "dry"));
    assert!(!query_bool(&query, "one"));
    assert!(!query_bool(&query, "absent"));
    assert_eq!(first(&query, "watch"), Some("False"));
}
