//! A custom resource's OpenAPI definitions: the kind and list kind as kube-apiserver publishes them
//! (`com.example.corpus.v1.Widget`, from `kapi-crd-schema`), plus the built-in metadata definitions they
//! refer to, in one [`Definitions`] set that [`Strategy::schema`](kapi_registry::Strategy::schema) walks and
//! the endpoints' OpenAPI documents copy from.

use kapi_crd_schema::{openapi_definitions, PublishedKind, Structural};
use kapi_openapi::Definitions;
use kapi_registry::ResourceInfo;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// The definitions of `info`'s kind and list kind (OpenAPI v2 form, with their v3 forms) from `schema`, the version's compiled
/// `openAPIV3Schema`, with `selectable_fields` (JSONPaths as written), and the metadata definitions.
pub fn definitions(info: &ResourceInfo, schema: Option<&Structural>, selectable_fields: Vec<String>) -> Definitions {
    let mut definitions = Definitions::default();
    let builtin = Definitions::builtin();
    if let Ok(names) = builtin.closure([OBJECT_META, LIST_META]) {
        for name in names {
            if let Some(schema) = builtin.get(&name) {
                definitions.insert(name, schema.clone());
            }
        }
    }
    let kind = PublishedKind {
        group: info.group.clone(),
        version: info.version.clone(),
        kind: info.kind.clone(),
        list_kind: info.list_kind.clone(),
        plural: info.resource.clone(),
        selectable_fields,
    };
    for (name, definition) in openapi_definitions(schema, &kind, true) {
        definitions.insert(name, definition);
    }
    for (name, definition) in openapi_definitions(schema, &kind, false) {
        definitions.insert_v3_form(name, definition);
    }
    definitions
}
