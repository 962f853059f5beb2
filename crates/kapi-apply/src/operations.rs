//! The two operations of the field manager: `apply` (server-side apply of a configuration) and `update`
//! (recording who changed what in a create, update or non-apply patch), as structured-merge-diff's `Updater`
//! and kube-apiserver's field-manager chain (strip metadata, times, caps) combine them.

use serde_json::Value;

use crate::{
    compare::{compare, compare_within, Comparison, Scope},
    fieldpath::{Path, Set},
    managed::{stripped, ManagedFields, ManagerEntry, Operation, MAX_UPDATE_MANAGERS},
    schema::{Model, TypeRef},
    typed::{ensure_named_fields_are_members, merge, remove_items, to_field_set},
};

/// Who writes, through which endpoint, and what the type looks like.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    /// The object's type.
    pub schema: TypeRef<'a>,
    /// The field manager.
    pub manager: &'a str,
    /// The API version the request uses (`v1`, `apps/v1`).
    pub api_version: &'a str,
    /// `status` for the status subresource, empty for the main resource.
    pub subresource: &'a str,
    /// The time to record (RFC 3339).
    pub time: &'a str,
    /// Fields this endpoint resets (`status` on a main resource with a status subresource): never owned,
    /// never compared.
    pub ignored: &'a Set,
}

/// A field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager as messages name it (`"mgr"`, `"mgr" using v1`).
    pub manager: String,
    /// The field.
    pub path: Path,
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// Fields owned by other managers would change (409 unless forced).
    Conflicts(Vec<Conflict>),
    /// The configuration cannot be merged (a duplicate key, an item without its key fields).
    Invalid(String),
}

/// kube-apiserver's message for a 409 apply conflict.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.manager, only.path
        );
    }
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for manager in managers {
        lines.push(format!("conflicts with {manager}:"));
        for conflict in conflicts.iter().filter(|c| c.manager == manager) {
            lines.push(format!("- {}", conflict.path));
        }
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

/// The result of an apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The new object; `None` when the apply changes nothing (no write, no new resourceVersion).
    pub object: Option<Value>,
    /// The managedFields after the apply.
    pub managed: ManagedFields,
}

/// The fields of every entry but `except` that the change adds or modifies (the conflicts of an apply).
fn settle_others(managed: &ManagedFields, changes: &Comparison, except: Option<usize>) -> Vec<(usize, Set)> {
    let changed = changes.modified.union(&changes.added);
    let mut conflicts = Vec::new();
    for (index, entry) in managed.entries.iter().enumerate() {
        if Some(index) == except {
            continue;
        }
        let taken = entry.fields.intersection(&changed);
        if !taken.is_empty() {
            conflicts.push((index, taken));
        }
    }
    conflicts
}

/// Takes the conflicting fields from their owners, and removed fields from every entry but `except`.
fn take_away(managed: &mut ManagedFields, conflicts: &[(usize, Set)], removed: &Set, except: Option<usize>) {
    for (index, taken) in conflicts {
        if let Some(entry) = managed.entries.get_mut(*index) {
            entry.fields.subtract(taken);
        }
    }
    if !removed.is_empty() {
        for (index, entry) in managed.entries.iter_mut().enumerate() {
            if Some(index) != except {
                entry.fields.subtract(removed);
            }
        }
    }
}

fn sorted_conflicts(managed: &ManagedFields, conflicts: &[(usize, Set)]) -> Vec<Conflict> {
    let mut by_entry: Vec<(&ManagerEntry, &Set)> = conflicts
        .iter()
        .filter_map(|(index, set)| Some((managed.entries.get(*index)?, set)))
        .collect();
    by_entry.sort_by(|(p, _), (q, _)| {
        (&p.manager, p.operation, &p.api_version, &p.subresource).cmp(&(
            &q.manager,
            q.operation,
            &q.api_version,
            &q.subresource,
        ))
    });
    by_entry
        .into_iter()
        .flat_map(|(entry, set)| {
            set.paths().into_iter().map(|path| Conflict {
                manager: entry.label(),
                path,
            })
        })
        .collect()
}

/// Server-side apply of `config` by `writer` to `live` (for a create, the type's empty object), given the live
/// object's managedFields.
pub fn apply(
    live: &Value,
    config: &Value,
    managed: &ManagedFields,
    writer: &Writer<'_>,
    force: bool,
) -> Result<Applied, ApplyError> {
    let model = Model::new(writer.schema);
    let mut managed = managed.clone();
    let merged = merge(&model, live, config, writer.schema).map_err(ApplyError::Invalid)?;
    let applied = to_field_set(&model, config, writer.schema).recursive_difference(writer.ignored);
    let own = match managed
        .entries
        .iter()
        .position(|entry| entry.is(writer.manager, Operation::Apply, writer.subresource, writer.api_version))
    {
        Some(index) => index,
        None => {
            managed.entries.push(ManagerEntry {
                manager: writer.manager.to_owned(),
                operation: Operation::Apply,
                api_version: writer.api_version.to_owned(),
                time: None,
                subresource: writer.subresource.to_owned(),
                fields: Set::new(),
            });
            managed.entries.len() - 1
        }
    };
    let last_applied = std::mem::replace(&mut managed.entries[own].fields, applied);
    managed.entries[own].api_version = writer.api_version.to_owned();
    // Nothing can be pruned when the manager still applies everything it applied last time (the general
    // algorithm returns the merged object unchanged then; skipping it saves most of an apply's work).
    let merged = if last_applied.difference(&managed.entries[own].fields).is_empty() {
        merged
    } else {
        prune(&model, &merged, &managed, &last_applied, writer.schema)
    };
    let changes = compare_within(&model, live, &merged, writer.schema, Scope::new(writer.ignored, None));
    let conflicts = settle_others(&managed, &changes, Some(own));
    if !force && !conflicts.is_empty() {
        return Err(ApplyError::Conflicts(sorted_conflicts(&managed, &conflicts)));
    }
    take_away(&mut managed, &conflicts, &changes.removed, Some(own));
    let changed = merged != *live;
    let entry = &mut managed.entries[own];
    entry.fields.subtract(stripped());
    if changed {
        entry.time = Some(writer.time.to_owned());
    }
    managed.entries.retain(|entry| !entry.fields.is_empty());
    Ok(Applied {
        object: changed.then_some(merged),
        managed,
    })
}

/// Removes from `merged` the fields the applier applied last time and no longer applies, unless another
/// manager (or the new configuration) still owns them; fields only owned through a removed parent stay.
fn prune<'a>(model: &Model<'a>, merged: &Value, managed: &ManagedFields, last_applied: &Set, ty: TypeRef<'a>) -> Value {
    let empty = || Value::Object(serde_json::Map::new());
    let last = ensure_named_fields_are_members(model, last_applied, ty);
    let pruned = remove_items(model, merged, &last, ty).unwrap_or_else(empty);
    let mut owned = Set::new();
    for entry in &managed.entries {
        owned.union_in_place(&ensure_named_fields_are_members(model, &entry.fields, ty));
    }
    let merged_fields = ensure_named_fields_are_members(model, &to_field_set(model, merged, ty), ty);
    let pruned_fields = ensure_named_fields_are_members(model, &to_field_set(model, &pruned, ty), ty);
    let unowned = merged_fields.difference(&pruned_fields.union(&owned));
    let pruned = remove_items(model, merged, &unowned, ty).unwrap_or_else(empty);
    let pruned_fields = ensure_named_fields_are_members(model, &to_field_set(model, &pruned, ty), ty);
    let dangling = merged_fields.difference(&pruned_fields).intersection(&last);
    remove_items(model, merged, &dangling, ty).unwrap_or_else(empty)
}

/// The fields a change adds or modifies (the sets are taken apart rather than copied).
fn taken_by_writer(changes: Comparison) -> Set {
    let Comparison {
        added, mut modified, ..
    } = changes;
    if modified.is_empty() {
        added
    } else {
        modified.union_owned(added);
        modified
    }
}

/// The managedFields after a create, update or non-apply patch from `live` (for a create, the type's empty
/// object) to `new`: the writer takes the fields it added or changed from everyone, removed fields leave every
/// entry, and the writer's `Update` entry gets the time when it took anything.
pub fn update(live: &Value, new: &Value, managed: &ManagedFields, writer: &Writer<'_>) -> ManagedFields {
    update_owned(live, new, managed.clone(), writer)
}

/// [`update`] of managedFields the caller no longer needs (they are changed in place rather than copied).
pub fn update_owned(live: &Value, new: &Value, mut managed: ManagedFields, writer: &Writer<'_>) -> ManagedFields {
    let model = Model::new(writer.schema);
    let taken = if managed.entries.is_empty() {
        // Nobody owns anything (a create): only what the writer takes matters, and the fields no entry holds
        // (ignored, stripped) are left out while comparing rather than collected and subtracted.
        let scope = Scope::new(writer.ignored, Some(stripped()));
        taken_by_writer(compare_within(&model, live, new, writer.schema, scope))
    } else {
        let changes = compare_within(&model, live, new, writer.schema, Scope::new(writer.ignored, None));
        let conflicts = settle_others(&managed, &changes, None);
        take_away(&mut managed, &conflicts, &changes.removed, None);
        let mut taken = taken_by_writer(changes);
        taken.subtract(stripped());
        taken
    };
    if !taken.is_empty() {
        match managed.entries.iter_mut().find(|entry| {
            entry.is(
                writer.manager,
                Operation::Update,
                writer.subresource,
                writer.api_version,
            )
        }) {
            Some(entry) => {
                entry.fields.union_in_place(&taken);
                entry.time = Some(writer.time.to_owned());
            }
            None => managed.entries.push(ManagerEntry {
                manager: writer.manager.to_owned(),
                operation: Operation::Update,
                api_version: writer.api_version.to_owned(),
                time: Some(writer.time.to_owned()),
                subresource: writer.subresource.to_owned(),
                fields: taken,
            }),
        }
    }
    managed.entries.retain(|entry| !entry.fields.is_empty());
    managed.cap_update_managers(MAX_UPDATE_MANAGERS);
    managed
}

/// The fields a client-side apply's last-applied configuration (`kubectl.kubernetes.io/last-applied-configuration`)
/// still describes truthfully: those it sets with the value the live object has. kube-apiserver lets `kubectl`'s
/// first server-side apply take these over without conflicts (the upgrade from client-side apply).
pub fn last_applied_fields(live: &Value, last_applied: &Value, ty: TypeRef<'_>) -> Set {
    let model = Model::new(ty);
    let fields = to_field_set(&model, last_applied, ty);
    let changes = compare(&model, last_applied, live, ty);
    fields
        .difference(&changes.modified)
        .difference(&changes.added)
        .difference(&changes.removed)
}

/// The annotation kubectl's client-side apply keeps its last applied configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The last-applied annotation a server-side apply of `config` by `kubectl` leaves on an object that has one
/// (kube-apiserver keeps client-side apply working after a server-side apply): the configuration without that
/// annotation, as Go encodes it.
pub fn last_applied_annotation(config: &Value) -> String {
    let mut config = config.clone();
    if let Some(annotations) = config
        .get_mut("metadata")
        .and_then(|metadata| metadata.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        annotations.shift_remove(LAST_APPLIED_ANNOTATION);
    }
    crate::gojson::encode_sorted(&config)
}

/// The field set `value` sets at type `ty` (public for tests and tools).
pub fn fields_of(value: &Value, ty: TypeRef<'_>) -> Set {
    to_field_set(&Model::new(ty), value, ty)
}
