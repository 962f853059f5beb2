//! Decodes the protobuf form with a tiny reader and checks it against the JSON document it came from.

use kapi_openapi::{build_v2, builtin_resources, encode_v2_document, ApiSurface, Definitions};
use serde_json::{json, Value};

/// One decoded field.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    Varint(u64),
    Fixed64(u64),
    Bytes(Vec<u8>),
}

/// Decodes a message into (field number, value) pairs, in order; `None` if malformed.
fn decode(mut bytes: &[u8]) -> Option<Vec<(u32, Field)>> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let number = u32::try_from(key >> 3).ok()?;
        let field = match key & 7 {
            0 => Field::Varint(varint(&mut bytes)?),
            1 => {
                let (head, rest) = bytes.split_at_checked(8)?;
                bytes = rest;
                Field::Fixed64(u64::from_le_bytes(head.try_into().ok()?))
            }
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).ok()?;
                let (head, rest) = bytes.split_at_checked(len)?;
                bytes = rest;
                Field::Bytes(head.to_vec())
            }
            _ => return None,
        };
        fields.push((number, field));
    }
    Some(fields)
}

struct Msg(Vec<(u32, Field)>);

impl Msg {
    fn parse(bytes: &[u8]) -> Msg {
        Msg(decode(bytes).expect("well-formed protobuf"))
    }

    fn all(&self, number: u32) -> Vec<&[u8]> {
        self.0
            .iter()
            .filter(|(n, _)| *n == number)
            .filter_map(|(_, f)| match f {
                Field::Bytes(b) => Some(b.as_slice()),
                _ => None,
            })
            .collect()
    }

    fn message(&self, number: u32) -> Msg {
        let found = self.all(number);
        assert_eq!(found.len(), 1, "field {number} once");
        Msg::parse(found[0])
    }

    fn string(&self, number: u32) -> String {
        self.all(number)
            .last()
            .map(|b| String::from_utf8(b.to_vec()).expect("utf-8"))
            .unwrap_or_default()
    }

    fn strings(&self, number: u32) -> Vec<String> {
        self.all(number)
            .into_iter()
            .map(|b| String::from_utf8(b.to_vec()).expect("utf-8"))
            .collect()
    }

    fn varint(&self, number: u32) -> Option<u64> {
        self.0.iter().find_map(|(n, f)| match f {
            Field::Varint(v) if *n == number => Some(*v),
            _ => None,
        })
    }

    /// `Named*` entries (name = 1, value = 2) of repeated field `number`.
    fn named(&self, number: u32) -> Vec<(String, Msg)> {
        self.all(number)
            .into_iter()
            .map(|b| {
                let entry = Msg::parse(b);
                (entry.string(1), entry.message(2))
            })
            .collect()
    }

    /// Vendor extensions: name and the value parsed from the `Any.yaml` text (JSON here).
    fn extensions(&self, number: u32) -> Vec<(String, Value)> {
        self.named(number)
            .into_iter()
            .map(|(name, any)| (name, serde_json::from_str(&any.string(2)).expect("extension JSON")))
            .collect()
    }
}

fn builtin() -> (Value, Msg) {
    let resources = builtin_resources();
    let json = build_v2(&ApiSurface::new(Definitions::builtin(), &resources)).expect("builds");
    let bytes = encode_v2_document(&json);
    (json, Msg::parse(&bytes))
}

#[test]
fn document_info_paths_and_definitions_round_trip() {
    let (json, document) = builtin();
    assert_eq!(document.string(1), "2.0");
    let info = document.message(2);
    assert_eq!(
        (info.string(1), info.string(2)),
        ("Kubernetes".to_owned(), "1.36".to_owned())
    );

    let paths = document.message(8).named(2);
    let names: Vec<&str> = paths.iter().map(|(name, _)| name.as_str()).collect();
    let expected: Vec<&str> = json["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, expected, "every path, in order");

    let definitions = document.message(9).named(1);
    let names: Vec<&str> = definitions.iter().map(|(name, _)| name.as_str()).collect();
    let expected: Vec<&str> = json["definitions"]
        .as_object()
        .expect("definitions")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, expected, "every definition, in order");

    let parameters = document.message(10).named(1);
    assert_eq!(
        parameters.len(),
        json["parameters"].as_object().expect("parameters").len()
    );

    let security = document.all(12);
    assert_eq!(security.len(), 1);
    let requirement = Msg::parse(security[0]).named(1);
    assert_eq!(requirement[0].0, "BearerToken");
    let schemes = document.message(13).named(1);
    let api_key = schemes[0].1.message(2);
    assert_eq!(
        (api_key.string(1), api_key.string(2), api_key.string(3)),
        ("apiKey".into(), "authorization".into(), "header".into())
    );
}

#[test]
fn configmap_operations_and_parameters() {
    let (_, document) = builtin();
    let paths = document.message(8).named(2);
    let (_, item) = paths
        .iter()
        .find(|(name, _)| name == "/api/v1/namespaces/{namespace}/configmaps/{name}")
        .expect("configmap item path");
    let get = item.message(2);
    assert_eq!(get.string(5), "readCoreV1NamespacedConfigMap");
    assert_eq!(get.strings(1), ["core_v1"]);
    assert_eq!(
        get.strings(6),
        [
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf"
        ]
    );
    assert_eq!(get.strings(10), ["https"]);
    let extensions = get.extensions(13);
    assert_eq!(
        extensions,
        [
            ("x-kubernetes-action".to_owned(), json!("get")),
            (
                "x-kubernetes-group-version-kind".to_owned(),
                json!({"group": "", "kind": "ConfigMap", "version": "v1"})
            ),
        ]
    );
    let responses = get.message(9).named(1);
    let codes: Vec<&str> = responses.iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(codes, ["200", "401"]);
    let ok = responses[0].1.message(1);
    assert_eq!(ok.string(1), "OK");
    assert_eq!(
        ok.message(2).message(1).string(1),
        "#/definitions/io.k8s.api.core.v1.ConfigMap"
    );

    let patch = item.message(8);
    assert_eq!(patch.strings(7).len(), 4, "four patch content types");
    let parameters: Vec<Msg> = patch.all(8).into_iter().map(Msg::parse).collect();
    // body and fieldManager are shared references; dryRun is inline (a query sub-schema).
    assert!(parameters[0].message(2).string(1).starts_with("#/parameters/body-"));
    let dry_run = parameters[1].message(1).message(2).message(3);
    assert_eq!(
        (dry_run.string(4), dry_run.string(2), dry_run.string(6)),
        ("dryRun".into(), "query".into(), "string".into())
    );
    assert_eq!(dry_run.varint(20), Some(1), "uniqueItems");

    // Path-level: the inline `name` path parameter, required.
    let path_parameters: Vec<Msg> = item.all(9).into_iter().map(Msg::parse).collect();
    let name = path_parameters[0].message(1).message(2).message(4);
    assert_eq!(
        (name.string(4), name.string(2), name.varint(1)),
        ("name".into(), "path".into(), Some(1))
    );
    assert_eq!(name.string(3), "name of the ConfigMap");
}

#[test]
fn schemas_keep_types_items_and_patch_extensions() {
    let (_, document) = builtin();
    let definitions = document.message(9).named(1);
    let (_, object_meta) = definitions
        .iter()
        .find(|(name, _)| name == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        .expect("ObjectMeta");
    assert_eq!(object_meta.message(22).strings(1), ["object"]);
    let properties = object_meta.message(25).named(1);
    let (_, owners) = properties
        .iter()
        .find(|(name, _)| name == "ownerReferences")
        .expect("ownerReferences");
    assert_eq!(owners.message(22).strings(1), ["array"]);
    let item = owners.message(23).message(1);
    assert_eq!(
        item.string(1),
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"
    );
    assert_eq!(
        owners.extensions(31),
        [
            ("x-kubernetes-list-map-keys".to_owned(), json!(["uid"])),
            ("x-kubernetes-list-type".to_owned(), json!("map")),
            ("x-kubernetes-patch-merge-key".to_owned(), json!("uid")),
            ("x-kubernetes-patch-strategy".to_owned(), json!("merge")),
        ]
    );
    let (_, labels) = properties.iter().find(|(name, _)| name == "labels").expect("labels");
    let values = labels.message(21).message(1);
    assert_eq!(values.message(22).strings(1), ["string"]);
    let (_, generation) = properties
        .iter()
        .find(|(name, _)| name == "generation")
        .expect("generation");
    assert_eq!(generation.string(2), "int64");
    assert!(!generation.string(4).is_empty(), "description kept");

    let (_, config_map_list) = definitions
        .iter()
        .find(|(name, _)| name == "io.k8s.api.core.v1.ConfigMapList")
        .expect("ConfigMapList");
    assert_eq!(config_map_list.strings(19), ["items"]);
    assert_eq!(
        config_map_list.extensions(31),
        [(
            "x-kubernetes-group-version-kind".to_owned(),
            json!([{"group": "", "kind": "ConfigMapList", "version": "v1"}])
        )]
    );
}

#[test]
fn encoding_edge_cases() {
    let cases = [
        // additionalProperties: false is written (oneof presence), numbers as varint/double.
        (
            json!({"definitions": {"x": {"additionalProperties": false, "maxLength": 300, "minimum": 1.5}}}),
            vec![(21u32, Some(2u32), 0u64), (11, None, 300), (9, None, 1.5f64.to_bits())],
        ),
        (
            json!({"definitions": {"x": {"maxLength": -1}}}),
            vec![(11, None, u64::MAX)],
        ),
    ];
    for (document, expected) in cases {
        let bytes = encode_v2_document(&document);
        let schema = Msg::parse(&bytes).message(9).named(1).remove(0).1;
        for (field, inner, value) in expected {
            let found = match inner {
                Some(inner_field) => schema.message(field).varint(inner_field),
                None => schema.0.iter().find(|(n, _)| *n == field).map(|(_, f)| match f {
                    Field::Varint(v) | Field::Fixed64(v) => *v,
                    Field::Bytes(_) => u64::MAX - 1,
                }),
            };
            assert_eq!(found, Some(value), "field {field} of {document}");
        }
    }
    // Not an object: an empty document, not a panic.
    assert!(encode_v2_document(&json!("nonsense")).is_empty());
}
