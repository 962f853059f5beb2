//! What a server serves, described just enough to write its OpenAPI: [`ServedResource`].

/// A REST verb of a resource, as in discovery's `verbs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// Read one object.
    Get,
    /// List a collection.
    List,
    /// Watch a collection or object.
    Watch,
    /// Create (POST).
    Create,
    /// Replace (PUT).
    Update,
    /// Patch.
    Patch,
    /// Delete one object.
    Delete,
    /// Delete a collection.
    DeleteCollection,
}

impl Verb {
    /// Every verb of a fully featured resource.
    pub const ALL: [Verb; 8] = [
        Verb::Get,
        Verb::List,
        Verb::Watch,
        Verb::Create,
        Verb::Update,
        Verb::Patch,
        Verb::Delete,
        Verb::DeleteCollection,
    ];
}

/// A subresource such as `status`, `scale`, `finalize` or `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedSubresource {
    /// The path segment after the object name, e.g. `status`.
    pub name: String,
    /// Group of the body's kind (the parent's for `status`; `autoscaling` for `scale`).
    pub group: String,
    /// Version of the body's kind.
    pub version: String,
    /// Kind of the body, e.g. `Scale`.
    pub kind: String,
    /// The definition of the body, e.g. `io.k8s.api.autoscaling.v1.Scale`.
    pub definition: String,
    /// Supported verbs among get, create (POST, like `serviceaccounts/token`), update and patch.
    pub verbs: Vec<Verb>,
}

impl ServedSubresource {
    /// The `status` subresource of a resource: get, update and patch of the resource's own kind.
    pub fn status(resource: &ServedResource) -> Self {
        Self {
            name: "status".to_owned(),
            group: resource.group.clone(),
            version: resource.version.clone(),
            kind: resource.kind.clone(),
            definition: resource.definition.clone(),
            verbs: vec![Verb::Get, Verb::Update, Verb::Patch],
        }
    }

    /// The `scale` subresource: get, update and patch of `autoscaling/v1` Scale.
    pub fn scale() -> Self {
        Self {
            name: "scale".to_owned(),
            group: "autoscaling".to_owned(),
            version: "v1".to_owned(),
            kind: "Scale".to_owned(),
            definition: "io.k8s.api.autoscaling.v1.Scale".to_owned(),
            verbs: vec![Verb::Get, Verb::Update, Verb::Patch],
        }
    }
}

/// A resource a server serves, with what OpenAPI needs to describe its operations. Built-in resources and
/// custom resources use the same description; a custom resource adds its schemas with
/// [`crate::Definitions::insert`] under the names given here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedResource {
    /// API group; empty for the core group (`/api/v1`).
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Plural resource name, e.g. `configmaps`.
    pub resource: String,
    /// Kind, e.g. `ConfigMap`.
    pub kind: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Supported verbs.
    pub verbs: Vec<Verb>,
    /// Subresources.
    pub subresources: Vec<ServedSubresource>,
    /// Definition name of the kind, e.g. `io.k8s.api.core.v1.ConfigMap`.
    pub definition: String,
    /// Definition name of the list kind, e.g. `io.k8s.api.core.v1.ConfigMapList`.
    pub list_definition: String,
    /// Whether this is a custom resource, documented as apiextensions-apiserver does: no protobuf media types,
    /// no deprecated `/watch/` paths, no streaming media types, and group-version documents titled
    /// `Kubernetes CRD Swagger`.
    pub custom_resource: bool,
    /// Whether DELETE answers with the deleted object rather than a Status (ServiceAccount does).
    pub delete_returns_object: bool,
}

impl ServedResource {
    /// A built-in resource with all verbs and definitions named `<definition_prefix>.<Kind>` and
    /// `<definition_prefix>.<Kind>List`, e.g. `("", "v1", "configmaps", "ConfigMap", true, "io.k8s.api.core.v1")`.
    pub fn builtin(
        group: &str,
        version: &str,
        resource: &str,
        kind: &str,
        namespaced: bool,
        definition_prefix: &str,
    ) -> Self {
        Self {
            group: group.to_owned(),
            version: version.to_owned(),
            resource: resource.to_owned(),
            kind: kind.to_owned(),
            namespaced,
            verbs: Verb::ALL.to_vec(),
            subresources: Vec::new(),
            definition: format!("{definition_prefix}.{kind}"),
            list_definition: format!("{definition_prefix}.{kind}List"),
            custom_resource: false,
            delete_returns_object: false,
        }
    }

    /// Whether the resource supports a verb.
    pub fn supports(&self, verb: Verb) -> bool {
        self.verbs.contains(&verb)
    }

    /// The group-version path prefix: `/api/v1` or `/apis/<group>/<version>`.
    pub fn group_version_path(&self) -> String {
        group_version_path(&self.group, &self.version)
    }
}

/// `/api/v1` for the core group, `/apis/<group>/<version>` otherwise.
pub fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// The group's name in operation IDs: `Core`, `RbacAuthorization` (for `rbac.authorization.k8s.io`),
/// `CorpusExampleCom` (for `corpus.example.com`).
pub(crate) fn group_identifier(group: &str) -> String {
    if group.is_empty() {
        return "Core".to_owned();
    }
    let trimmed = group.strip_suffix(".k8s.io").unwrap_or(group);
    trimmed.split(['.', '-']).map(upper_first).collect()
}

/// The group-version tag: `core_v1`, `rbacAuthorization_v1`.
pub(crate) fn tag(group: &str, version: &str) -> String {
    format!("{}_{version}", group_tag(group))
}

/// The group's tag: `core`, `rbacAuthorization`.
pub(crate) fn group_tag(group: &str) -> String {
    let identifier = group_identifier(group);
    let mut chars = identifier.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => identifier,
    }
}

pub(crate) fn upper_first(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
