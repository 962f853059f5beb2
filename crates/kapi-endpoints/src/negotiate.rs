//! Content negotiation: which representation a response takes, from the `Accept` header.
//!
//! kube-apiserver negotiates in two steps and clients see both: the route first checks that some `Accept` clause
//! names a media type the route produces (or `*/*`), else `406: Not Acceptable\n\nAvailable representations: ...`
//! with details `{}`; then the serializer picks the first acceptable clause by `q` and its `as`/`g`/`v` target
//! (Table, PartialObjectMetadata), else `only the following media types are accepted: ...` without details.

use kapi_core::ApiError;

/// The media types kube-apiserver serializes (the order of its 406 messages).
pub const SERIALIZER_MEDIA_TYPES: [&str; 3] = [JSON, YAML, PROTOBUF];
/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/yaml`.
pub const YAML: &str = "application/yaml";
/// `application/vnd.kubernetes.protobuf`.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
/// What resource routes that stream (list/watch) produce, as their 406 lists them.
pub const STREAMING_ROUTE_PRODUCES: [&str; 5] = [
    JSON,
    YAML,
    PROTOBUF,
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
];
/// What single-object resource routes produce.
pub const OBJECT_ROUTE_PRODUCES: [&str; 3] = [JSON, YAML, PROTOBUF];
/// The Content-Type of aggregated discovery v2 responses.
pub const AGGREGATED_DISCOVERY_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// One clause of an `Accept` header.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRange {
    /// `type/subtype`, lower-cased.
    pub essence: String,
    /// Parameters other than `q`, keys lower-cased, in order.
    pub params: Vec<(String, String)>,
    /// The quality, 1.0 when absent.
    pub quality: f32,
}

impl MediaRange {
    /// Parses one media type with parameters; `None` for text without a `/`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut pieces = text.split(';');
        let essence = pieces.next()?.trim().to_ascii_lowercase();
        if !essence.contains('/') {
            return None;
        }
        let mut params = Vec::new();
        let mut quality = 1.0;
        for piece in pieces {
            let Some((key, value)) = piece.split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim().trim_matches('"').to_owned();
            if key == "q" {
                quality = value.parse().unwrap_or(1.0);
            } else {
                params.push((key, value));
            }
        }
        Some(Self {
            essence,
            params,
            quality,
        })
    }

    /// The value of parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    fn is_wildcard(&self) -> bool {
        self.essence == "*/*"
    }
}

/// Parses an `Accept` header into clauses sorted by descending quality (stable), dropping `q=0`.
pub fn parse_accept(header: Option<&str>) -> Vec<MediaRange> {
    let text = header.unwrap_or("").trim();
    if text.is_empty() {
        return vec![MediaRange {
            essence: "*/*".to_owned(),
            params: Vec::new(),
            quality: 1.0,
        }];
    }
    let mut ranges: Vec<MediaRange> = text
        .split(',')
        .filter_map(MediaRange::parse)
        .filter(|range| range.quality > 0.0)
        .collect();
    ranges.sort_by(|a, b| b.quality.partial_cmp(&a.quality).unwrap_or(std::cmp::Ordering::Equal));
    ranges
}

/// The wire encoding of a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JSON.
    Json,
    /// YAML (keys sorted, as sigs.k8s.io/yaml writes them).
    Yaml,
    /// Kubernetes protobuf (`k8s\0` envelope), for the built-in kinds kapi-protobuf knows.
    Protobuf,
}

impl Encoding {
    /// The Content-Type for plain objects in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => JSON,
            Self::Yaml => YAML,
            Self::Protobuf => PROTOBUF,
        }
    }
}

/// What `includeObject` asks a Table row to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object (`null`).
    None,
    /// The object's metadata as PartialObjectMetadata (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

/// The shape a response takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The object or list itself.
    Plain,
    /// `meta.k8s.io` Table of this version (`v1` or `v1beta1`).
    Table {
        /// `v1` or `v1beta1`.
        version: String,
    },
    /// `meta.k8s.io/v1` PartialObjectMetadata (for objects).
    PartialObjectMetadata,
    /// `meta.k8s.io/v1` PartialObjectMetadataList (for lists).
    PartialObjectMetadataList,
}

/// A negotiated representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    /// The encoding.
    pub encoding: Encoding,
    /// The shape.
    pub target: Target,
}

/// The 406 of the route check.
fn route_not_acceptable(produces: &[&str]) -> ApiError {
    ApiError::not_acceptable_representations(produces)
}

/// The 406 of the serializer negotiation.
pub fn serializer_not_acceptable() -> ApiError {
    ApiError::not_acceptable(&SERIALIZER_MEDIA_TYPES)
}

/// The route-level check: some clause is `*/*` or names (without parameters) a type the route produces.
pub fn check_route_accepts(ranges: &[MediaRange], produces: &[&str]) -> Result<(), ApiError> {
    let accepted = ranges
        .iter()
        .any(|range| range.is_wildcard() || produces.iter().any(|produced| *produced == range.essence));
    if accepted {
        Ok(())
    } else {
        Err(route_not_acceptable(produces))
    }
}

/// The encoding a clause asks for; protobuf only where the kind has a protobuf form (`protobuf`).
fn encoding_of(range: &MediaRange, protobuf: bool) -> Option<Encoding> {
    match range.essence.as_str() {
        "*/*" | JSON => Some(Encoding::Json),
        YAML => Some(Encoding::Yaml),
        PROTOBUF if protobuf => Some(Encoding::Protobuf),
        _ => None,
    }
}

/// The encoding of error responses: the first clause kapi can write (JSON when none), as kube-apiserver encodes
/// a Status in the negotiated serializer.
pub fn error_encoding(ranges: &[MediaRange], protobuf: bool) -> Encoding {
    ranges
        .iter()
        .filter(|range| range.param("as").is_none())
        .find_map(|range| encoding_of(range, protobuf))
        .unwrap_or(Encoding::Json)
}

/// Negotiates the representation of a resource response (objects, lists, watch events). `protobuf` tells
/// whether the resource's kind has a protobuf form (built-ins do, custom resources do not).
pub fn negotiate_resource(ranges: &[MediaRange], protobuf: bool) -> Result<Representation, ApiError> {
    for range in ranges {
        let Some(encoding) = encoding_of(range, protobuf) else {
            continue;
        };
        let target = match (range.param("as"), range.param("g"), range.param("v")) {
            (None, _, _) => Target::Plain,
            (Some("Table"), Some("meta.k8s.io"), Some(version @ ("v1" | "v1beta1"))) => Target::Table {
                version: version.to_owned(),
            },
            (Some("PartialObjectMetadata"), Some("meta.k8s.io"), Some("v1" | "v1beta1")) => {
                Target::PartialObjectMetadata
            }
            (Some("PartialObjectMetadataList"), Some("meta.k8s.io"), Some("v1" | "v1beta1")) => {
                Target::PartialObjectMetadataList
            }
            _ => continue,
        };
        // Tables have no protobuf form here; the next clause decides.
        if encoding == Encoding::Protobuf && matches!(target, Target::Table { .. }) {
            continue;
        }
        return Ok(Representation { encoding, target });
    }
    Err(serializer_not_acceptable())
}

/// A discovery document's representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryRepresentation {
    /// Legacy discovery in this encoding.
    Legacy(Encoding),
    /// Aggregated discovery `apidiscovery.k8s.io/v2` (JSON).
    AggregatedV2,
}

/// Negotiates a discovery response; `aggregated` tells whether the path serves aggregated discovery (`/api`,
/// `/apis`).
pub fn negotiate_discovery(ranges: &[MediaRange], aggregated: bool) -> Result<DiscoveryRepresentation, ApiError> {
    for range in ranges {
        let Some(encoding) = encoding_of(range, false) else {
            continue;
        };
        match (range.param("as"), range.param("g"), range.param("v")) {
            (None, _, _) => return Ok(DiscoveryRepresentation::Legacy(encoding)),
            (Some("APIGroupDiscoveryList"), Some("apidiscovery.k8s.io"), Some("v2"))
                if aggregated && encoding == Encoding::Json =>
            {
                return Ok(DiscoveryRepresentation::AggregatedV2)
            }
            _ => continue,
        }
    }
    Err(serializer_not_acceptable())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(accept: &str) -> Result<Representation, ApiError> {
        negotiate_resource(&parse_accept(Some(accept)), true)
    }

    #[test]
    fn wildcards_and_quality_pick_json() {
        assert_eq!(resource("*/*").map(|r| r.encoding), Ok(Encoding::Json));
        assert_eq!(
            resource("text/html, application/json;q=0.5").map(|r| r.target),
            Ok(Target::Plain)
        );
        assert_eq!(resource("application/yaml").map(|r| r.encoding), Ok(Encoding::Yaml));
        let table_low = "application/json;as=Table;v=v1;g=meta.k8s.io;q=0.9,application/json;q=1";
        assert_eq!(resource(table_low).map(|r| r.target), Ok(Target::Plain));
    }

    #[test]
    fn table_versions_and_unknown_targets() {
        assert_eq!(
            resource("application/json;as=Table;v=v1beta1;g=meta.k8s.io").map(|r| r.target),
            Ok(Target::Table {
                version: "v1beta1".to_owned()
            })
        );
        let error = resource("application/json;as=Table;v=v9;g=meta.k8s.io").expect_err("v9 is unknown");
        assert_eq!(
            error.message(),
            "only the following media types are accepted: application/json, application/yaml, \
             application/vnd.kubernetes.protobuf"
        );
    }

    #[test]
    fn protobuf_only_for_builtin_kinds() {
        let ranges = parse_accept(Some("application/vnd.kubernetes.protobuf, application/json"));
        assert_eq!(
            negotiate_resource(&ranges, true).map(|r| r.encoding),
            Ok(Encoding::Protobuf)
        );
        assert_eq!(
            negotiate_resource(&ranges, false).map(|r| r.encoding),
            Ok(Encoding::Json)
        );
        assert_eq!(error_encoding(&ranges, true), Encoding::Protobuf);
        let table = parse_accept(Some(
            "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io",
        ));
        assert_eq!(negotiate_resource(&table, true).map(|r| r.encoding), Ok(Encoding::Json));
    }

    #[test]
    fn route_check_rejects_subtype_wildcards() {
        let error = check_route_accepts(&parse_accept(Some("application/*")), &STREAMING_ROUTE_PRODUCES)
            .expect_err("application/* is not a wildcard upstream");
        assert_eq!(error.code(), 406);
        assert!(error
            .message()
            .starts_with("406: Not Acceptable\n\nAvailable representations: application/json"));
        assert!(check_route_accepts(&parse_accept(None), &OBJECT_ROUTE_PRODUCES).is_ok());
        assert!(check_route_accepts(
            &parse_accept(Some("application/json;as=Table;v=v1;g=meta.k8s.io")),
            &OBJECT_ROUTE_PRODUCES
        )
        .is_ok());
    }

    #[test]
    fn discovery_negotiation() {
        let v2 = parse_accept(Some(AGGREGATED_DISCOVERY_V2));
        assert_eq!(
            negotiate_discovery(&v2, true),
            Ok(DiscoveryRepresentation::AggregatedV2)
        );
        assert!(negotiate_discovery(&v2, false).is_err());
        let v2beta1 = parse_accept(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
        ));
        assert!(negotiate_discovery(&v2beta1, true).is_err());
        let fallback = parse_accept(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
        ));
        assert_eq!(
            negotiate_discovery(&fallback, true),
            Ok(DiscoveryRepresentation::Legacy(Encoding::Json))
        );
    }
}
