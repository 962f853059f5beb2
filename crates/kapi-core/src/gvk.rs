//! API group, version, kind and resource names.
//!
//! The core group is the empty string: `v1` is group `""` version `v1`, `apps/v1` is group `apps` version `v1`. The
//! `Display` forms follow upstream because they appear in messages: a [`GroupResource`] prints `roles.rbac.authorization.k8s.io`
//! (`configmaps` for the core group), a [`GroupKind`] prints `Role.rbac.authorization.k8s.io`, a
//! [`GroupVersionKind`] prints `apps/v1, Kind=Deployment`.

use std::fmt;

/// An `apiVersion` with more than one `/`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected GroupVersion string: {0}")]
pub struct ParseGroupVersionError(pub String);

/// An API group and version, the value of `apiVersion`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersion {
    /// The group; empty for the core group.
    pub group: String,
    /// The version, e.g. `v1`.
    pub version: String,
}

impl GroupVersion {
    /// A group version from its parts.
    pub fn new(group: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
        }
    }

    /// Parses an `apiVersion`: `v1` → core `v1`, `apps/v1` → `apps` `v1`; `""` and `"/"` give the empty value.
    pub fn parse(api_version: &str) -> Result<Self, ParseGroupVersionError> {
        if api_version.is_empty() || api_version == "/" {
            return Ok(Self::default());
        }
        match api_version.split_once('/') {
            None => Ok(Self::new("", api_version)),
            Some((group, version)) if !version.contains('/') => Ok(Self::new(group, version)),
            Some(_) => Err(ParseGroupVersionError(api_version.to_owned())),
        }
    }

    /// The `apiVersion` string: `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        self.to_string()
    }

    /// Whether this is the empty group version.
    pub fn is_empty(&self) -> bool {
        self.group.is_empty() && self.version.is_empty()
    }

    /// This group version with a kind.
    pub fn with_kind(&self, kind: impl Into<String>) -> GroupVersionKind {
        GroupVersionKind {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: kind.into(),
        }
    }

    /// This group version with a resource.
    pub fn with_resource(&self, resource: impl Into<String>) -> GroupVersionResource {
        GroupVersionResource {
            group: self.group.clone(),
            version: self.version.clone(),
            resource: resource.into(),
        }
    }
}

impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.version)
        } else {
            write!(f, "{}/{}", self.group, self.version)
        }
    }
}

/// A group, version and kind: the type of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersionKind {
    /// The group; empty for the core group.
    pub group: String,
    /// The version.
    pub version: String,
    /// The kind, e.g. `ConfigMap`.
    pub kind: String,
}

impl GroupVersionKind {
    /// A group version kind from its parts.
    pub fn new(group: impl Into<String>, version: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Reads `apiVersion` and `kind` of an object; `Err` when `apiVersion` is malformed.
    pub fn from_api_version_and_kind(api_version: &str, kind: &str) -> Result<Self, ParseGroupVersionError> {
        Ok(GroupVersion::parse(api_version)?.with_kind(kind))
    }

    /// The group version part.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group.clone(), self.version.clone())
    }

    /// The group kind part.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.clone(), self.kind.clone())
    }

    /// The `apiVersion` and `kind` fields for an object of this type.
    pub fn to_api_version_and_kind(&self) -> (String, String) {
        (self.group_version().api_version(), self.kind.clone())
    }
}

impl fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}, Kind={}", self.group, self.version, self.kind)
    }
}

/// A group, version and resource: what a URL addresses (`/apis/apps/v1/deployments`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersionResource {
    /// The group; empty for the core group.
    pub group: String,
    /// The version.
    pub version: String,
    /// The resource, lower-case plural, e.g. `configmaps`.
    pub resource: String,
}

impl GroupVersionResource {
    /// A group version resource from its parts.
    pub fn new(group: impl Into<String>, version: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
        }
    }

    /// The group version part.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group.clone(), self.version.clone())
    }

    /// The group resource part.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.group.clone(), self.resource.clone())
    }
}

impl fmt::Display for GroupVersionResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}, Resource={}", self.group, self.version, self.resource)
    }
}

/// A group and resource, the "qualified resource" named in NotFound, AlreadyExists, Conflict and Forbidden messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupResource {
    /// The group; empty for the core group.
    pub group: String,
    /// The resource, e.g. `configmaps` (some upstream messages put a kind here instead).
    pub resource: String,
}

impl GroupResource {
    /// A group resource from its parts.
    pub fn new(group: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            resource: resource.into(),
        }
    }

    /// Whether both parts are empty.
    pub fn is_empty(&self) -> bool {
        self.group.is_empty() && self.resource.is_empty()
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// A group and kind, the "qualified kind" named in Invalid messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKind {
    /// The group; empty for the core group.
    pub group: String,
    /// The kind, e.g. `ConfigMap`.
    pub kind: String,
}

impl GroupKind {
    /// A group kind from its parts.
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_api_versions() {
        let cases = [
            ("v1", Some(("", "v1"))),
            ("apps/v1", Some(("apps", "v1"))),
            (
                "rbac.authorization.k8s.io/v1",
                Some(("rbac.authorization.k8s.io", "v1")),
            ),
            ("", Some(("", ""))),
            ("/", Some(("", ""))),
            ("apps/", Some(("apps", ""))),
            ("a/b/c", None),
        ];
        for (input, expected) in cases {
            let parsed = GroupVersion::parse(input);
            match expected {
                Some((group, version)) => assert_eq!(parsed, Ok(GroupVersion::new(group, version)), "{input}"),
                None => assert_eq!(
                    parsed.map_err(|error| error.to_string()),
                    Err("unexpected GroupVersion string: a/b/c".to_owned())
                ),
            }
        }
    }

    #[test]
    fn formats_like_upstream() {
        assert_eq!(GroupVersion::new("", "v1").api_version(), "v1");
        assert_eq!(GroupVersion::new("apps", "v1").to_string(), "apps/v1");
        assert_eq!(
            GroupVersionKind::new("apps", "v1", "Deployment").to_string(),
            "apps/v1, Kind=Deployment"
        );
        // patch_apply_invalid_bodies: "invalid object type: /, Kind="
        assert_eq!(GroupVersionKind::default().to_string(), "/, Kind=");
        assert_eq!(
            GroupVersionResource::new("", "v1", "pods").to_string(),
            "/v1, Resource=pods"
        );
        assert_eq!(GroupResource::new("", "configmaps").to_string(), "configmaps");
        assert_eq!(
            GroupResource::new("rbac.authorization.k8s.io", "roles").to_string(),
            "roles.rbac.authorization.k8s.io"
        );
        assert_eq!(
            GroupKind::new("coordination.k8s.io", "Lease").to_string(),
            "Lease.coordination.k8s.io"
        );
        assert_eq!(GroupKind::new("", "ConfigMap").to_string(), "ConfigMap");
        // auth_access_reviews: an empty kind still gets the group suffix.
        assert_eq!(
            GroupKind::new("authorization.k8s.io", "").to_string(),
            ".authorization.k8s.io"
        );
    }

    #[test]
    fn converts_between_forms() {
        let gvk = GroupVersionKind::from_api_version_and_kind("apps/v1", "Deployment").expect("valid apiVersion");
        assert_eq!(gvk.group_version(), GroupVersion::new("apps", "v1"));
        assert_eq!(gvk.group_kind(), GroupKind::new("apps", "Deployment"));
        assert_eq!(
            gvk.to_api_version_and_kind(),
            ("apps/v1".to_owned(), "Deployment".to_owned())
        );
        let gvr = GroupVersion::new("", "v1").with_resource("configmaps");
        assert_eq!(gvr.group_resource(), GroupResource::new("", "configmaps"));
        assert_eq!(
            gvr.group_version().with_kind("ConfigMap").to_string(),
            "/v1, Kind=ConfigMap"
        );
        assert!(GroupVersionKind::from_api_version_and_kind("a/b/c", "X").is_err());
        assert!(GroupVersion::default().is_empty());
        assert!(GroupResource::default().is_empty());
    }
}
