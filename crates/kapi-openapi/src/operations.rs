//! The operations kube-apiserver's installer registers for a resource, as a neutral model that the v2 and v3
//! writers serialize. Paths, operation IDs, actions, parameters and responses follow kube-apiserver v1.36.

use std::collections::BTreeMap;

use crate::{
    definitions::Gvk,
    parameters::{name_parameter, Param, ParameterTable},
    served::{group_identifier, group_tag, tag, upper_first, ServedResource, Verb},
};

pub(crate) const JSON: &str = "application/json";
pub(crate) const YAML: &str = "application/yaml";
pub(crate) const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
pub(crate) const JSON_WATCH: &str = "application/json;stream=watch";
pub(crate) const PROTOBUF_WATCH: &str = "application/vnd.kubernetes.protobuf;stream=watch";
pub(crate) const PATCH_TYPES: [&str; 4] = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// HTTP methods in the order OpenAPI path items list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Method {
    Get,
    Put,
    Post,
    Delete,
    Patch,
}

impl Method {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Patch => "patch",
        }
    }
}

/// The request body of an operation.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) param: Param,
    pub(crate) definition: String,
    pub(crate) required: bool,
}

/// One operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) description: String,
    pub(crate) operation_id: String,
    pub(crate) tag: String,
    pub(crate) action: Option<&'static str>,
    pub(crate) gvk: Option<Gvk>,
    pub(crate) consumes: Vec<&'static str>,
    pub(crate) produces: Vec<&'static str>,
    pub(crate) body: Option<Body>,
    /// Query parameters, sorted by name.
    pub(crate) parameters: Vec<Param>,
    /// Status code, description, response definition.
    pub(crate) responses: Vec<(u16, &'static str, Option<String>)>,
}

/// A path with its operations and path-level parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathItem {
    pub(crate) operations: BTreeMap<Method, Operation>,
    pub(crate) parameters: Vec<Param>,
}

/// Every path of a group-version key (`api/v1`, `apis/rbac.authorization.k8s.io/v1`, `api`, `apis`,
/// `apis/<group>`, `version`), each path sorted.
pub(crate) type PathsByDocument = BTreeMap<String, BTreeMap<String, PathItem>>;

/// Builds the paths of all resources plus the discovery and version paths.
pub(crate) fn all_paths(resources: &[ServedResource]) -> PathsByDocument {
    let mut documents = PathsByDocument::new();
    documents
        .entry("version".to_owned())
        .or_default()
        .insert("/version/".to_owned(), version_path());
    for resource in resources {
        let (gv_key, group_key) = document_keys(&resource.group, &resource.version);
        let gv = documents.entry(gv_key).or_default();
        // apiextensions-apiserver's documents of custom resource group-versions have no discovery path.
        if !resource.custom_resource {
            gv.entry(format!("{}/", resource.group_version_path()))
                .or_insert_with(|| discovery_resources_path(&resource.group, &resource.version));
        }
        resource_paths(resource, gv);
        let group_paths = documents.entry(group_key).or_default();
        if resource.group.is_empty() {
            group_paths
                .entry("/api/".to_owned())
                .or_insert_with(|| discovery_path(DiscoveryKind::CoreVersions, ""));
        } else {
            group_paths
                .entry(format!("/apis/{}/", resource.group))
                .or_insert_with(|| discovery_path(DiscoveryKind::Group, &resource.group));
            documents
                .entry("apis".to_owned())
                .or_default()
                .entry("/apis/".to_owned())
                .or_insert_with(|| discovery_path(DiscoveryKind::Groups, ""));
        }
    }
    documents
}

/// The v3 document keys of a group-version and of its group: (`api/v1`, `api`), (`apis/g/v`, `apis/g`).
pub(crate) fn document_keys(group: &str, version: &str) -> (String, String) {
    if group.is_empty() {
        (format!("api/{version}"), "api".to_owned())
    } else {
        (format!("apis/{group}/{version}"), format!("apis/{group}"))
    }
}

fn produces(custom_resource: bool, streaming: bool) -> Vec<&'static str> {
    match (custom_resource, streaming) {
        (true, _) => vec![JSON, YAML],
        (false, false) => vec![JSON, YAML, PROTOBUF],
        (false, true) => vec![JSON, YAML, PROTOBUF, JSON_WATCH, PROTOBUF_WATCH],
    }
}

struct Names {
    gv: String,
    kind: String,
    scope: &'static str,
    tag: String,
    gvk: Gvk,
}

fn resource_paths(r: &ServedResource, paths: &mut BTreeMap<String, PathItem>) {
    let table = ParameterTable::get();
    let names = Names {
        gv: format!("{}{}", group_identifier(&r.group), upper_first(&r.version)),
        kind: r.kind.clone(),
        scope: if r.namespaced { "Namespaced" } else { "" },
        tag: tag(&r.group, &r.version),
        gvk: Gvk::new(&r.group, &r.version, &r.kind),
    };
    let base = r.group_version_path();
    let (collection, watch_collection) = if r.namespaced {
        (
            format!("{base}/namespaces/{{namespace}}/{}", r.resource),
            format!("{base}/watch/namespaces/{{namespace}}/{}", r.resource),
        )
    } else {
        (format!("{base}/{}", r.resource), format!("{base}/watch/{}", r.resource))
    };
    let scope_params = |with_name: bool| {
        let mut params = Vec::new();
        if with_name {
            params.push(name_parameter(&format!("name of the {}", r.kind)));
        }
        if r.namespaced {
            params.push(table.shared("namespace"));
        }
        params.push(table.shared("pretty"));
        params
    };
    let list_path_params = |with_name: bool| {
        let mut params = table.list_parameters();
        params.extend(scope_params(with_name));
        params.sort_by(|a, b| a.name().cmp(b.name()));
        params
    };
    let op = |verb: &str, suffix: &str, description: String, action: &'static str, streaming: bool| Operation {
        description,
        operation_id: format!("{verb}{}{}{}{suffix}", names.gv, names.scope, names.kind),
        tag: names.tag.clone(),
        action: Some(action),
        gvk: Some(names.gvk.clone()),
        consumes: if r.custom_resource {
            vec![JSON, YAML]
        } else {
            vec!["*/*"]
        },
        produces: produces(r.custom_resource, streaming),
        body: None,
        parameters: Vec::new(),
        responses: Vec::new(),
    };
    let object = |code, text| (code, text, Some(r.definition.clone()));
    let status = |code, text| (code, text, Some(format!("{META}.Status")));
    let write_params = |for_patch: bool| {
        let mut params = vec![
            table.inline("dryRun"),
            table.field_manager(for_patch),
            table.inline("fieldValidation"),
        ];
        if for_patch {
            params.push(table.shared("force"));
        }
        params
    };
    let body = |definition: &str| Body {
        param: crate::parameters::Param::Inline(serde_json::json!({
            "name": "body", "in": "body", "required": true,
            "schema": {"$ref": format!("#/definitions/{definition}")}
        })),
        definition: definition.to_owned(),
        required: true,
    };

    // apiextensions-apiserver words and parameterizes a few operations differently.
    let custom = r.custom_resource;
    let list_description = if custom {
        format!("list objects of kind {}", r.kind)
    } else {
        format!("list or watch objects of kind {}", r.kind)
    };
    let read_parameters = || {
        if custom {
            vec![table.shared("resourceVersion")]
        } else {
            Vec::new()
        }
    };

    // The collection: list, create, deletecollection.
    let mut item = PathItem {
        parameters: scope_params(false),
        ..PathItem::default()
    };
    if r.supports(Verb::List) {
        let mut list = op("list", "", list_description.clone(), "list", true);
        list.parameters = table.list_parameters();
        list.responses = vec![
            (200, "OK", Some(r.list_definition.clone())),
            (401, "Unauthorized", None),
        ];
        item.operations.insert(Method::Get, list);
    }
    if r.supports(Verb::Create) {
        let mut create = op("create", "", format!("create a {}", r.kind), "post", false);
        create.body = Some(body(&r.definition));
        create.parameters = write_params(false);
        create.responses = vec![
            object(200, "OK"),
            object(201, "Created"),
            object(202, "Accepted"),
            (401, "Unauthorized", None),
        ];
        item.operations.insert(Method::Post, create);
    }
    if r.supports(Verb::DeleteCollection) {
        let mut delete = op(
            "delete",
            "",
            format!("delete collection of {}", r.kind),
            "deletecollection",
            false,
        );
        delete.operation_id = format!("delete{}Collection{}{}", names.gv, names.scope, names.kind);
        if custom {
            // Custom resources list the list parameters and no body.
            delete.parameters = table.list_parameters();
        } else {
            delete.body = Some(Body {
                param: table.delete_options_body(),
                definition: format!("{META}.DeleteOptions"),
                required: false,
            });
            let mut params = table.list_parameters();
            params.retain(|p| !matches!(p.name(), "allowWatchBookmarks" | "watch"));
            params.extend(delete_parameters(table));
            params.push(table.inline("dryRun"));
            params.sort_by(|a, b| a.name().cmp(b.name()));
            delete.parameters = params;
        }
        delete.responses = vec![status(200, "OK"), (401, "Unauthorized", None)];
        item.operations.insert(Method::Delete, delete);
    }
    if !item.operations.is_empty() {
        paths.insert(collection.clone(), item);
    }

    // One object: read, replace, delete, patch.
    let mut item = PathItem {
        parameters: scope_params(true),
        ..PathItem::default()
    };
    if r.supports(Verb::Get) {
        let mut read = op("read", "", format!("read the specified {}", r.kind), "get", false);
        read.parameters = read_parameters();
        read.responses = vec![object(200, "OK"), (401, "Unauthorized", None)];
        item.operations.insert(Method::Get, read);
    }
    if r.supports(Verb::Update) {
        let mut replace = op("replace", "", format!("replace the specified {}", r.kind), "put", false);
        replace.body = Some(body(&r.definition));
        replace.parameters = write_params(false);
        replace.responses = vec![object(200, "OK"), object(201, "Created"), (401, "Unauthorized", None)];
        item.operations.insert(Method::Put, replace);
    }
    if r.supports(Verb::Delete) {
        let mut delete = op("delete", "", format!("delete a {}", r.kind), "delete", false);
        delete.body = Some(Body {
            param: table.delete_options_body(),
            definition: format!("{META}.DeleteOptions"),
            required: false,
        });
        let mut params = delete_parameters(table);
        params.push(table.inline("dryRun"));
        params.sort_by(|a, b| a.name().cmp(b.name()));
        delete.parameters = params;
        delete.responses = if r.delete_returns_object {
            vec![object(200, "OK"), object(202, "Accepted"), (401, "Unauthorized", None)]
        } else {
            vec![status(200, "OK"), status(202, "Accepted"), (401, "Unauthorized", None)]
        };
        item.operations.insert(Method::Delete, delete);
    }
    if r.supports(Verb::Patch) {
        item.operations.insert(
            Method::Patch,
            patch_operation(&op, r, &r.kind, "", table, write_params(true)),
        );
    }
    if !item.operations.is_empty() {
        paths.insert(format!("{collection}/{{name}}"), item);
    }

    // Subresources.
    for sub in &r.subresources {
        let mut item = PathItem {
            parameters: scope_params(true),
            ..PathItem::default()
        };
        let suffix = upper_first(&sub.name);
        // Built-in subresources name their body's kind (autoscaling/v1 Scale); custom resources their own kind.
        let sub_gvk = if custom {
            names.gvk.clone()
        } else {
            Gvk::new(&sub.group, &sub.version, &sub.kind)
        };
        let sub_object = |code, text| (code, text, Some(sub.definition.clone()));
        let sub_op = |method: Method, verb: &str, description: String, action: &'static str| {
            let mut o = op(verb, &suffix, description, action, false);
            o.gvk = Some(sub_gvk.clone());
            (method, o)
        };
        let mut operations = Vec::new();
        if sub.verbs.contains(&Verb::Get) {
            let (m, mut o) = sub_op(
                Method::Get,
                "read",
                format!("read {} of the specified {}", sub.name, r.kind),
                "get",
            );
            o.parameters = read_parameters();
            o.responses = vec![sub_object(200, "OK"), (401, "Unauthorized", None)];
            operations.push((m, o));
        }
        if sub.verbs.contains(&Verb::Create) {
            let (m, mut o) = sub_op(
                Method::Post,
                "create",
                format!("create {} of a {}", sub.name, r.kind),
                "post",
            );
            o.body = Some(body(&sub.definition));
            o.parameters = write_params(false);
            o.responses = vec![
                sub_object(200, "OK"),
                sub_object(201, "Created"),
                sub_object(202, "Accepted"),
                (401, "Unauthorized", None),
            ];
            operations.push((m, o));
        }
        if sub.verbs.contains(&Verb::Update) {
            let (m, mut o) = sub_op(
                Method::Put,
                "replace",
                format!("replace {} of the specified {}", sub.name, r.kind),
                "put",
            );
            o.body = Some(body(&sub.definition));
            o.parameters = write_params(false);
            o.responses = vec![
                sub_object(200, "OK"),
                sub_object(201, "Created"),
                (401, "Unauthorized", None),
            ];
            operations.push((m, o));
        }
        if sub.verbs.contains(&Verb::Patch) {
            let mut o = patch_operation(&op, r, &sub.name, &suffix, table, write_params(true));
            o.gvk = Some(sub_gvk.clone());
            o.responses = if custom {
                vec![sub_object(200, "OK"), (401, "Unauthorized", None)]
            } else {
                vec![
                    sub_object(200, "OK"),
                    sub_object(201, "Created"),
                    (401, "Unauthorized", None),
                ]
            };
            operations.push((Method::Patch, o));
        }
        item.operations.extend(operations);
        if !item.operations.is_empty() {
            paths.insert(format!("{collection}/{{name}}/{}", sub.name), item);
        }
    }

    // Watch paths (deprecated upstream, still served and listed) and the all-namespaces list.
    let watch_event = Some(format!("{META}.WatchEvent"));
    // apiextensions-apiserver does not document the deprecated watch paths of custom resources.
    let watch_paths = r.supports(Verb::Watch) && !r.custom_resource;
    if watch_paths {
        let mut watch_list = op(
            "watch",
            "List",
            format!("watch individual changes to a list of {}. deprecated: use the 'watch' parameter with a list operation instead.", r.kind),
            "watchlist",
            true,
        );
        watch_list.responses = vec![(200, "OK", watch_event.clone()), (401, "Unauthorized", None)];
        paths.insert(
            watch_collection.clone(),
            PathItem {
                operations: BTreeMap::from([(Method::Get, watch_list)]),
                parameters: list_path_params(false),
            },
        );
        let mut watch = op(
            "watch",
            "",
            format!("watch changes to an object of kind {}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.", r.kind),
            "watch",
            true,
        );
        watch.responses = vec![(200, "OK", watch_event.clone()), (401, "Unauthorized", None)];
        paths.insert(
            format!("{watch_collection}/{{name}}"),
            PathItem {
                operations: BTreeMap::from([(Method::Get, watch)]),
                parameters: list_path_params(true),
            },
        );
    }
    if r.namespaced {
        let all_params = || {
            let mut params = table.list_parameters();
            params.push(table.shared("pretty"));
            params.sort_by(|a, b| a.name().cmp(b.name()));
            params
        };
        if r.supports(Verb::List) {
            let mut list = op("list", "ForAllNamespaces", list_description.clone(), "list", true);
            list.operation_id = format!("list{}{}ForAllNamespaces", names.gv, names.kind);
            list.responses = vec![
                (200, "OK", Some(r.list_definition.clone())),
                (401, "Unauthorized", None),
            ];
            paths.insert(
                format!("{base}/{}", r.resource),
                PathItem {
                    operations: BTreeMap::from([(Method::Get, list)]),
                    parameters: all_params(),
                },
            );
        }
        if watch_paths {
            let mut watch = op(
                "watch",
                "",
                format!("watch individual changes to a list of {}. deprecated: use the 'watch' parameter with a list operation instead.", r.kind),
                "watchlist",
                true,
            );
            watch.operation_id = format!("watch{}{}ListForAllNamespaces", names.gv, names.kind);
            watch.responses = vec![(200, "OK", watch_event), (401, "Unauthorized", None)];
            paths.insert(
                format!("{base}/watch/{}", r.resource),
                PathItem {
                    operations: BTreeMap::from([(Method::Get, watch)]),
                    parameters: all_params(),
                },
            );
        }
    }
}

fn patch_operation(
    op: &dyn Fn(&str, &str, String, &'static str, bool) -> Operation,
    r: &ServedResource,
    what: &str,
    suffix: &str,
    table: &'static ParameterTable,
    parameters: Vec<Param>,
) -> Operation {
    let description = if suffix.is_empty() {
        format!("partially update the specified {}", r.kind)
    } else {
        format!("partially update {what} of the specified {}", r.kind)
    };
    let mut patch = op("patch", suffix, description, "patch", false);
    // Strategic merge patch needs Go struct tags; custom resources do not accept it.
    patch.consumes = PATCH_TYPES
        .into_iter()
        .filter(|media| !(r.custom_resource && *media == "application/strategic-merge-patch+json"))
        .collect();
    patch.body = Some(Body {
        param: table.patch_body(),
        definition: format!("{META}.Patch"),
        required: true,
    });
    patch.parameters = parameters;
    patch.responses = if r.custom_resource {
        vec![(200, "OK", Some(r.definition.clone())), (401, "Unauthorized", None)]
    } else {
        vec![
            (200, "OK", Some(r.definition.clone())),
            (201, "Created", Some(r.definition.clone())),
            (401, "Unauthorized", None),
        ]
    };
    patch
}

fn delete_parameters(table: &'static ParameterTable) -> Vec<Param> {
    [
        "gracePeriodSeconds",
        "ignoreStoreReadErrorWithClusterBreakingPotential",
        "orphanDependents",
        "propagationPolicy",
    ]
    .into_iter()
    .map(|name| table.shared(name))
    .collect()
}

enum DiscoveryKind {
    CoreVersions,
    Groups,
    Group,
}

fn discovery_operation(description: &str, operation_id: String, tag: String, response: &str) -> Operation {
    Operation {
        description: description.to_owned(),
        operation_id,
        tag,
        action: None,
        gvk: None,
        consumes: vec![JSON, YAML, PROTOBUF],
        produces: vec![JSON, YAML, PROTOBUF],
        body: None,
        parameters: Vec::new(),
        responses: vec![
            (200, "OK", Some(format!("{META}.{response}"))),
            (401, "Unauthorized", None),
        ],
    }
}

fn discovery_path(kind: DiscoveryKind, group: &str) -> PathItem {
    let operation = match kind {
        DiscoveryKind::CoreVersions => discovery_operation(
            "get available API versions",
            "getCoreAPIVersions".to_owned(),
            "core".to_owned(),
            "APIVersions",
        ),
        DiscoveryKind::Groups => discovery_operation(
            "get available API versions",
            "getAPIVersions".to_owned(),
            "apis".to_owned(),
            "APIGroupList",
        ),
        DiscoveryKind::Group => discovery_operation(
            "get information of a group",
            format!("get{}APIGroup", group_identifier(group)),
            group_tag(group),
            "APIGroup",
        ),
    };
    PathItem {
        operations: BTreeMap::from([(Method::Get, operation)]),
        parameters: Vec::new(),
    }
}

fn discovery_resources_path(group: &str, version: &str) -> PathItem {
    let operation = discovery_operation(
        "get available resources",
        format!("get{}{}APIResources", group_identifier(group), upper_first(version)),
        tag(group, version),
        "APIResourceList",
    );
    PathItem {
        operations: BTreeMap::from([(Method::Get, operation)]),
        parameters: Vec::new(),
    }
}

fn version_path() -> PathItem {
    let operation = Operation {
        description: "get the version information for this server".to_owned(),
        operation_id: "getCodeVersion".to_owned(),
        tag: "version".to_owned(),
        action: None,
        gvk: None,
        consumes: vec![JSON],
        produces: vec![JSON],
        body: None,
        parameters: Vec::new(),
        responses: vec![
            (200, "OK", Some("io.k8s.apimachinery.pkg.version.Info".to_owned())),
            (401, "Unauthorized", None),
        ],
    };
    PathItem {
        operations: BTreeMap::from([(Method::Get, operation)]),
        parameters: Vec::new(),
    }
}

/// Every definition the operations of these paths refer to.
pub(crate) fn referenced_definitions<'a>(paths: impl Iterator<Item = &'a PathItem>) -> Vec<String> {
    let mut out = Vec::new();
    for item in paths {
        for operation in item.operations.values() {
            out.extend(operation.responses.iter().filter_map(|(_, _, d)| d.clone()));
            out.extend(operation.body.as_ref().map(|b| b.definition.clone()));
        }
    }
    out
}
