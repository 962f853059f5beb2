//! The second half of the apply corpus (see [`crate::corpus`]): list, map and struct shapes, untyped fields,
//! updates of parts of items.

use serde_json::json;

use crate::corpus::{applies, conflicts, forces, owns, unchanged, updated, updates, written, Case, Outcome};

/// The cases about shapes, in the order they run.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "an atomic struct conflicts as a whole",
            steps: vec![
                applies(
                    "a",
                    json!({"ref": {"kind": "K", "name": "n"}}),
                    written(
                        json!({"ref": {"kind": "K", "name": "n"}}),
                        vec![owns("a", json!({"f:spec": {"f:ref": {}}}))],
                    ),
                ),
                applies("b", json!({"ref": {"kind": "K"}}), conflicts(vec!["\"a\": .spec.ref"])),
            ],
        },
        Case {
            name: "map keys are members; struct fields are not, unless empty",
            steps: vec![applies(
                "a",
                json!({"template": {"settings": {"s1": {"value": "1"}}}, "labels": {}}),
                written(
                    json!({"template": {"settings": {"s1": {"value": "1"}}}, "labels": {}}),
                    vec![owns(
                        "a",
                        json!({"f:spec": {"f:labels": {}, "f:template": {"f:settings": {"f:s1": {".": {}, "f:value": {}}}}}}),
                    )],
                ),
            )],
        },
        Case {
            name: "removing one map key of structs keeps the keys others own",
            steps: vec![
                applies(
                    "a",
                    json!({"template": {"settings": {"s1": {"value": "1"}}}}),
                    written(
                        json!({"template": {"settings": {"s1": {"value": "1"}}}}),
                        vec![owns(
                            "a",
                            json!({"f:spec": {"f:template": {"f:settings": {"f:s1": {".": {}, "f:value": {}}}}}}),
                        )],
                    ),
                ),
                applies(
                    "b",
                    json!({"template": {"settings": {"s2": {"value": "2"}}}}),
                    Outcome::Ok {
                        changed: true,
                        spec: Some(json!({"template": {"settings": {"s1": {"value": "1"}, "s2": {"value": "2"}}}})),
                        managers: vec![
                            owns(
                                "a",
                                json!({"f:spec": {"f:template": {"f:settings": {"f:s1": {".": {}, "f:value": {}}}}}}),
                            ),
                            owns(
                                "b",
                                json!({"f:spec": {"f:template": {"f:settings": {"f:s2": {".": {}, "f:value": {}}}}}}),
                            ),
                        ],
                    },
                ),
                applies(
                    "a",
                    json!({"template": {"name": "t"}}),
                    written(
                        json!({"template": {"name": "t", "settings": {"s2": {"value": "2"}}}}),
                        vec![
                            owns("a", json!({"f:spec": {"f:template": {"f:name": {}}}})),
                            owns(
                                "b",
                                json!({"f:spec": {"f:template": {"f:settings": {"f:s2": {".": {}, "f:value": {}}}}}}),
                            ),
                        ],
                    ),
                ),
            ],
        },
        Case {
            name: "a struct no one applies any more is removed with everything in it",
            steps: vec![
                applies(
                    "a",
                    json!({"template": {"name": "t", "extra": "e"}, "replicas": 1}),
                    Outcome::Ok {
                        changed: true,
                        spec: None,
                        managers: vec![owns(
                            "a",
                            json!({"f:spec": {"f:replicas": {}, "f:template": {"f:extra": {}, "f:name": {}}}}),
                        )],
                    },
                ),
                applies(
                    "a",
                    json!({"replicas": 1}),
                    written(
                        json!({"replicas": 1}),
                        vec![owns("a", json!({"f:spec": {"f:replicas": {}}}))],
                    ),
                ),
            ],
        },
        Case {
            name: "nested keyed lists name both keys in a conflict",
            steps: vec![
                applies(
                    "a",
                    json!({"containers": [{"name": "web", "env": [{"name": "A", "value": "1"}]}]}),
                    Outcome::Ok {
                        changed: true,
                        spec: None,
                        managers: vec![owns(
                            "a",
                            json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:env": {
                                "k:{\"name\":\"A\"}": {".": {}, "f:name": {}, "f:value": {}}}, "f:name": {}}}}}),
                        )],
                    },
                ),
                applies(
                    "b",
                    json!({"containers": [{"name": "web", "env": [{"name": "A", "value": "2"}]}]}),
                    conflicts(vec!["\"a\": .spec.containers[name=\"web\"].env[name=\"A\"].value"]),
                ),
            ],
        },
        Case {
            name: "untyped fields: objects are granular maps, lists atomic",
            steps: vec![
                applies(
                    "a",
                    json!({"config": {"a": {"b": 1}, "list": [1, 2]}}),
                    written(
                        json!({"config": {"a": {"b": 1}, "list": [1, 2]}}),
                        vec![owns(
                            "a",
                            json!({"f:spec": {"f:config": {"f:a": {".": {}, "f:b": {}}, "f:list": {}}}}),
                        )],
                    ),
                ),
                applies(
                    "b",
                    json!({"config": {"list": [3]}}),
                    conflicts(vec!["\"a\": .spec.config.list"]),
                ),
                applies(
                    "b",
                    json!({"config": {"a": {"c": 2}}}),
                    written(
                        json!({"config": {"a": {"b": 1, "c": 2}, "list": [1, 2]}}),
                        vec![
                            owns(
                                "a",
                                json!({"f:spec": {"f:config": {"f:a": {".": {}, "f:b": {}}, "f:list": {}}}}),
                            ),
                            owns("b", json!({"f:spec": {"f:config": {"f:a": {".": {}, "f:c": {}}}}})),
                        ],
                    ),
                ),
            ],
        },
        Case {
            name: "an embedded resource is granular below its own type fields",
            steps: vec![applies(
                "a",
                json!({"embedded": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "v"}}}),
                Outcome::Ok {
                    changed: true,
                    spec: None,
                    managers: vec![owns(
                        "a",
                        json!({"f:spec": {"f:embedded": {"f:apiVersion": {}, "f:data": {".": {}, "f:k": {}},
                            "f:kind": {}, "f:metadata": {".": {}, "f:name": {}}}}}),
                    )],
                },
            )],
        },
        Case {
            name: "int-or-string is a scalar",
            steps: vec![
                applies(
                    "a",
                    json!({"size": 1}),
                    written(json!({"size": 1}), vec![owns("a", json!({"f:spec": {"f:size": {}}}))]),
                ),
                applies("b", json!({"size": "50%"}), conflicts(vec!["\"a\": .spec.size"])),
            ],
        },
        Case {
            name: "a merge-strategy list without a list type is keyed by its merge key",
            steps: vec![
                applies(
                    "a",
                    json!({"legacy": [{"id": "1", "note": "x"}]}),
                    written(
                        json!({"legacy": [{"id": "1", "note": "x"}]}),
                        vec![owns(
                            "a",
                            json!({"f:spec": {"f:legacy": {"k:{\"id\":\"1\"}": {".": {}, "f:id": {}, "f:note": {}}}}}),
                        )],
                    ),
                ),
                applies(
                    "b",
                    json!({"legacy": [{"id": "2"}]}),
                    written(
                        json!({"legacy": [{"id": "1", "note": "x"}, {"id": "2"}]}),
                        vec![
                            owns(
                                "a",
                                json!({"f:spec": {"f:legacy": {"k:{\"id\":\"1\"}": {".": {}, "f:id": {}, "f:note": {}}}}}),
                            ),
                            owns(
                                "b",
                                json!({"f:spec": {"f:legacy": {"k:{\"id\":\"2\"}": {".": {}, "f:id": {}}}}}),
                            ),
                        ],
                    ),
                ),
            ],
        },
        Case {
            name: "an explicit null is applied and owned",
            steps: vec![applies(
                "a",
                json!({"image": null}),
                written(
                    json!({"image": null}),
                    vec![owns("a", json!({"f:spec": {"f:image": {}}}))],
                ),
            )],
        },
        Case {
            name: "duplicate keys in a configuration are refused",
            steps: vec![applies(
                "a",
                json!({"containers": [{"name": "x"}, {"name": "x"}]}),
                Outcome::Invalid,
            )],
        },
        Case {
            name: "an update that removes a field takes it from its owner without owning anything",
            steps: vec![
                applies(
                    "a",
                    json!({"image": "one", "replicas": 1}),
                    written(
                        json!({"image": "one", "replicas": 1}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}, "f:replicas": {}}}))],
                    ),
                ),
                updates(
                    "editor",
                    json!({"replicas": 1}),
                    written(
                        json!({"replicas": 1}),
                        vec![owns("a", json!({"f:spec": {"f:replicas": {}}}))],
                    ),
                ),
            ],
        },
        Case {
            name: "updates by one manager accumulate in one entry; an applier of the same name has its own",
            steps: vec![
                updates(
                    "m",
                    json!({"replicas": 1}),
                    written(
                        json!({"replicas": 1}),
                        vec![updated("m", json!({"f:spec": {".": {}, "f:replicas": {}}}))],
                    ),
                ),
                updates(
                    "m",
                    json!({"replicas": 1, "image": "i"}),
                    written(
                        json!({"replicas": 1, "image": "i"}),
                        vec![updated(
                            "m",
                            json!({"f:spec": {".": {}, "f:image": {}, "f:replicas": {}}}),
                        )],
                    ),
                ),
                applies(
                    "m",
                    json!({"replicas": 3}),
                    conflicts(vec!["\"m\" using example.com/v1: .spec.replicas"]),
                ),
                applies(
                    "m",
                    json!({"replicas": 1}),
                    unchanged(vec![
                        owns("m", json!({"f:spec": {"f:replicas": {}}})),
                        updated("m", json!({"f:spec": {".": {}, "f:image": {}, "f:replicas": {}}})),
                    ]),
                ),
            ],
        },
        Case {
            name: "an update of one field of a keyed item takes only that field",
            steps: vec![
                applies(
                    "a",
                    json!({"containers": [{"name": "web", "image": "one"}]}),
                    written(
                        json!({"containers": [{"name": "web", "image": "one"}]}),
                        vec![owns(
                            "a",
                            json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}),
                        )],
                    ),
                ),
                updates(
                    "editor",
                    json!({"containers": [{"name": "web", "image": "two"}]}),
                    written(
                        json!({"containers": [{"name": "web", "image": "two"}]}),
                        vec![
                            owns(
                                "a",
                                json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:name": {}}}}}),
                            ),
                            updated(
                                "editor",
                                json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {"f:image": {}}}}}),
                            ),
                        ],
                    ),
                ),
                forces(
                    "a",
                    json!({"containers": [{"name": "web", "image": "three"}]}),
                    written(
                        json!({"containers": [{"name": "web", "image": "three"}]}),
                        vec![owns(
                            "a",
                            json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}),
                        )],
                    ),
                ),
            ],
        },
        Case {
            name: "an update adding a map key owns the key, not the map",
            steps: vec![
                applies(
                    "a",
                    json!({"labels": {"x": "1"}}),
                    written(
                        json!({"labels": {"x": "1"}}),
                        vec![owns("a", json!({"f:spec": {"f:labels": {"f:x": {}}}}))],
                    ),
                ),
                updates(
                    "editor",
                    json!({"labels": {"x": "1", "y": "2"}}),
                    written(
                        json!({"labels": {"x": "1", "y": "2"}}),
                        vec![
                            owns("a", json!({"f:spec": {"f:labels": {"f:x": {}}}})),
                            updated("editor", json!({"f:spec": {"f:labels": {"f:y": {}}}})),
                        ],
                    ),
                ),
                applies(
                    "a",
                    json!({}),
                    written(
                        json!({"labels": {"y": "2"}}),
                        vec![updated("editor", json!({"f:spec": {"f:labels": {"f:y": {}}}}))],
                    ),
                ),
            ],
        },
        Case {
            name: "set items applied by two managers are shared; a changed order is no conflict",
            steps: vec![
                applies(
                    "a",
                    json!({"tags": ["x", "y"]}),
                    written(
                        json!({"tags": ["x", "y"]}),
                        vec![owns("a", json!({"f:spec": {"f:tags": {"v:\"x\"": {}, "v:\"y\"": {}}}}))],
                    ),
                ),
                applies(
                    "b",
                    json!({"tags": ["y", "x"]}),
                    written(
                        json!({"tags": ["y", "x"]}),
                        vec![
                            owns("a", json!({"f:spec": {"f:tags": {"v:\"x\"": {}, "v:\"y\"": {}}}})),
                            owns("b", json!({"f:spec": {"f:tags": {"v:\"x\"": {}, "v:\"y\"": {}}}})),
                        ],
                    ),
                ),
            ],
        },
    ]
}
