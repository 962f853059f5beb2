//! Which built-in resource types a server serves (`kapi serve --resources`).

use std::{fmt, str::FromStr};

/// A built-in type kapi can serve, by its resource name and API group (empty for the core group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuiltinResource {
    /// The plural resource name, e.g. `configmaps`.
    pub resource: &'static str,
    /// The API group, `""` for core.
    pub group: &'static str,
}

impl BuiltinResource {
    const fn new(resource: &'static str, group: &'static str) -> Self {
        Self { resource, group }
    }
}

impl fmt::Display for BuiltinResource {
    /// `resource` for the core group, `resource.group` otherwise (kubectl's spelling).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// The generic control-plane types, served by default.
pub const GENERIC_RESOURCES: &[BuiltinResource] = &[
    BuiltinResource::new("namespaces", ""),
    BuiltinResource::new("configmaps", ""),
    BuiltinResource::new("secrets", ""),
    BuiltinResource::new("serviceaccounts", ""),
    BuiltinResource::new("events", ""),
    BuiltinResource::new("events", "events.k8s.io"),
    BuiltinResource::new("leases", "coordination.k8s.io"),
    BuiltinResource::new("roles", "rbac.authorization.k8s.io"),
    BuiltinResource::new("rolebindings", "rbac.authorization.k8s.io"),
    BuiltinResource::new("clusterroles", "rbac.authorization.k8s.io"),
    BuiltinResource::new("clusterrolebindings", "rbac.authorization.k8s.io"),
    BuiltinResource::new("customresourcedefinitions", "apiextensions.k8s.io"),
];

/// Built-in types served only when named: apps/v1 deployments (`--resources default,deployments`).
pub const OPT_IN_RESOURCES: &[BuiltinResource] = &[BuiltinResource::new("deployments", "apps")];

/// Every type `--resources` may name, in canonical order.
fn known_resources() -> impl Iterator<Item = &'static BuiltinResource> {
    GENERIC_RESOURCES.iter().chain(OPT_IN_RESOURCES)
}

/// The set of built-in types to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSelection {
    resources: Vec<BuiltinResource>,
}

impl Default for ResourceSelection {
    /// Every type of [`GENERIC_RESOURCES`].
    fn default() -> Self {
        Self {
            resources: GENERIC_RESOURCES.to_vec(),
        }
    }
}

impl ResourceSelection {
    /// No built-in type at all.
    pub fn none() -> Self {
        Self { resources: Vec::new() }
    }

    /// The selected types, in [`GENERIC_RESOURCES`] order.
    pub fn resources(&self) -> &[BuiltinResource] {
        &self.resources
    }

    /// Whether `resource` in `group` is selected.
    pub fn contains(&self, resource: &str, group: &str) -> bool {
        self.resources
            .iter()
            .any(|selected| selected.resource == resource && selected.group == group)
    }
}

/// A `--resources` entry that names no known type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource {name:?}; known: none, default, {known}")]
pub struct UnknownResource {
    /// The entry as given.
    pub name: String,
    /// The accepted names, comma-separated.
    pub known: String,
}

impl FromStr for ResourceSelection {
    type Err = UnknownResource;

    /// Parses a comma-separated list: `default` (the generic set), `none`, or names like `configmaps`,
    /// `leases` or `leases.coordination.k8s.io` (`events` is core/v1 events; `events.events.k8s.io` the
    /// other). Duplicates are ignored; whitespace around entries is allowed.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut selected = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            match entry {
                "none" => {}
                "default" => selected.extend_from_slice(GENERIC_RESOURCES),
                name => selected.push(lookup(name)?),
            }
        }
        // Keep the canonical order and drop duplicates.
        let resources = known_resources()
            .filter(|known| selected.contains(known))
            .copied()
            .collect();
        Ok(Self { resources })
    }
}

fn lookup(name: &str) -> Result<BuiltinResource, UnknownResource> {
    let mut lower = name.to_ascii_lowercase();
    if lower == "crd" || lower == "crds" {
        "customresourcedefinitions".clone_into(&mut lower);
    }
    known_resources()
        .copied()
        .find(|known| known.to_string() == lower)
        // A bare name is enough when the resource name is unique outside the core group.
        .or_else(|| {
            let mut matches = known_resources().filter(|known| known.resource == lower);
            match (matches.next(), matches.next()) {
                (Some(only), None) => Some(*only),
                _ => None,
            }
        })
        .ok_or_else(|| UnknownResource {
            name: name.to_owned(),
            known: known_resources()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_to_canonical_sets() {
        let parsed: ResourceSelection = "leases, configmaps,configmaps".parse().expect("valid list");
        let names: Vec<String> = parsed.resources().iter().map(ToString::to_string).collect();
        assert_eq!(names, ["configmaps", "leases.coordination.k8s.io"]);
        assert!(parsed.contains("leases", "coordination.k8s.io"));
        assert_eq!("none".parse::<ResourceSelection>(), Ok(ResourceSelection::none()));
        assert_eq!("default".parse::<ResourceSelection>(), Ok(ResourceSelection::default()));
        let events: ResourceSelection = "events,events.events.k8s.io".parse().expect("valid list");
        assert_eq!(events.resources().len(), 2);
        let crds: ResourceSelection = "crds".parse().expect("CRDs alone");
        assert!(crds.contains("customresourcedefinitions", "apiextensions.k8s.io"));
        assert_eq!(crds.resources().len(), 1);
        let apps: ResourceSelection = "default,deployments".parse().expect("an opt-in type");
        assert!(apps.contains("deployments", "apps"));
        assert_eq!(apps.resources().len(), GENERIC_RESOURCES.len() + 1);
        let error = "pods".parse::<ResourceSelection>().expect_err("pods are not built in");
        assert!(error.to_string().contains("unknown resource \"pods\""), "{error}");
    }
}
