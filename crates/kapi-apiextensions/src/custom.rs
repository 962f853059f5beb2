//! The strategy of one served version of a CRD's custom resources.

use std::sync::Arc;

use kapi_cel::CompiledValidations;
use kapi_core::{validation::NameRule, ApiError, FieldErrors};
use kapi_crd_schema::Structural;
use kapi_openapi::{Definitions, SchemaNode};
use kapi_registry::{
    validate_metadata, validate_metadata_update, FieldsShape, ResourceInfo, Strategy, TableColumn,
    CREATION_TIMESTAMP_DESCRIPTION,
};
use serde_json::{json, Value};

use crate::{
    conversion::{Converter, NoneConverter},
    crd::{storage_version, versions},
    jsonpath::{self, Step},
    openapi,
};

/// An `additionalPrinterColumns` entry.
#[derive(Debug, Clone)]
struct PrinterColumn {
    steps: Option<Vec<Step>>,
    type_: String,
}

/// The paths of a CRD version's `scale` subresource.
#[derive(Debug, Clone)]
pub struct ScalePaths {
    /// `specReplicasPath`, e.g. `.spec.replicas`.
    pub spec_replicas: Vec<Step>,
    /// `statusReplicasPath`, e.g. `.status.replicas`.
    pub status_replicas: Vec<Step>,
    /// `labelSelectorPath`, e.g. `.status.selector`.
    pub label_selector: Option<Vec<Step>>,
}

/// One served version of a CRD: its [`ResourceInfo`], schema, subresources and printer columns.
pub struct CustomResource {
    info: ResourceInfo,
    crd_name: String,
    storage_version: String,
    schema: Option<Value>,
    structural: Option<Structural>,
    rules: Option<CompiledValidations>,
    definitions: Definitions,
    status_subresource: bool,
    scale: Option<ScalePaths>,
    /// The scale paths as written (spec replicas, status replicas, label selector), for validation.
    scale_paths: Option<(String, String, Option<String>)>,
    columns: Vec<PrinterColumn>,
    selectable: Vec<(String, Vec<Step>)>,
    converter: Arc<dyn Converter>,
    /// The other versions' definitions (apiVersion, definitions, definition name), kept when the converter may
    /// rename fields: managedFields entries written in them are compared in their own version.
    other_versions: Vec<(String, Definitions, String)>,
    deprecation_warning: Option<String>,
    /// Whether reading what this version writes gives it back unchanged (see
    /// [`Strategy::stored_form_is_api_form`]).
    stored_form_is_api_form: bool,
}

impl std::fmt::Debug for CustomResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomResource")
            .field("crd", &self.crd_name)
            .field("version", &self.info.version)
            .finish_non_exhaustive()
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

impl CustomResource {
    /// The strategy of version `version` of `crd` (a CRD object as stored), converting through conversion
    /// strategy `None`. `None` when the CRD has no such version.
    pub fn from_crd(crd: &Value, version: &str) -> Option<Self> {
        let group = text(crd, "/spec/group");
        Self::with_converter(crd, version, Arc::new(NoneConverter::new(group)))
    }

    /// Like [`from_crd`](Self::from_crd) with a converter between the CRD's versions (conversion webhooks).
    pub fn with_converter(crd: &Value, version: &str, converter: Arc<dyn Converter>) -> Option<Self> {
        let served = versions(crd)
            .iter()
            .find(|candidate| candidate.get("name").and_then(Value::as_str) == Some(version))?;
        let group = text(crd, "/spec/group").to_owned();
        let names = served_names(crd).clone();
        let plural = text(&names, "/plural").to_owned();
        let kind = text(&names, "/kind").to_owned();
        let list_kind = match text(&names, "/listKind") {
            "" => format!("{kind}List"),
            list_kind => list_kind.to_owned(),
        };
        let singular = match text(&names, "/singular") {
            "" => kind.to_lowercase(),
            singular => singular.to_owned(),
        };
        let status_subresource = served.pointer("/subresources/status").is_some();
        let scale = served.pointer("/subresources/scale").and_then(|scale| {
            Some(ScalePaths {
                spec_replicas: jsonpath::parse(scale.get("specReplicasPath")?.as_str()?)?,
                status_replicas: jsonpath::parse(scale.get("statusReplicasPath")?.as_str()?)?,
                label_selector: scale
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .and_then(jsonpath::parse),
            })
        });
        let scale_paths = served.pointer("/subresources/scale").map(|scale| {
            (
                text(scale, "/specReplicasPath").to_owned(),
                text(scale, "/statusReplicasPath").to_owned(),
                scale
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            )
        });
        let mut subresources = Vec::new();
        if status_subresource {
            subresources.push("status".to_owned());
        }
        if scale.is_some() {
            subresources.push("scale".to_owned());
        }
        let (table_columns, columns) = printer_columns(served);
        let selectable = served
            .get("selectableFields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|field| {
                let path = field.get("jsonPath")?.as_str()?;
                Some((jsonpath::field_name(path), jsonpath::parse(path)?))
            })
            .collect();
        let schema = served.pointer("/schema/openAPIV3Schema").cloned();
        let definition = kapi_crd_schema::definition_name(&group, version, &kind);
        let info = ResourceInfo {
            group: group.clone(),
            version: version.to_owned(),
            resource: plural.clone(),
            kind: kind.clone(),
            list_kind: list_kind.clone(),
            singular,
            short_names: strings(names.get("shortNames")),
            categories: strings(names.get("categories")),
            namespaced: text(crd, "/spec/scope") != "Cluster",
            // In the order apiextensions-apiserver lists them in discovery.
            verbs: [
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ]
            .map(str::to_owned)
            .to_vec(),
            subresources,
            table_columns,
            openapi_definition: Some(definition.clone()),
            storage_prefix: format!("/registry/{group}/{plural}/"),
        };
        let structural = schema.as_ref().and_then(|schema| Structural::from_schema(schema).ok());
        // A CRD whose rules do not compile was refused when it was written; none left means no rules.
        let rules = schema
            .as_ref()
            .and_then(|schema| kapi_cel::compile(schema, &kapi_core::FieldPath::nil()).ok())
            .filter(|rules| !rules.is_empty());
        let selectable_paths = served
            .get("selectableFields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|field| Some(field.get("jsonPath")?.as_str()?.to_owned()))
            .collect();
        let definitions = openapi::definitions(&info, structural.as_ref(), selectable_paths);
        let other_versions = if converter.renames_fields() {
            other_version_definitions(crd, &info)
        } else {
            Vec::new()
        };
        let deprecation_warning = (served.get("deprecated").and_then(Value::as_bool) == Some(true)).then(|| {
            served
                .get("deprecationWarning")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{group}/{version} {kind} is deprecated"))
        });
        let storage_version = storage_version(crd).unwrap_or(version).to_owned();
        // What this version writes is stored in its own version (no conversion either way) and is already
        // defaulted and pruned: every write defaults and prunes its object, or changes the metadata of an object
        // read back (itself defaulted and pruned). What the store drops or sets after defaulting (a status
        // dropped on create or update, metadata) would come back defaulted when read if it had a default.
        let stored_form_is_api_form =
            storage_version == version && !schema.as_ref().is_some_and(defaults_fields_the_store_writes);
        Some(Self {
            info,
            crd_name: kapi_core::meta::name(crd).unwrap_or_default().to_owned(),
            storage_version,
            schema,
            structural,
            rules,
            definitions,
            status_subresource,
            scale,
            scale_paths,
            columns,
            selectable,
            converter,
            other_versions,
            deprecation_warning,
            stored_form_is_api_form,
        })
    }

    /// The CRD's name (`<plural>.<group>`).
    pub fn crd_name(&self) -> &str {
        &self.crd_name
    }

    /// The version objects are stored in.
    pub fn storage_version(&self) -> &str {
        &self.storage_version
    }

    /// The `scale` subresource's paths, when the version has one.
    pub fn scale(&self) -> Option<&ScalePaths> {
        self.scale.as_ref()
    }

    /// The Warning a deprecated version's requests carry.
    pub fn deprecation_warning(&self) -> Option<&str> {
        self.deprecation_warning.as_deref()
    }

    /// The version's `openAPIV3Schema`.
    pub fn openapi_v3_schema(&self) -> Option<&Value> {
        self.schema.as_ref()
    }

    /// Schema, scale, embedded-resource, list-type and CEL validation, in kube-apiserver's order; CEL rules
    /// are skipped (with upstream's note) when the schema already found a blocking problem.
    fn validate_custom(&self, obj: &Value, old: Option<&Value>) -> FieldErrors {
        let mut errors = FieldErrors::new();
        let status_write = old.is_some_and(|old| self.is_status_write(obj, old));
        match (&self.structural, status_write) {
            // The status strategy validates the status against its own schema, so messages name fields
            // relative to it (`status.phase: ... phase in body must be ...`).
            (Some(structural), true) => {
                if let (Some(status_schema), Some(status)) = (structural.property("status"), obj.get("status")) {
                    errors.append(status_schema.validate_schema_at(&kapi_core::FieldPath::new("status"), status));
                }
            }
            (Some(structural), false) => errors.append(structural.validate_schema(obj)),
            (None, _) => {}
        }
        if let Some(scale) = &self.scale_paths {
            errors.append(kapi_crd_schema::validate_scale(
                obj,
                &scale.0,
                &scale.1,
                scale.2.as_deref(),
            ));
        }
        if let Some(structural) = &self.structural {
            errors.append(structural.validate_embedded_resources(obj));
            errors.append(structural.validate_list_types(obj));
        }
        if let Some(rules) = &self.rules {
            match kapi_crd_schema::blocking_error(&errors) {
                Some(blocking) => errors.push(blocking),
                None => errors.append(rules.validate(obj, old)),
            }
        }
        errors
    }

    /// Whether an update changes only the status (and metadata): a write through the `status` subresource,
    /// since with that subresource the main resource's writes keep the stored status.
    fn is_status_write(&self, new: &Value, old: &Value) -> bool {
        let rest = |object: &Value| {
            object
                .as_object()
                .map(|map| {
                    map.iter()
                        .filter(|(key, _)| !matches!(key.as_str(), "metadata" | "status"))
                        .map(|(key, value)| (key.clone(), value.clone()))
                        .collect::<serde_json::Map<String, Value>>()
                })
                .unwrap_or_default()
        };
        self.status_subresource && new.get("status") != old.get("status") && rest(new) == rest(old)
    }

    fn api_version_of(&self, version: &str) -> String {
        format!("{}/{version}", self.info.group)
    }

    /// `obj` in `version`; a failed conversion is kube-apiserver's bare 500 with the converter's message.
    fn try_convert_to(&self, obj: Value, version: &str) -> Result<Value, ApiError> {
        let wanted = self.api_version_of(version);
        if obj.get("apiVersion").and_then(Value::as_str) == Some(wanted.as_str()) {
            return Ok(obj);
        }
        self.converter
            .convert(obj, version)
            .map_err(|message| ApiError::unknown(500, message))
    }

    fn convert_to(&self, obj: Value, version: &str) -> Value {
        let wanted = self.api_version_of(version);
        if obj.get("apiVersion").and_then(Value::as_str) == Some(wanted.as_str()) {
            return obj;
        }
        match self.converter.convert(obj.clone(), version) {
            Ok(converted) => converted,
            Err(error) => {
                tracing::warn!(crd = %self.crd_name, %error, "conversion failed; serving the object unconverted");
                obj
            }
        }
    }
}

/// Whether `schema` defaults the status or anything in metadata: fields the store removes or sets after
/// defaulting a write.
fn defaults_fields_the_store_writes(schema: &Value) -> bool {
    let status_default = schema.pointer("/properties/status/default").is_some();
    status_default || schema.pointer("/properties/metadata").is_some_and(mentions_default)
}

/// Whether a `default` appears anywhere in `schema` (also a property named so: a false yes only costs speed).
fn mentions_default(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key == "default" || mentions_default(value)),
        Value::Array(items) => items.iter().any(mentions_default),
        _ => false,
    }
}

/// The names a CRD's resources are served under: `status.acceptedNames` as kube-apiserver serves them (an
/// established CRD edited to a name another CRD holds keeps the names it had), the requested `spec.names`
/// when none are accepted yet (a CRD served without the controller).
pub(crate) fn served_names(crd: &Value) -> &Value {
    match crd.pointer("/status/acceptedNames") {
        Some(accepted) if !text(accepted, "/plural").is_empty() && !text(accepted, "/kind").is_empty() => accepted,
        _ => crd.pointer("/spec/names").unwrap_or(&Value::Null),
    }
}

/// The definitions of `crd`'s versions other than `info`'s (apiVersion, definitions, definition name).
fn other_version_definitions(crd: &Value, info: &ResourceInfo) -> Vec<(String, Definitions, String)> {
    versions(crd)
        .iter()
        .filter_map(|other| {
            let name = other.get("name")?.as_str()?;
            if name == info.version {
                return None;
            }
            let structural = other
                .pointer("/schema/openAPIV3Schema")
                .and_then(|schema| Structural::from_schema(schema).ok());
            let definition = kapi_crd_schema::definition_name(&info.group, name, &info.kind);
            let mut other_info = info.clone();
            other_info.version = name.to_owned();
            other_info.openapi_definition = Some(definition.clone());
            let definitions = openapi::definitions(&other_info, structural.as_ref(), Vec::new());
            Some((format!("{}/{name}", info.group), definitions, definition))
        })
        .collect()
}

fn printer_columns(served: &Value) -> (Vec<TableColumn>, Vec<PrinterColumn>) {
    let mut table = vec![TableColumn::name_column()];
    let mut columns = Vec::new();
    let declared = served
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if declared.is_empty() {
        table.push(TableColumn::age_column("Age"));
        columns.push(PrinterColumn {
            steps: jsonpath::parse(".metadata.creationTimestamp"),
            type_: "date".to_owned(),
        });
        let _ = CREATION_TIMESTAMP_DESCRIPTION;
        return (table, columns);
    }
    for column in declared {
        let path = text(&column, "/jsonPath");
        let description = match text(&column, "/description") {
            "" => format!("Custom resource definition column (in JSONPath format): {path}"),
            description => description.to_owned(),
        };
        let type_ = text(&column, "/type").to_owned();
        table.push(TableColumn::new(
            text(&column, "/name"),
            &type_,
            text(&column, "/format"),
            &description,
            column.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32,
        ));
        columns.push(PrinterColumn {
            steps: jsonpath::parse(path),
            type_,
        });
    }
    (table, columns)
}

/// A Table cell: scalars as they are, dates as ages, anything else as JSON text.
fn cell(column: &PrinterColumn, obj: &Value) -> Value {
    let Some(value) = column.steps.as_deref().and_then(|steps| jsonpath::lookup(obj, steps)) else {
        return Value::Null;
    };
    match (column.type_.as_str(), value) {
        ("date", Value::String(timestamp)) => kapi_registry::util::timestamp_age(Some(timestamp)),
        (_, Value::Object(_) | Value::Array(_)) => Value::String(value.to_string()),
        _ => value.clone(),
    }
}

/// A selectable field's value as field selectors compare it.
fn selector_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

fn shape_of(schema: &Value, path: &str, shape: &mut FieldsShape) {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            if path.is_empty() && name == "metadata" {
                continue;
            }
            shape_of(property, &join(name), shape);
        }
    }
    if schema.get("additionalProperties").is_some_and(Value::is_object) && !path.is_empty() {
        shape.maps.push(path.to_owned());
    }
    if schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic") {
        shape.atomic.push(path.to_owned());
    }
    match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => shape.sets.push(path.to_owned()),
        Some("map") => shape
            .keyed_lists
            .push((path.to_owned(), strings(schema.get("x-kubernetes-list-map-keys")))),
        _ => {}
    }
}

impl Strategy for CustomResource {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Dns1123Subdomain
    }

    fn stored_form_is_api_form(&self) -> bool {
        self.stored_form_is_api_form
    }

    fn has_generation(&self) -> bool {
        true
    }

    fn has_status_subresource(&self) -> bool {
        self.status_subresource
    }

    fn default(&self, obj: &mut Value) {
        if let Some(structural) = &self.structural {
            structural.apply_defaults(obj);
            // Unknown fields were reported (unknown_fields) before this; what is left to drop here are
            // nulls the schema does not allow.
            structural.prune(obj);
        }
    }

    fn prepare_for_create(&self, obj: &mut Value) {
        if self.status_subresource {
            if let Some(map) = obj.as_object_mut() {
                map.shift_remove("status");
            }
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        if self.status_subresource {
            // The store carries an existing status over; with none yet, a status sent to the main resource
            // is dropped too, as upstream (only /status writes it).
            if old.get("status").is_none() {
                if let Some(map) = new.as_object_mut() {
                    map.shift_remove("status");
                }
            }
            return;
        }
        // Without a status subresource every change but metadata counts (the store counts all but metadata
        // and status).
        if new.get("status") == old.get("status") {
            return;
        }
        let previous = kapi_core::meta::generation(old).unwrap_or(1);
        if kapi_core::meta::generation(new).unwrap_or(previous) == previous {
            let _ = kapi_core::meta::set_generation(new, previous + 1);
        }
    }

    fn validate_create(&self, obj: &Value) -> FieldErrors {
        let mut errors = validate_metadata(obj, self.info.namespaced, self.name_rule());
        errors.append(self.validate_custom(obj, None));
        errors
    }

    fn validate_update(&self, new: &Value, old: &Value) -> FieldErrors {
        let mut errors = validate_metadata_update(new, old);
        errors.append(validate_metadata(new, self.info.namespaced, self.name_rule()));
        errors.append(self.validate_custom(new, Some(old)));
        errors
    }

    fn warnings(&self, _obj: &Value) -> Vec<String> {
        self.deprecation_warning.iter().cloned().collect()
    }

    fn request_warnings(&self) -> Vec<String> {
        self.deprecation_warning.iter().cloned().collect()
    }

    fn list_items_keep_type(&self) -> bool {
        true
    }

    fn selectable_fields(&self, obj: &Value) -> Vec<(String, String)> {
        self.selectable
            .iter()
            .map(|(name, steps)| (name.clone(), selector_text(jsonpath::lookup(obj, steps))))
            .collect()
    }

    fn table_row(&self, obj: &Value) -> Vec<Value> {
        let mut row = vec![json!(kapi_core::meta::name(obj).unwrap_or_default())];
        row.extend(self.columns.iter().map(|column| cell(column, obj)));
        row
    }

    fn unknown_fields(&self, obj: &Value) -> Vec<String> {
        match &self.structural {
            Some(structural) => structural.prune(&mut obj.clone()),
            None => Vec::new(),
        }
    }

    fn take_unknown_fields(&self, obj: &mut Value) -> Vec<String> {
        // Pruned in place, not a copy: the same fields as the paths unknown_fields reports (also those a path
        // names ambiguously, a key with a dot or a map key).
        match &self.structural {
            Some(structural) => structural.prune_unknown(obj),
            None => Vec::new(),
        }
    }

    fn read_stored(&self, obj: Value) -> Value {
        let mut obj = self.convert_to(obj, &self.info.version);
        // Defaults added to the schema after an object was written apply when it is read.
        self.default(&mut obj);
        obj
    }

    fn prepare_stored(&self, obj: Value) -> Value {
        self.convert_to(obj, &self.storage_version)
    }

    fn try_read_stored(&self, obj: Value) -> Result<Value, ApiError> {
        let mut obj = self.try_convert_to(obj, &self.info.version)?;
        self.default(&mut obj);
        Ok(obj)
    }

    fn try_prepare_stored(&self, obj: Value) -> Result<Value, ApiError> {
        self.try_convert_to(obj, &self.storage_version)
    }

    fn in_version_for_managed_fields(
        &self,
        obj: &Value,
        api_version: &str,
    ) -> Option<Result<(Value, SchemaNode<'_>), ApiError>> {
        let (_, definitions, definition) = self.other_versions.iter().find(|(other, _, _)| other == api_version)?;
        let schema = SchemaNode::definition(definitions, definition)?;
        let version = api_version.rsplit_once('/').map_or(api_version, |(_, version)| version);
        // Without its managedFields, as kube-apiserver's field manager converts it.
        let mut obj = obj.clone();
        if let Some(metadata) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.shift_remove("managedFields");
        }
        Some(self.try_convert_to(obj, version).map(|converted| (converted, schema)))
    }

    fn try_api_form(&self, stored: Value) -> Result<Value, ApiError> {
        // Straight from the version it was stored in: one conversion (one webhook call) per object, as
        // kube-apiserver's storage decoder.
        self.try_read_stored(stored)
    }

    fn fields_shape(&self) -> FieldsShape {
        let mut shape = FieldsShape::default();
        if let Some(schema) = &self.schema {
            shape_of(schema, "", &mut shape);
        }
        shape
    }

    fn scale_paths(&self) -> Option<(String, String, Option<String>)> {
        self.scale_paths.clone()
    }

    fn supports_strategic_merge_patch(&self) -> bool {
        // Custom resource schemas carry no patch strategies or merge keys.
        false
    }

    fn schema(&self) -> Option<SchemaNode<'_>> {
        SchemaNode::definition(&self.definitions, self.info.openapi_definition.as_deref()?)
    }
}
