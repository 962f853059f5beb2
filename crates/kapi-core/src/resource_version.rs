//! `resourceVersion` semantics of get, list and watch.
//!
//! | request | `resourceVersion` unset | `"0"` | `"N"` |
//! |---|---|---|---|
//! | get | most recent | any | not older than N |
//! | list | most recent | any | not older than N (exactly N with `limit` and no continue) |
//! | list, `resourceVersionMatch=NotOlderThan` | invalid | any | not older than N |
//! | list, `resourceVersionMatch=Exact` | invalid | invalid | exactly N |
//! | list with `continue` | the token's snapshot | the token's snapshot | 400 |
//! | watch | state, then changes from most recent | state, then changes from any | changes after N |
//!
//! [`ListQuery::validate`] reproduces upstream's `ValidateListOptions` (the 422 `ListOptions.meta.k8s.io "" is
//! invalid`), and the semantics functions turn the strings into the enums above with upstream's errors for
//! malformed versions (400 on list, 500 without reason on watch).

use crate::{
    field::{FieldError, FieldErrors, FieldPath},
    gofmt,
    gvk::GroupKind,
    request_info::{first, query_bool},
    status::ApiError,
};

/// The `resourceVersionMatch` values.
pub const MATCH_NOT_OLDER_THAN: &str = "NotOlderThan";
/// See [`MATCH_NOT_OLDER_THAN`].
pub const MATCH_EXACT: &str = "Exact";

/// A resourceVersion that is not a decimal `u64`. `Display` is upstream's field error:
/// `resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.to_field_error())]
pub struct InvalidResourceVersion {
    /// The value as sent.
    pub value: String,
    /// Go's reason: `invalid syntax` or `value out of range`.
    pub reason: &'static str,
}

impl InvalidResourceVersion {
    /// The field error upstream reports.
    pub fn to_field_error(&self) -> FieldError {
        FieldError::invalid(
            &FieldPath::new("resourceVersion"),
            self.value.as_str(),
            format!(
                "strconv.ParseUint: parsing {}: {}",
                gofmt::quote(&self.value),
                self.reason
            ),
        )
    }
}

/// Parses a resourceVersion like upstream's `APIObjectVersioner.ParseResourceVersion`: `""` and `"0"` are 0,
/// otherwise a decimal `u64` (no sign, no spaces).
pub fn parse_resource_version(resource_version: &str) -> Result<u64, InvalidResourceVersion> {
    if resource_version.is_empty() || resource_version == "0" {
        return Ok(0);
    }
    let invalid = |reason: &'static str| InvalidResourceVersion {
        value: resource_version.to_owned(),
        reason,
    };
    let mut value: u64 = 0;
    for byte in resource_version.bytes() {
        if !byte.is_ascii_digit() {
            return Err(invalid("invalid syntax"));
        }
        value = value
            .checked_mul(10)
            .and_then(|value| value.checked_add(u64::from(byte - b'0')))
            .ok_or_else(|| invalid("value out of range"))?;
    }
    Ok(value)
}

/// How a get reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetSemantics {
    /// A quorum read of the latest state.
    MostRecent,
    /// Any state is fine (the watch cache may answer).
    Any,
    /// A state at least as new as this revision.
    NotOlderThan(u64),
}

/// The semantics of a get's `resourceVersion`; a malformed one is a 400 like on list.
pub fn get_semantics(resource_version: &str) -> Result<GetSemantics, ApiError> {
    match resource_version {
        "" => Ok(GetSemantics::MostRecent),
        "0" => Ok(GetSemantics::Any),
        other => Ok(GetSemantics::NotOlderThan(
            parse_resource_version(other).map_err(list_parse_error)?,
        )),
    }
}

/// How a list reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSemantics {
    /// A quorum read of the latest state.
    MostRecent,
    /// Any state is fine.
    Any,
    /// A state at least as new as this revision.
    NotOlderThan(u64),
    /// Exactly this revision (410 once compacted).
    Exact(u64),
    /// The snapshot a continue token names (the token itself is decoded by storage).
    Continue(String),
}

/// How a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchStart {
    /// Synthetic ADDED events for the current state, then changes (`resourceVersion` unset).
    MostRecent,
    /// Synthetic ADDED events for any recent state, then changes (`resourceVersion=0`).
    Any,
    /// Only changes after this revision.
    After(u64),
}

/// The list and watch parameters that decide what state is read, as sent in the query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Whether this is a watch (`watch` is anything but `false`/`0`).
    pub watch: bool,
    /// `resourceVersion`, as sent.
    pub resource_version: String,
    /// `resourceVersionMatch`, as sent.
    pub resource_version_match: String,
    /// `continue`, as sent.
    pub continue_token: String,
    /// `sendInitialEvents`, when present.
    pub send_initial_events: Option<bool>,
    /// `allowWatchBookmarks`.
    pub allow_watch_bookmarks: bool,
}

impl ListQuery {
    /// Reads the parameters from decoded query pairs (first value wins, booleans like kube-apiserver).
    pub fn from_query(query: &[(String, String)]) -> Self {
        let text = |key: &str| first(query, key).unwrap_or_default().to_owned();
        Self {
            watch: query_bool(query, "watch"),
            resource_version: text("resourceVersion"),
            resource_version_match: text("resourceVersionMatch"),
            continue_token: text("continue"),
            send_initial_events: first(query, "sendInitialEvents").map(|_| query_bool(query, "sendInitialEvents")),
            allow_watch_bookmarks: query_bool(query, "allowWatchBookmarks"),
        }
    }

    /// Upstream's `ValidateListOptions`. `watch_list_enabled` is the WatchList feature (on in v1.36).
    pub fn validate(&self, watch_list_enabled: bool) -> FieldErrors {
        let mut errors = FieldErrors::new();
        let match_path = FieldPath::new("resourceVersionMatch");
        let send_path = FieldPath::new("sendInitialEvents");
        let matching = self.resource_version_match.as_str();
        if self.watch {
            if self.send_initial_events.is_some() {
                if matching != MATCH_NOT_OLDER_THAN {
                    errors.push(FieldError::forbidden(
                        &match_path,
                        format!("sendInitialEvents requires setting resourceVersionMatch to {MATCH_NOT_OLDER_THAN}"),
                    ));
                }
                if !watch_list_enabled {
                    errors.push(FieldError::forbidden(
                        &send_path,
                        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                    ));
                }
            }
            if !matching.is_empty() {
                if self.send_initial_events.is_none() {
                    errors.push(FieldError::forbidden(
                        &match_path,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                if matching != MATCH_NOT_OLDER_THAN {
                    errors.push(FieldError::not_supported(
                        &match_path,
                        matching,
                        &[MATCH_NOT_OLDER_THAN],
                    ));
                }
                if !self.continue_token.is_empty() {
                    errors.push(FieldError::forbidden(
                        &match_path,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
            }
            return errors;
        }
        if !matching.is_empty() {
            if self.resource_version.is_empty() {
                errors.push(FieldError::forbidden(
                    &match_path,
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if !self.continue_token.is_empty() {
                errors.push(FieldError::forbidden(
                    &match_path,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if matching != MATCH_EXACT && matching != MATCH_NOT_OLDER_THAN {
                errors.push(FieldError::not_supported(
                    &match_path,
                    matching,
                    &[MATCH_EXACT, MATCH_NOT_OLDER_THAN, ""],
                ));
            }
            if matching == MATCH_EXACT && self.resource_version == "0" {
                errors.push(FieldError::forbidden(
                    &match_path,
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if self.send_initial_events.is_some() {
            errors.push(FieldError::forbidden(
                &send_path,
                "sendInitialEvents is forbidden for list",
            ));
        }
        errors
    }

    /// [`ListQuery::validate`] as the 422 kube-apiserver answers: `ListOptions.meta.k8s.io "" is invalid: ...`.
    pub fn check(&self, watch_list_enabled: bool) -> Result<(), ApiError> {
        let errors = self.validate(watch_list_enabled);
        if errors.is_empty() {
            return Ok(());
        }
        Err(ApiError::invalid(
            &GroupKind::new("meta.k8s.io", "ListOptions"),
            "",
            &errors,
        ))
    }

    /// What a (validated) list reads; `limit` is the page size (0 for none), which turns a bare `N` into an exact
    /// read like upstream's legacy rule.
    pub fn list_semantics(&self, limit: i64) -> Result<ListSemantics, ApiError> {
        if !self.continue_token.is_empty() {
            if !self.resource_version.is_empty() && self.resource_version != "0" {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            return Ok(ListSemantics::Continue(self.continue_token.clone()));
        }
        let revision = parse_resource_version(&self.resource_version).map_err(list_parse_error)?;
        Ok(
            match (self.resource_version.as_str(), self.resource_version_match.as_str()) {
                ("", _) => ListSemantics::MostRecent,
                ("0", _) => ListSemantics::Any,
                (_, MATCH_EXACT) => ListSemantics::Exact(revision),
                (_, MATCH_NOT_OLDER_THAN) => ListSemantics::NotOlderThan(revision),
                _ if limit > 0 => ListSemantics::Exact(revision),
                _ => ListSemantics::NotOlderThan(revision),
            },
        )
    }

    /// Where a (validated) watch starts. A malformed version is a 500 without reason, as recorded
    /// (`watch_param_validation`).
    pub fn watch_start(&self) -> Result<WatchStart, ApiError> {
        match self.resource_version.as_str() {
            "" => Ok(WatchStart::MostRecent),
            "0" => Ok(WatchStart::Any),
            other => parse_resource_version(other)
                .map(WatchStart::After)
                .map_err(|error| ApiError::unknown(500, error.to_string())),
        }
    }

    /// Whether the watch begins with the initial state (synthetic ADDED events): `sendInitialEvents=true`, or by
    /// default when `resourceVersion` is unset or `"0"`.
    pub fn sends_initial_events(&self) -> bool {
        match self.send_initial_events {
            Some(send) => send,
            None => self.resource_version.is_empty() || self.resource_version == "0",
        }
    }
}

/// The 400 a list or get answers for a malformed resourceVersion: `invalid resource version: <field error>`.
fn list_parse_error(error: InvalidResourceVersion) -> ApiError {
    ApiError::bad_request(format!("invalid resource version: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_info::parse_query;

    fn query(raw: &str) -> ListQuery {
        ListQuery::from_query(&parse_query(raw))
    }

    #[test]
    fn parses_resource_versions_like_go() {
        assert_eq!(parse_resource_version(""), Ok(0));
        assert_eq!(parse_resource_version("0"), Ok(0));
        assert_eq!(parse_resource_version("00"), Ok(0));
        assert_eq!(parse_resource_version("42"), Ok(42));
        assert_eq!(parse_resource_version("18446744073709551615"), Ok(u64::MAX));
        let cases = [
            ("abc", "resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"),
            ("+5", "resourceVersion: Invalid value: \"+5\": strconv.ParseUint: parsing \"+5\": invalid syntax"),
            ("-1", "resourceVersion: Invalid value: \"-1\": strconv.ParseUint: parsing \"-1\": invalid syntax"),
            (
                "18446744073709551616",
                "resourceVersion: Invalid value: \"18446744073709551616\": strconv.ParseUint: parsing \"18446744073709551616\": value out of range",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(
                parse_resource_version(input).map_err(|error| error.to_string()),
                Err(message.to_owned())
            );
        }
    }

    /// list_rv_match_invalid and watch_param_validation, message for message.
    #[test]
    fn validation_matches_recordings() {
        let cases = [
            (
                "resourceVersionMatch=Exact",
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            ),
            (
                "resourceVersion=0&resourceVersionMatch=Exact",
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ),
            (
                "resourceVersion=7&resourceVersionMatch=Newest",
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
            ),
            (
                "watch=1&sendInitialEvents=true&timeoutSeconds=1",
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ),
            (
                "sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
                "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list]",
            ),
        ];
        for (raw, message) in cases {
            let error = query(raw).check(true).expect_err("invalid combination");
            assert_eq!(error.message(), message, "{raw}");
            assert_eq!(error.code(), 422);
            assert_eq!(
                error.details().map(|details| details.kind.as_str()),
                Some("ListOptions")
            );
        }
        for raw in [
            "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
            "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=5",
            "watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=5",
            "resourceVersion=5&resourceVersionMatch=Exact",
            "resourceVersion=0&resourceVersionMatch=NotOlderThan",
            "watch=yes-please&timeoutSeconds=1",
            "",
        ] {
            assert_eq!(query(raw).check(true), Ok(()), "{raw}");
        }
    }

    #[test]
    fn other_validation_rules() {
        let messages = |raw: &str, enabled: bool| -> Vec<String> {
            query(raw).validate(enabled).iter().map(ToString::to_string).collect()
        };
        assert_eq!(
            messages("watch=1&resourceVersionMatch=Exact&continue=x", true),
            [
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                "resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"",
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided",
            ]
        );
        assert_eq!(
            messages("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", false),
            ["sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"]
        );
        assert_eq!(
            messages("resourceVersion=3&resourceVersionMatch=NotOlderThan&continue=t", true),
            ["resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided"]
        );
    }

    #[test]
    fn list_semantics() {
        let cases: Vec<(&str, i64, ListSemantics)> = vec![
            ("", 0, ListSemantics::MostRecent),
            ("limit=2", 2, ListSemantics::MostRecent),
            ("resourceVersion=0", 0, ListSemantics::Any),
            ("resourceVersion=0&limit=2", 2, ListSemantics::Any),
            ("resourceVersion=9", 0, ListSemantics::NotOlderThan(9)),
            ("resourceVersion=9", 2, ListSemantics::Exact(9)),
            (
                "resourceVersion=9&resourceVersionMatch=NotOlderThan",
                2,
                ListSemantics::NotOlderThan(9),
            ),
            (
                "resourceVersion=9&resourceVersionMatch=Exact",
                0,
                ListSemantics::Exact(9),
            ),
            (
                "resourceVersion=0&resourceVersionMatch=NotOlderThan",
                0,
                ListSemantics::Any,
            ),
            ("continue=tok", 2, ListSemantics::Continue("tok".to_owned())),
            (
                "continue=tok&resourceVersion=0",
                2,
                ListSemantics::Continue("tok".to_owned()),
            ),
        ];
        for (raw, limit, expected) in cases {
            assert_eq!(query(raw).list_semantics(limit), Ok(expected), "{raw}");
        }
        // list_continue_bad_token step 8
        assert_eq!(
            query("continue=tok&resourceVersion=5").list_semantics(2),
            Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue"
            ))
        );
        // list_rv_match_invalid step 3
        let error = query("resourceVersion=abc")
            .list_semantics(0)
            .expect_err("not a number");
        assert_eq!(error.code(), 400);
        assert_eq!(
            error.message(),
            "invalid resource version: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
    }

    #[test]
    fn get_and_watch_semantics() {
        assert_eq!(get_semantics(""), Ok(GetSemantics::MostRecent));
        assert_eq!(get_semantics("0"), Ok(GetSemantics::Any));
        assert_eq!(get_semantics("12"), Ok(GetSemantics::NotOlderThan(12)));
        assert_eq!(get_semantics("x").map_err(|error| error.code()), Err(400));
        assert_eq!(query("watch=1").watch_start(), Ok(WatchStart::MostRecent));
        assert_eq!(query("watch=1&resourceVersion=0").watch_start(), Ok(WatchStart::Any));
        assert_eq!(
            query("watch=1&resourceVersion=17").watch_start(),
            Ok(WatchStart::After(17))
        );
        // watch_param_validation step 7: a 500 without reason.
        let error = query("watch=1&resourceVersion=abc")
            .watch_start()
            .expect_err("not a number");
        assert_eq!(
            serde_json::to_string(&error.to_status()).expect("serializes"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax","code":500}"#
        );
        assert!(query("watch=1").sends_initial_events());
        assert!(query("watch=1&resourceVersion=0").sends_initial_events());
        assert!(!query("watch=1&resourceVersion=5").sends_initial_events());
        assert!(query("watch=1&resourceVersion=5&sendInitialEvents=true").sends_initial_events());
        assert!(!query("watch=1&sendInitialEvents=false").sends_initial_events());
        let parsed = query("watch=true&allowWatchBookmarks=true&sendInitialEvents=0");
        assert!(parsed.watch && parsed.allow_watch_bookmarks);
        assert_eq!(parsed.send_initial_events, Some(false));
    }
}
