//! The built-in types kapi serves, each selectable on its own: core/v1 namespaces, configmaps, secrets,
//! serviceaccounts, events; events.k8s.io/v1 events; coordination.k8s.io/v1 leases;
//! rbac.authorization.k8s.io/v1 roles, rolebindings, clusterroles, clusterrolebindings; and, opt-in
//! ([`opt_in`]), apps/v1 deployments.
//!
//! [`all`] lists them in discovery order; [`by_name`] picks one by plural name (`configmaps`), by
//! `resource.group` (`events.events.k8s.io`) or by short name (`cm`), for `--resources`.

mod columns;
mod deployment;
mod events;
mod omitempty;
mod rows;
mod schema;
mod validate;

use std::sync::Arc;

use kapi_core::{validation::NameRule, FieldErrors};
use serde_json::Value;

use crate::{
    managed::FieldsShape,
    strategy::{validate_metadata, validate_metadata_update, Strategy},
    types::ResourceInfo,
};

pub use deployment::Deployment;

/// The built-in types served only when asked for by name ([`by_name`]): apps/v1 deployments.
pub fn opt_in() -> Vec<Arc<dyn Strategy>> {
    vec![Arc::new(Deployment::new())]
}

/// Which built-in type a [`Builtin`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    /// core/v1 Namespace.
    Namespace,
    /// core/v1 ConfigMap.
    ConfigMap,
    /// core/v1 Secret.
    Secret,
    /// core/v1 ServiceAccount.
    ServiceAccount,
    /// core/v1 Event.
    CoreEvent,
    /// events.k8s.io/v1 Event.
    Event,
    /// coordination.k8s.io/v1 Lease.
    Lease,
    /// rbac.authorization.k8s.io/v1 Role.
    Role,
    /// rbac.authorization.k8s.io/v1 RoleBinding.
    RoleBinding,
    /// rbac.authorization.k8s.io/v1 ClusterRole.
    ClusterRole,
    /// rbac.authorization.k8s.io/v1 ClusterRoleBinding.
    ClusterRoleBinding,
}

/// The strategy of one built-in type.
#[derive(Debug)]
pub struct Builtin {
    kind: BuiltinType,
    info: ResourceInfo,
}

struct Spec {
    group: &'static str,
    resource: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    namespaced: bool,
    subresources: &'static [&'static str],
    openapi: &'static str,
}

fn spec(kind: BuiltinType) -> Spec {
    use BuiltinType as T;
    let (group, resource, kind_name, short_names, namespaced, openapi): (_, _, _, &'static [&'static str], _, _) =
        match kind {
            T::Namespace => (
                "",
                "namespaces",
                "Namespace",
                &["ns"],
                false,
                "io.k8s.api.core.v1.Namespace",
            ),
            T::ConfigMap => (
                "",
                "configmaps",
                "ConfigMap",
                &["cm"],
                true,
                "io.k8s.api.core.v1.ConfigMap",
            ),
            T::Secret => ("", "secrets", "Secret", &[], true, "io.k8s.api.core.v1.Secret"),
            T::ServiceAccount => (
                "",
                "serviceaccounts",
                "ServiceAccount",
                &["sa"],
                true,
                "io.k8s.api.core.v1.ServiceAccount",
            ),
            T::CoreEvent => ("", "events", "Event", &["ev"], true, "io.k8s.api.core.v1.Event"),
            T::Event => (
                "events.k8s.io",
                "events",
                "Event",
                &["ev"],
                true,
                "io.k8s.api.events.v1.Event",
            ),
            T::Lease => (
                "coordination.k8s.io",
                "leases",
                "Lease",
                &[],
                true,
                "io.k8s.api.coordination.v1.Lease",
            ),
            T::Role => (
                "rbac.authorization.k8s.io",
                "roles",
                "Role",
                &[],
                true,
                "io.k8s.api.rbac.v1.Role",
            ),
            T::RoleBinding => (
                "rbac.authorization.k8s.io",
                "rolebindings",
                "RoleBinding",
                &[],
                true,
                "io.k8s.api.rbac.v1.RoleBinding",
            ),
            T::ClusterRole => (
                "rbac.authorization.k8s.io",
                "clusterroles",
                "ClusterRole",
                &[],
                false,
                "io.k8s.api.rbac.v1.ClusterRole",
            ),
            T::ClusterRoleBinding => (
                "rbac.authorization.k8s.io",
                "clusterrolebindings",
                "ClusterRoleBinding",
                &[],
                false,
                "io.k8s.api.rbac.v1.ClusterRoleBinding",
            ),
        };
    Spec {
        group,
        resource,
        kind: kind_name,
        short_names,
        namespaced,
        subresources: if kind == T::Namespace {
            &["finalize", "status"]
        } else {
            &[]
        },
        openapi,
    }
}

impl Builtin {
    /// The strategy of `kind`.
    pub fn new(kind: BuiltinType) -> Self {
        let spec = spec(kind);
        let mut verbs = ResourceInfo::standard_verbs();
        if kind == BuiltinType::Namespace {
            verbs.retain(|verb| verb != "deletecollection");
        }
        let storage_prefix = if spec.group.is_empty() || kind == BuiltinType::Event {
            // events.k8s.io/v1 events live with core/v1 events, as in kube-apiserver.
            format!("/registry/{}/", spec.resource)
        } else {
            format!("/registry/{}/{}/", spec.group, spec.resource)
        };
        let info = ResourceInfo {
            group: spec.group.to_owned(),
            version: "v1".to_owned(),
            resource: spec.resource.to_owned(),
            kind: spec.kind.to_owned(),
            list_kind: format!("{}List", spec.kind),
            singular: spec.kind.to_lowercase(),
            short_names: spec.short_names.iter().map(|s| (*s).to_owned()).collect(),
            categories: Vec::new(),
            namespaced: spec.namespaced,
            verbs,
            subresources: spec.subresources.iter().map(|s| (*s).to_owned()).collect(),
            table_columns: columns::columns(spec.resource),
            openapi_definition: Some(spec.openapi.to_owned()),
            storage_prefix,
        };
        Self { kind, info }
    }

    /// Which type this is.
    pub fn builtin_type(&self) -> BuiltinType {
        self.kind
    }

    /// Go's `omitempty` on the object, as decoding into the Go type and encoding it back does upstream
    /// ([`omitempty`]); `fill_unset` writes the unset fields without `omitempty` as `null`.
    fn omit_empty(&self, obj: &mut Value, fill_unset: bool) {
        if let Some(schema) = self.schema() {
            omitempty::normalize(&schema, self.info.openapi_definition.as_deref(), obj, fill_unset);
        }
    }
}

/// Every built-in type, in discovery order: the groups as kube-apiserver orders them by priority
/// (events.k8s.io, then rbac.authorization.k8s.io, then coordination.k8s.io).
pub fn all() -> Vec<Arc<dyn Strategy>> {
    use BuiltinType as T;
    [
        T::Namespace,
        T::ConfigMap,
        T::Secret,
        T::ServiceAccount,
        T::CoreEvent,
        T::Event,
        T::Role,
        T::RoleBinding,
        T::ClusterRole,
        T::ClusterRoleBinding,
        T::Lease,
    ]
    .into_iter()
    .map(|kind| Arc::new(Builtin::new(kind)) as Arc<dyn Strategy>)
    .collect()
}

/// The built-in types `name` selects: a plural (`configmaps`; `events` gives both event APIs), a
/// `resource.group` (`events.events.k8s.io`), or a short name (`cm`). Empty for unknown names.
pub fn by_name(name: &str) -> Vec<Arc<dyn Strategy>> {
    all()
        .into_iter()
        .chain(opt_in())
        .filter(|strategy| {
            let info = strategy.info();
            info.resource == name
                || format!("{}.{}", info.resource, info.group) == name
                || info.short_names.iter().any(|short| short == name)
        })
        .collect()
}

impl Strategy for Builtin {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }

    fn name_rule(&self) -> NameRule {
        match self.kind {
            BuiltinType::Namespace => NameRule::Dns1123Label,
            BuiltinType::Role
            | BuiltinType::RoleBinding
            | BuiltinType::ClusterRole
            | BuiltinType::ClusterRoleBinding => NameRule::PathSegment,
            _ => NameRule::Dns1123Subdomain,
        }
    }

    fn has_status_subresource(&self) -> bool {
        self.kind == BuiltinType::Namespace
    }

    fn invalid_group_kind(&self) -> kapi_core::GroupKind {
        match self.kind {
            BuiltinType::Event => kapi_core::GroupKind::new("", "Event"),
            _ => self.info.group_kind(),
        }
    }

    fn check_decodable(&self, obj: &Value) -> Result<(), String> {
        validate::check_decodable(self.kind, obj)
    }

    fn default(&self, obj: &mut Value) {
        self.omit_empty(obj, false);
        validate::default(self.kind, obj);
    }

    fn prepare_for_create(&self, obj: &mut Value) {
        validate::prepare_for_create(self.kind, obj);
        self.omit_empty(obj, true);
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        validate::prepare_for_update(self.kind, new, old);
        self.omit_empty(new, true);
    }

    fn validate_create(&self, obj: &Value) -> FieldErrors {
        let mut errors = validate_metadata(obj, self.info.namespaced, self.name_rule());
        errors.append(validate::validate(self.kind, obj));
        errors
    }

    fn validate_update(&self, new: &Value, old: &Value) -> FieldErrors {
        let mut errors = validate_metadata_update(new, old);
        errors.append(validate::validate_update(self.kind, new, old));
        errors.append(validate_metadata(new, self.info.namespaced, self.name_rule()));
        errors.append(validate::validate(self.kind, new));
        errors
    }

    fn warnings(&self, obj: &Value) -> Vec<String> {
        validate::warnings(self.kind, obj)
    }

    fn selectable_fields(&self, obj: &Value) -> Vec<(String, String)> {
        rows::selectable_fields(self.kind, obj)
    }

    fn table_row(&self, obj: &Value) -> Vec<Value> {
        rows::table_row(self.kind, obj)
    }

    fn allow_create_on_update(&self) -> bool {
        matches!(
            self.kind,
            BuiltinType::CoreEvent
                | BuiltinType::Event
                | BuiltinType::Lease
                | BuiltinType::Role
                | BuiltinType::RoleBinding
                | BuiltinType::ClusterRole
                | BuiltinType::ClusterRoleBinding
        )
    }

    fn return_deleted_object(&self) -> bool {
        self.kind == BuiltinType::ServiceAccount
    }

    fn unknown_fields(&self, obj: &Value) -> Vec<String> {
        schema::unknown_fields(self.kind, obj)
    }

    fn stored_form_is_api_form(&self) -> bool {
        !matches!(self.kind, BuiltinType::Event | BuiltinType::CoreEvent)
    }

    fn read_stored(&self, obj: Value) -> Value {
        match self.kind {
            BuiltinType::Event => events::core_to_events(obj),
            BuiltinType::CoreEvent => events::core_output(obj),
            _ => obj,
        }
    }

    fn prepare_stored(&self, obj: Value) -> Value {
        match self.kind {
            BuiltinType::Event => events::events_to_core(obj),
            _ => obj,
        }
    }

    fn fields_shape(&self) -> FieldsShape {
        match self.kind {
            BuiltinType::Event | BuiltinType::CoreEvent => FieldsShape {
                maps: vec!["series".to_owned()],
                atomic: ["involvedObject", "regarding", "related"].map(str::to_owned).to_vec(),
                ..FieldsShape::default()
            },
            BuiltinType::RoleBinding | BuiltinType::ClusterRoleBinding => FieldsShape {
                atomic: vec!["roleRef".to_owned()],
                ..FieldsShape::default()
            },
            BuiltinType::ConfigMap => FieldsShape::with_maps(&["data", "binaryData"]),
            BuiltinType::Secret => FieldsShape::with_maps(&["data", "stringData"]),
            BuiltinType::ServiceAccount => FieldsShape {
                keyed_lists: vec![("secrets".to_owned(), vec!["name".to_owned()])],
                ..FieldsShape::default()
            },
            BuiltinType::Namespace => FieldsShape {
                sets: vec!["spec.finalizers".to_owned()],
                ..FieldsShape::default()
            },
            _ => FieldsShape::default(),
        }
    }
}
