//! `metadata.managedFields`: one entry per manager identity (manager name, operation, subresource, and for
//! `Update` the API version), each with the set of fields it owns. Decoding, encoding in kube-apiserver's order,
//! and the identity rules.

use serde_json::{Map, Value};

use crate::fieldpath::{Path, Set};

/// Upstream's limit of `Update` entries; older ones are merged into `ancient-changes` entries.
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// The operation an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update (PUT) or a non-apply patch.
    Update,
}

impl Operation {
    /// `Apply` or `Update`, as written in managedFields.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerEntry {
    /// The field manager's name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The API version the fields are named in.
    pub api_version: String,
    /// When the manager last changed the object (RFC 3339); none for an apply that changed nothing.
    pub time: Option<String>,
    /// The subresource written through (`status`), empty for the main resource.
    pub subresource: String,
    /// The fields owned.
    pub fields: Set,
}

impl ManagerEntry {
    /// Whether this entry has the identity of (`manager`, `operation`, `subresource`, `api_version`); the API
    /// version counts for `Update` only (an applier's entry follows the version it last applied with).
    pub fn is(&self, manager: &str, operation: Operation, subresource: &str, api_version: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource == subresource
            && (operation == Operation::Apply || self.api_version == api_version)
    }

    /// How conflict messages name the entry: `"mgr"`, `"mgr" with subresource "status"`, `"mgr" using v1`.
    pub fn label(&self) -> String {
        let mut label = quote(&self.manager);
        if !self.subresource.is_empty() {
            label.push_str(&format!(" with subresource {}", quote(&self.subresource)));
        }
        if self.operation == Operation::Update {
            label.push_str(&format!(" using {}", self.api_version));
        }
        label
    }

    /// The entry as JSON, in ManagedFieldsEntry's field order.
    pub fn to_json(&self) -> Value {
        let mut map = Map::with_capacity(7);
        map.insert("manager".to_owned(), Value::from(self.manager.as_str()));
        map.insert("operation".to_owned(), Value::from(self.operation.as_str()));
        map.insert("apiVersion".to_owned(), Value::from(self.api_version.as_str()));
        if let Some(time) = &self.time {
            map.insert("time".to_owned(), Value::from(time.as_str()));
        }
        map.insert("fieldsType".to_owned(), Value::from("FieldsV1"));
        map.insert("fieldsV1".to_owned(), self.fields.to_fields_v1());
        if !self.subresource.is_empty() {
            map.insert("subresource".to_owned(), Value::from(self.subresource.as_str()));
        }
        Value::Object(map)
    }

    /// Parses one entry.
    pub fn from_json(entry: &Value) -> Result<Self, String> {
        let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let operation = match entry.get("operation").and_then(Value::as_str) {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            other => return Err(format!("invalid operation: {}", other.unwrap_or_default())),
        };
        match entry.get("fieldsType").and_then(Value::as_str) {
            Some("FieldsV1") | None => {}
            Some(other) => return Err(format!("invalid fieldsType \"{other}\"")),
        }
        Ok(Self {
            manager: text("manager"),
            operation,
            api_version: text("apiVersion"),
            time: entry.get("time").and_then(Value::as_str).map(str::to_owned),
            subresource: text("subresource"),
            fields: Set::from_fields_v1(entry.get("fieldsV1").unwrap_or(&Value::Null))?,
        })
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// The managedFields of one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagedFields {
    /// The entries, in no particular order until [`encode`](Self::encode).
    pub entries: Vec<ManagerEntry>,
}

impl ManagedFields {
    /// Parses `metadata.managedFields`. Later duplicates of an identity replace earlier ones.
    pub fn decode(entries: &[Value]) -> Result<Self, String> {
        let mut out = ManagedFields::default();
        for entry in entries {
            let entry = ManagerEntry::from_json(entry)?;
            out.entries.retain(|existing| {
                !existing.is(&entry.manager, entry.operation, &entry.subresource, &entry.api_version)
            });
            out.entries.push(entry);
        }
        Ok(out)
    }

    /// Whether a client's managedFields ask for a reset: an empty list or one empty entry, as upstream's
    /// `isResetManagedFields`.
    pub fn is_reset_request(entries: &[Value]) -> bool {
        match entries {
            [] => true,
            [only] => only.as_object().is_some_and(Map::is_empty),
            _ => false,
        }
    }

    /// The entries as JSON, sorted as kube-apiserver writes them: Apply before Update, then oldest first (no
    /// time counts as oldest), then manager, API version and subresource.
    pub fn encode(&self) -> Vec<Value> {
        let mut entries: Vec<&ManagerEntry> = self.entries.iter().filter(|e| !e.fields.is_empty()).collect();
        entries.sort_by(|p, q| {
            (
                p.operation,
                unix_seconds(p.time.as_deref()),
                &p.manager,
                &p.api_version,
                &p.subresource,
            )
                .cmp(&(
                    q.operation,
                    unix_seconds(q.time.as_deref()),
                    &q.manager,
                    &q.api_version,
                    &q.subresource,
                ))
        });
        entries.into_iter().map(ManagerEntry::to_json).collect()
    }

    /// The entry with this identity.
    pub fn find(
        &self,
        manager: &str,
        operation: Operation,
        subresource: &str,
        api_version: &str,
    ) -> Option<&ManagerEntry> {
        self.entries
            .iter()
            .find(|entry| entry.is(manager, operation, subresource, api_version))
    }

    /// Merges the oldest `Update` entries into one `ancient-changes` entry per API version until at most `max`
    /// `Update` entries remain, as upstream's cap on update managers.
    pub fn cap_update_managers(&mut self, max: usize) {
        const BUCKET: &str = "ancient-changes";
        let updates = self
            .entries
            .iter()
            .filter(|entry| entry.operation == Operation::Update)
            .count();
        if updates <= max {
            return;
        }
        let mut updaters: Vec<(String, String, String, String)> = self
            .entries
            .iter()
            .filter(|entry| entry.operation == Operation::Update)
            .map(|entry| {
                (
                    unix_seconds(entry.time.as_deref()),
                    entry.manager.clone(),
                    entry.api_version.clone(),
                    entry.subresource.clone(),
                )
            })
            .collect();
        let mut length = updaters.len();
        if length <= max {
            return;
        }
        updaters.sort();
        let mut first_of_version: Vec<(String, (String, String))> = Vec::new();
        for (_, manager, version, subresource) in updaters {
            if length <= max {
                break;
            }
            let Some(first) = first_of_version
                .iter()
                .find(|(v, _)| *v == version)
                .map(|(_, f)| f.clone())
            else {
                first_of_version.push((version, (manager, subresource)));
                continue;
            };
            let Some(position) = self
                .entries
                .iter()
                .position(|entry| entry.is(&manager, Operation::Update, &subresource, &version))
            else {
                continue;
            };
            let merged = self.entries.remove(position);
            if self.find(BUCKET, Operation::Update, "", &version).is_none() {
                if let Some(first) = self
                    .entries
                    .iter_mut()
                    .find(|entry| entry.is(&first.0, Operation::Update, &first.1, &version))
                {
                    first.manager = BUCKET.to_owned();
                    first.subresource = String::new();
                }
            }
            if let Some(bucket) = self
                .entries
                .iter_mut()
                .find(|entry| entry.is(BUCKET, Operation::Update, "", &version))
            {
                bucket.fields.union_in_place(&merged.fields);
                bucket.time = merged.time;
            }
            length -= 1;
        }
    }
}

/// Seconds of an RFC 3339 time for ordering; the times kapi writes are UTC at second precision, so their text
/// orders like their instants. No time orders first.
fn unix_seconds(time: Option<&str>) -> String {
    time.map(|t| t.trim_end_matches('Z').replace('T', " "))
        .unwrap_or_default()
}

/// Paths no managedFields entry ever holds (upstream's strip set): type meta, `metadata` itself and the
/// metadata fields the server sets.
pub fn strip_set() -> Set {
    stripped().clone()
}

/// [`strip_set`], built once.
pub(crate) fn stripped() -> &'static Set {
    static STRIPPED: std::sync::OnceLock<Set> = std::sync::OnceLock::new();
    STRIPPED.get_or_init(build_strip_set)
}

fn build_strip_set() -> Set {
    let mut set: Set = [
        Path::fields(&["apiVersion"]),
        Path::fields(&["kind"]),
        Path::fields(&["metadata"]),
    ]
    .into_iter()
    .collect();
    for field in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&Path::fields(&["metadata", field]).0);
    }
    set
}
