//! Table column definitions of the built-in types, as kube-apiserver v1.36 prints them.

use crate::types::{TableColumn, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN_DESCRIPTION};

/// The columns of `resource` (plural); the default Name + Created At table for others.
pub(crate) fn columns(resource: &str) -> Vec<TableColumn> {
    let defs: &[(&str, &str, &str, i32, &str)] = match resource {
        "clusterrolebindings" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Role", "string", "", 0, "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error."),
            ("Age", "string", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
            ("Users", "string", "", 1, "Users in the clusterRoleBinding"),
            ("Groups", "string", "", 1, "Groups in the clusterRoleBinding"),
            ("ServiceAccounts", "string", "", 1, "ServiceAccounts in the clusterRoleBinding"),
        ],
        "configmaps" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Data", "string", "", 0, "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."),
            ("Age", "string", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
        ],
        "events" => &[
            ("Last Seen", "string", "", 0, "The time at which the most recent occurrence of this event was recorded."),
            ("Type", "string", "", 0, "Type of this event (Normal, Warning), new types could be added in the future"),
            ("Reason", "string", "", 0, "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
            ("Object", "string", "", 0, "The object that this event is about."),
            ("Subobject", "string", "", 1, "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object."),
            ("Source", "string", "", 1, "The component reporting this event. Should be a short machine understandable string."),
            ("Message", "string", "", 0, "A human-readable description of the status of this operation."),
            ("First Seen", "string", "", 1, "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
            ("Count", "string", "", 1, "The number of times this event has occurred."),
            ("Name", "string", "name", 1, NAME_COLUMN_DESCRIPTION),
        ],
        "leases" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Holder", "string", "", 0, "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field."),
            ("Age", "string", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
        ],
        "namespaces" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Status", "string", "", 0, "The status of the namespace"),
            ("Age", "string", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
        ],
        "roles" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Created At", "date", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
        ],
        "secrets" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Type", "string", "", 0, "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"),
            ("Data", "string", "", 0, "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"),
            ("Age", "string", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
        ],
        "serviceaccounts" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Age", "string", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
        ],
        "rolebindings" => &[
            ("Name", "string", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Role", "string", "", 0, "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error."),
            ("Age", "string", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
            ("Users", "string", "", 1, "Users in the roleBinding"),
            ("Groups", "string", "", 1, "Groups in the roleBinding"),
            ("ServiceAccounts", "string", "", 1, "ServiceAccounts in the roleBinding"),
        ],
        _ => &[],
    };
    if defs.is_empty() {
        return vec![TableColumn::name_column(), TableColumn::age_column("Created At")];
    }
    defs.iter()
        .map(|(name, type_, format, priority, description)| {
            TableColumn::new(name, type_, format, description, *priority)
        })
        .collect()
}
