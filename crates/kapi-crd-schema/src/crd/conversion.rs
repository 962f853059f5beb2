//! `spec.conversion` of a CRD: the strategy, and for `Webhook` the client config (a URL or a service reference)
//! and the ConversionReview versions, at the internal form's paths (`spec.conversion.webhookClientConfig`).

use kapi_core::{
    validation::{is_dns1035_label, is_dns1123_subdomain},
    BadValue, FieldError, FieldErrors, FieldPath,
};
use serde_json::{Map, Value};

use super::spec::enum_strings;

pub(crate) fn validate_conversion(
    conversion: Option<&Value>,
    preserve_unknown_fields: bool,
    spec_path: &FieldPath,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(conversion) = conversion.and_then(Value::as_object) else {
        return errors;
    };
    let path = spec_path.child("conversion");
    let strategy = conversion.get("strategy").and_then(Value::as_str).unwrap_or_default();
    if strategy != "None" && preserve_unknown_fields {
        errors.push(FieldError::invalid(
            &path.child("strategy"),
            strategy,
            "must be None if spec.preserveUnknownFields is true",
        ));
    }
    errors.append(enum_strings(&path.child("strategy"), strategy, &["None", "Webhook"]));
    let webhook = conversion.get("webhook").and_then(Value::as_object);
    let client_config = webhook.and_then(|w| w.get("clientConfig")).and_then(Value::as_object);
    let review_versions: Vec<&Value> = webhook
        .and_then(|w| w.get("conversionReviewVersions"))
        .and_then(Value::as_array)
        .map(|list| list.iter().collect())
        .unwrap_or_default();
    let config_path = path.child("webhookClientConfig");
    if strategy == "Webhook" {
        match client_config {
            None => errors.push(FieldError::required(
                &config_path,
                "required when strategy is set to Webhook",
            )),
            Some(config) => errors.append(validate_client_config(config, &config_path)),
        }
        errors.append(validate_review_versions(
            &review_versions,
            &path.child("conversionReviewVersions"),
        ));
    } else {
        if client_config.is_some() {
            errors.push(FieldError::forbidden(
                &config_path,
                "should not be set when strategy is not set to Webhook",
            ));
        }
        if !review_versions.is_empty() {
            errors.push(FieldError::forbidden(
                &path.child("conversionReviewVersions"),
                "should not be set when strategy is not set to Webhook",
            ));
        }
    }
    errors
}

fn validate_client_config(config: &Map<String, Value>, path: &FieldPath) -> FieldErrors {
    let url = config.get("url").and_then(Value::as_str);
    let service = config.get("service").and_then(Value::as_object);
    match (url, service) {
        (Some(url), None) => validate_webhook_url(url, &path.child("url")),
        (None, Some(service)) => validate_webhook_service(service, &path.child("service")),
        _ => FieldError::required(path, "exactly one of url or service is required").into(),
    }
}

fn validate_webhook_url(url: &str, path: &FieldPath) -> FieldErrors {
    const FORM: &str = "; desired format: https://host[/path]";
    let mut errors = FieldErrors::new();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("", url),
    };
    if scheme != "https" {
        errors.push(FieldError::invalid(
            path,
            scheme,
            format!("'https' is the only allowed URL scheme{FORM}"),
        ));
    }
    let (before_fragment, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (before_query, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
    let authority = if scheme.is_empty() {
        ""
    } else {
        before_query.split('/').next().unwrap_or_default()
    };
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    if host.is_empty() {
        errors.push(FieldError::invalid(path, host, format!("host must be specified{FORM}")));
    }
    if let Some(user) = user {
        errors.push(FieldError::invalid(
            path,
            user,
            "user information is not permitted in the URL",
        ));
    }
    if !fragment.is_empty() {
        errors.push(FieldError::invalid(
            path,
            fragment,
            "fragments are not permitted in the URL",
        ));
    }
    if !query.is_empty() {
        errors.push(FieldError::invalid(
            path,
            query,
            "query parameters are not permitted in the URL",
        ));
    }
    errors
}

fn validate_webhook_service(service: &Map<String, Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let text = |key: &str| service.get(key).and_then(Value::as_str).unwrap_or_default();
    if text("name").is_empty() {
        errors.push(FieldError::required(&path.child("name"), "service name is required"));
    }
    if text("namespace").is_empty() {
        errors.push(FieldError::required(
            &path.child("namespace"),
            "service namespace is required",
        ));
    }
    let port = service.get("port").and_then(Value::as_i64).unwrap_or(443);
    if !(1..=65535).contains(&port) {
        errors.push(FieldError::invalid(
            &path.child("port"),
            port,
            "port is not valid: must be between 1 and 65535, inclusive",
        ));
    }
    let Some(url_path) = service.get("path").and_then(Value::as_str) else {
        return errors;
    };
    if url_path == "/" || url_path.is_empty() {
        return errors;
    }
    let path_path = path.child("path");
    if url_path == "//" {
        errors.push(FieldError::invalid(&path_path, url_path, "segment[0] may not be empty"));
        return errors;
    }
    if !url_path.starts_with('/') {
        errors.push(FieldError::invalid(&path_path, url_path, "must start with a '/'"));
    }
    let trimmed = url_path.get(1..).unwrap_or_default();
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    for (index, step) in trimmed.split('/').enumerate() {
        if step.is_empty() {
            errors.push(FieldError::invalid(
                &path_path,
                url_path,
                format!("segment[{index}] may not be empty"),
            ));
            continue;
        }
        for problem in is_dns1123_subdomain(step) {
            errors.push(FieldError::invalid(
                &path_path,
                url_path,
                format!("segment[{index}]: {problem}"),
            ));
        }
    }
    errors
}

fn validate_review_versions(versions: &[&Value], path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if versions.is_empty() {
        errors.push(FieldError::required(path, ""));
        return errors;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut accepted = false;
    for (index, version) in versions.iter().enumerate() {
        let version = version.as_str().unwrap_or_default();
        if seen.contains(&version) {
            errors.push(FieldError::invalid(&path.index(index), version, "duplicate version"));
            continue;
        }
        seen.push(version);
        for problem in is_dns1035_label(version) {
            errors.push(FieldError::invalid(&path.index(index), version, problem));
        }
        accepted |= version == "v1" || version == "v1beta1";
    }
    if !accepted {
        let listed: Vec<Value> = versions.iter().map(|v| (*v).clone()).collect();
        errors.push(FieldError::invalid(
            path,
            BadValue::Json(Value::Array(listed)),
            "must include at least one of v1, v1beta1",
        ));
    }
    errors
}
