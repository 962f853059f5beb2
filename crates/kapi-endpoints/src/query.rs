//! Query parameters into the registry's option structs, with kube-apiserver's 400/422 answers for bad values.

use kapi_core::{
    request_info::{first, parse_query, query_bool},
    resource_version::ListQuery,
    ApiError, BadValue, FieldError, FieldErrors, FieldPath, FieldSelector, GroupKind, LabelSelector,
};
use kapi_registry::{
    CreateOptions, DeleteOptions, FieldValidation, GetOptions, ListOptions, PatchOptions, Preconditions,
};
use serde_json::Value;

use crate::negotiate::IncludeObject;

/// Decoded query parameters, in order.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

fn options_invalid(options_kind: &str, errors: &FieldErrors) -> ApiError {
    ApiError::invalid(&GroupKind::new("meta.k8s.io", options_kind), "", errors)
}

fn parse_int(value: &str) -> Result<i64, ApiError> {
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("strconv.ParseInt: parsing {}: invalid syntax", go_quote(value))))
}

fn go_quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

impl Query {
    /// Decodes a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        Self {
            pairs: parse_query(raw.unwrap_or("")),
        }
    }

    /// The decoded pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        first(&self.pairs, key)
    }

    /// A boolean parameter, read like kube-apiserver (`false`/`0` are false, anything else present is true).
    pub fn flag(&self, key: &str) -> bool {
        query_bool(&self.pairs, key)
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// `dryRun`: absent is false; every value must be `All`.
    pub fn dry_run(&self, options_kind: &str) -> Result<bool, ApiError> {
        let values = self.all("dryRun");
        dry_run_values(&values, options_kind)
    }

    fn field_manager(&self, options_kind: &str) -> Result<Option<String>, ApiError> {
        let Some(manager) = self.get("fieldManager") else {
            return Ok(None);
        };
        let errors = kapi_core::validation::validate_field_manager(manager, &FieldPath::new("fieldManager"));
        if !errors.is_empty() {
            return Err(options_invalid(options_kind, &errors));
        }
        Ok(Some(manager.to_owned()))
    }

    fn field_validation(&self, options_kind: &str) -> Result<FieldValidation, ApiError> {
        match self.get("fieldValidation").unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Ignore" => Ok(FieldValidation::Ignore),
            "Strict" => Ok(FieldValidation::Strict),
            other => Err(options_invalid(
                options_kind,
                &FieldError::not_supported(
                    &FieldPath::new("fieldValidation"),
                    other,
                    &["", "Ignore", "Strict", "Warn"],
                )
                .into(),
            )),
        }
    }

    /// CreateOptions (and UpdateOptions, with `options_kind` `UpdateOptions`).
    pub fn create_options(&self, options_kind: &str) -> Result<CreateOptions, ApiError> {
        Ok(CreateOptions {
            dry_run: self.dry_run(options_kind)?,
            field_manager: self.field_manager(options_kind)?,
            field_validation: self.field_validation(options_kind)?,
            duplicate_fields: Vec::new(),
        })
    }

    /// PatchOptions; `apply` tells whether the patch is server-side apply (which needs a field manager and is the
    /// only one that takes `force`).
    pub fn patch_options(&self, apply: bool) -> Result<PatchOptions, ApiError> {
        const KIND: &str = "PatchOptions";
        let field_manager = self.field_manager(KIND)?;
        // An unparsable `force` is ignored, as upstream does.
        let force = match self.get("force").map(str::to_ascii_lowercase).as_deref() {
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            _ => None,
        };
        let mut errors = FieldErrors::new();
        if apply && field_manager.is_none() {
            errors.push(FieldError::required(
                &FieldPath::new("fieldManager"),
                "is required for apply patch",
            ));
        }
        if !apply && force.is_some() {
            errors.push(FieldError::forbidden(
                &FieldPath::new("force"),
                "may not be specified for non-apply patch",
            ));
        }
        if !errors.is_empty() {
            return Err(options_invalid(KIND, &errors));
        }
        Ok(PatchOptions {
            dry_run: self.dry_run(KIND)?,
            field_manager,
            field_validation: self.field_validation(KIND)?,
            force,
        })
    }

    /// GetOptions.
    pub fn get_options(&self) -> GetOptions {
        GetOptions {
            resource_version: self.get("resourceVersion").map(str::to_owned),
        }
    }

    /// ListOptions for list, watch and deletecollection; checks selectors, integers and the resourceVersion
    /// rules (422 `ListOptions.meta.k8s.io "" is invalid: ...`).
    pub fn list_options(&self, watch: bool) -> Result<ListOptions, ApiError> {
        let label_selector = self.get("labelSelector").map(str::to_owned);
        if let Some(selector) = &label_selector {
            LabelSelector::parse(selector).map_err(|error| error.to_api_error())?;
        }
        let field_selector = self.get("fieldSelector").map(str::to_owned);
        if let Some(selector) = &field_selector {
            FieldSelector::parse(selector).map_err(|error| error.to_api_error())?;
        }
        let limit = self.get("limit").map(parse_int).transpose()?;
        let timeout_seconds = self.get("timeoutSeconds").map(parse_int).transpose()?;
        let mut list_query = ListQuery::from_query(&self.pairs);
        list_query.watch = watch;
        list_query.check(true)?;
        let text = |key: &str| self.get(key).filter(|value| !value.is_empty()).map(str::to_owned);
        Ok(ListOptions {
            label_selector,
            field_selector,
            limit: limit.filter(|limit| *limit > 0),
            continue_token: text("continue"),
            resource_version: self.get("resourceVersion").map(str::to_owned),
            resource_version_match: text("resourceVersionMatch"),
            allow_watch_bookmarks: self.flag("allowWatchBookmarks"),
            send_initial_events: list_query.send_initial_events,
            timeout_seconds,
        })
    }

    /// DeleteOptions from the body (when it holds one) overlaid by the query, validated.
    pub fn delete_options(&self, body: &[u8]) -> Result<DeleteOptions, ApiError> {
        const KIND: &str = "DeleteOptions";
        let mut options = DeleteOptions::default();
        let mut dry_run_values = Vec::new();
        if !body.iter().all(u8::is_ascii_whitespace) {
            let value: Value = serde_json::from_slice(body).map_err(|error| {
                ApiError::bad_request(format!(
                    "the object provided is unrecognized (must be of type DeleteOptions): couldn't get version/kind; \
                     json parse error: {}",
                    crate::body::go_json_error(&error, body)
                ))
            })?;
            options.grace_period_seconds = value.get("gracePeriodSeconds").and_then(Value::as_i64);
            options.propagation_policy = value
                .get("propagationPolicy")
                .and_then(Value::as_str)
                .map(str::to_owned);
            options.orphan_dependents = value.get("orphanDependents").and_then(Value::as_bool);
            if let Some(preconditions) = value.get("preconditions") {
                options.preconditions = Preconditions {
                    uid: preconditions.get("uid").and_then(Value::as_str).map(str::to_owned),
                    resource_version: preconditions
                        .get("resourceVersion")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                };
            }
            if let Some(values) = value.get("dryRun").and_then(Value::as_array) {
                dry_run_values = values.iter().filter_map(Value::as_str).map(str::to_owned).collect();
            }
        }
        if let Some(grace) = self.get("gracePeriodSeconds") {
            options.grace_period_seconds = Some(parse_int(grace)?);
        }
        if let Some(policy) = self.get("propagationPolicy") {
            options.propagation_policy = Some(policy.to_owned());
        }
        if self.get("orphanDependents").is_some() {
            options.orphan_dependents = Some(self.flag("orphanDependents"));
        }
        let query_dry_run = self.all("dryRun");
        if !query_dry_run.is_empty() {
            dry_run_values = query_dry_run;
        }
        options.dry_run = dry_run_values_checked(&dry_run_values, KIND)?;
        options.validate()?;
        Ok(options)
    }

    /// `includeObject` of a Table request, with upstream's 400.
    pub fn include_object(&self) -> Result<IncludeObject, ApiError> {
        match self.get("includeObject").unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "Object" => Ok(IncludeObject::Object),
            "None" => Ok(IncludeObject::None),
            other => Err(ApiError::bad_request(format!(
                "Unable to convert to Table as requested: includeObject: Invalid value: {}: must be 'Metadata', \
                 'Object', 'None', or empty",
                go_quote(other)
            ))),
        }
    }
}

fn dry_run_values_checked(values: &[String], options_kind: &str) -> Result<bool, ApiError> {
    dry_run_values(values, options_kind)
}

fn dry_run_values(values: &[String], options_kind: &str) -> Result<bool, ApiError> {
    if values.is_empty() {
        return Ok(false);
    }
    if values.iter().all(|value| value == "All") {
        return Ok(true);
    }
    let rendered = Value::Array(values.iter().map(|value| Value::String(value.clone())).collect());
    Err(options_invalid(
        options_kind,
        &FieldError::not_supported(&FieldPath::new("dryRun"), BadValue::Json(rendered), &["All"]).into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(raw: &str) -> Query {
        Query::parse(Some(raw))
    }

    #[test]
    fn dry_run_accepts_only_all() {
        assert_eq!(query("dryRun=All").dry_run("CreateOptions"), Ok(true));
        assert_eq!(query("").dry_run("CreateOptions"), Ok(false));
        let error = query("dryRun=Bogus").dry_run("CreateOptions").expect_err("Bogus");
        assert_eq!(
            error.message(),
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Bogus\"]: supported values: \
             \"All\""
        );
    }

    #[test]
    fn field_validation_and_manager() {
        let error = query("fieldValidation=Sometimes")
            .create_options("CreateOptions")
            .expect_err("unsupported");
        assert_eq!(
            error.message(),
            "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Sometimes\": supported \
             values: \"\", \"Ignore\", \"Strict\", \"Warn\""
        );
        let long = format!("fieldManager={}", "x".repeat(129));
        let error = query(&long).create_options("CreateOptions").expect_err("too long");
        assert_eq!(
            error.message(),
            "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes"
        );
        let options = query("fieldValidation=Strict&fieldManager=m")
            .create_options("CreateOptions")
            .expect("valid");
        assert_eq!(options.field_validation, FieldValidation::Strict);
        assert_eq!(options.field_manager.as_deref(), Some("m"));
    }

    #[test]
    fn patch_options_rules() {
        let error = query("").patch_options(true).expect_err("apply needs a manager");
        assert_eq!(
            error.message(),
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        );
        let error = query("fieldManager=a&force=true")
            .patch_options(false)
            .expect_err("force");
        assert_eq!(
            error.message(),
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
        );
    }

    #[test]
    fn list_options_validate() {
        let error = query("labelSelector=env%20in%20prod")
            .list_options(false)
            .expect_err("bad selector");
        assert_eq!(
            error.message(),
            "unable to parse requirement: found 'prod' expected: '('"
        );
        let error = query("resourceVersionMatch=Exact")
            .list_options(false)
            .expect_err("rvm without rv");
        assert_eq!(error.code(), 422);
        let options = query("limit=2&continue=abc&watch=1&allowWatchBookmarks=true&timeoutSeconds=5")
            .list_options(true)
            .expect("valid");
        assert_eq!(options.limit, Some(2));
        assert_eq!(options.continue_token.as_deref(), Some("abc"));
        assert!(options.allow_watch_bookmarks);
        assert_eq!(options.timeout_seconds, Some(5));
        assert_eq!(query("limit=x").list_options(false).expect_err("int").code(), 400);
    }

    #[test]
    fn delete_options_from_body_and_query() {
        let body = br#"{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"u1"},"gracePeriodSeconds":5}"#;
        let options = query("propagationPolicy=Orphan").delete_options(body).expect("valid");
        assert_eq!(options.preconditions.uid.as_deref(), Some("u1"));
        assert_eq!(options.grace_period_seconds, Some(5));
        assert_eq!(options.propagation_policy.as_deref(), Some("Orphan"));
        let error = query("propagationPolicy=Sometimes")
            .delete_options(b"")
            .expect_err("bad policy");
        assert_eq!(
            error.message(),
            "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sometimes\": \
             supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
        );
    }

    #[test]
    fn include_object_values() {
        assert_eq!(query("").include_object(), Ok(IncludeObject::Metadata));
        assert_eq!(query("includeObject=None").include_object(), Ok(IncludeObject::None));
        let error = query("includeObject=Bogus").include_object().expect_err("bogus");
        assert_eq!(
            error.message(),
            "Unable to convert to Table as requested: includeObject: Invalid value: \"Bogus\": must be 'Metadata', \
             'Object', 'None', or empty"
        );
    }
}
