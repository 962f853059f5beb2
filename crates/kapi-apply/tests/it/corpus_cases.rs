//! The cases of the apply corpus (see [`crate::corpus`]): upstream's scenarios in our own words and data.

use serde_json::json;

use crate::corpus::{applies, conflicts, forces, owns, unchanged, updated, updates, written, Case, Outcome};

/// Every case, in the order they run.
pub(crate) fn cases() -> Vec<Case> {
    let mut cases = ownership();
    cases.extend(crate::corpus_shapes::cases());
    cases
}

/// Ownership: creation, removal, sharing, conflicts, force, updates.
fn ownership() -> Vec<Case> {
    vec![
        Case {
            name: "create by apply owns exactly the applied fields, no metadata or type fields",
            steps: vec![applies(
                "a",
                json!({"replicas": 1, "labels": {"x": "1"}}),
                written(
                    json!({"replicas": 1, "labels": {"x": "1"}}),
                    vec![owns(
                        "a",
                        json!({"f:spec": {"f:labels": {"f:x": {}}, "f:replicas": {}}}),
                    )],
                ),
            )],
        },
        Case {
            name: "the same configuration twice changes nothing",
            steps: vec![
                applies(
                    "a",
                    json!({"image": "one"}),
                    written(
                        json!({"image": "one"}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}}}))],
                    ),
                ),
                applies(
                    "a",
                    json!({"image": "one"}),
                    unchanged(vec![owns("a", json!({"f:spec": {"f:image": {}}}))]),
                ),
            ],
        },
        Case {
            name: "a field the manager stops applying is removed",
            steps: vec![
                applies(
                    "a",
                    json!({"replicas": 1, "image": "one"}),
                    written(
                        json!({"replicas": 1, "image": "one"}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}, "f:replicas": {}}}))],
                    ),
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
            name: "two managers applying the same value share it; it stays while one still applies it",
            steps: vec![
                applies(
                    "a",
                    json!({"image": "one"}),
                    written(
                        json!({"image": "one"}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}}}))],
                    ),
                ),
                applies(
                    "b",
                    json!({"image": "one"}),
                    unchanged(vec![
                        owns("b", json!({"f:spec": {"f:image": {}}})),
                        owns("a", json!({"f:spec": {"f:image": {}}})),
                    ]),
                ),
                applies(
                    "a",
                    json!({"replicas": 2}),
                    written(
                        json!({"image": "one", "replicas": 2}),
                        vec![
                            owns("b", json!({"f:spec": {"f:image": {}}})),
                            owns("a", json!({"f:spec": {"f:replicas": {}}})),
                        ],
                    ),
                ),
            ],
        },
        Case {
            name: "changing another applier's field conflicts",
            steps: vec![
                applies(
                    "a",
                    json!({"image": "one"}),
                    written(
                        json!({"image": "one"}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}}}))],
                    ),
                ),
                applies("b", json!({"image": "two"}), conflicts(vec!["\"a\": .spec.image"])),
            ],
        },
        Case {
            name: "force takes the conflicting fields and only those",
            steps: vec![
                applies(
                    "a",
                    json!({"image": "one", "replicas": 1}),
                    written(
                        json!({"image": "one", "replicas": 1}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}, "f:replicas": {}}}))],
                    ),
                ),
                forces(
                    "b",
                    json!({"image": "two"}),
                    written(
                        json!({"image": "two", "replicas": 1}),
                        vec![
                            owns("a", json!({"f:spec": {"f:replicas": {}}})),
                            owns("b", json!({"f:spec": {"f:image": {}}})),
                        ],
                    ),
                ),
                applies(
                    "a",
                    json!({"replicas": 1}),
                    unchanged(vec![
                        owns("a", json!({"f:spec": {"f:replicas": {}}})),
                        owns("b", json!({"f:spec": {"f:image": {}}})),
                    ]),
                ),
            ],
        },
        Case {
            name: "force leaves a manager without fields, and its entry goes",
            steps: vec![
                applies(
                    "a",
                    json!({"image": "one"}),
                    written(
                        json!({"image": "one"}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}}}))],
                    ),
                ),
                forces(
                    "b",
                    json!({"image": "two"}),
                    written(
                        json!({"image": "two"}),
                        vec![owns("b", json!({"f:spec": {"f:image": {}}}))],
                    ),
                ),
                applies(
                    "a",
                    json!({}),
                    unchanged(vec![owns("b", json!({"f:spec": {"f:image": {}}}))]),
                ),
            ],
        },
        Case {
            name: "an update takes the fields it changes; the applier then conflicts with the updater",
            steps: vec![
                applies(
                    "a",
                    json!({"replicas": 1}),
                    written(
                        json!({"replicas": 1}),
                        vec![owns("a", json!({"f:spec": {"f:replicas": {}}}))],
                    ),
                ),
                updates(
                    "editor",
                    json!({"replicas": 2}),
                    written(
                        json!({"replicas": 2}),
                        vec![updated("editor", json!({"f:spec": {"f:replicas": {}}}))],
                    ),
                ),
                applies(
                    "a",
                    json!({"replicas": 1}),
                    conflicts(vec!["\"editor\" using example.com/v1: .spec.replicas"]),
                ),
            ],
        },
        Case {
            name: "conflicts with several managers are listed by manager",
            steps: vec![
                applies(
                    "a",
                    json!({"image": "one"}),
                    written(
                        json!({"image": "one"}),
                        vec![owns("a", json!({"f:spec": {"f:image": {}}}))],
                    ),
                ),
                updates(
                    "editor",
                    json!({"image": "one", "replicas": 5}),
                    written(
                        json!({"image": "one", "replicas": 5}),
                        vec![
                            owns("a", json!({"f:spec": {"f:image": {}}})),
                            updated("editor", json!({"f:spec": {"f:replicas": {}}})),
                        ],
                    ),
                ),
                applies(
                    "c",
                    json!({"image": "two", "replicas": 6}),
                    conflicts(vec![
                        "\"a\": .spec.image",
                        "\"editor\" using example.com/v1: .spec.replicas",
                    ]),
                ),
            ],
        },
        Case {
            name: "keyed list items are owned one by one; key defaults complete the key",
            steps: vec![
                applies(
                    "a",
                    json!({"ports": [{"port": 80, "name": "http"}]}),
                    written(
                        json!({"ports": [{"port": 80, "name": "http"}]}),
                        vec![owns(
                            "a",
                            json!({"f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}":
                                {".": {}, "f:name": {}, "f:port": {}}}}}),
                        )],
                    ),
                ),
                applies(
                    "b",
                    json!({"ports": [{"port": 443}]}),
                    written(
                        json!({"ports": [{"port": 80, "name": "http"}, {"port": 443}]}),
                        vec![
                            owns(
                                "a",
                                json!({"f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}":
                                    {".": {}, "f:name": {}, "f:port": {}}}}}),
                            ),
                            owns(
                                "b",
                                json!({"f:spec": {"f:ports": {"k:{\"port\":443,\"protocol\":\"TCP\"}":
                                    {".": {}, "f:port": {}}}}}),
                            ),
                        ],
                    ),
                ),
                applies(
                    "a",
                    json!({"ports": []}),
                    written(
                        json!({"ports": [{"port": 443}]}),
                        vec![owns(
                            "b",
                            json!({"f:spec": {"f:ports": {"k:{\"port\":443,\"protocol\":\"TCP\"}":
                                {".": {}, "f:port": {}}}}}),
                        )],
                    ),
                ),
            ],
        },
        Case {
            name: "an item another manager also applies stays when one stops applying it",
            steps: vec![
                applies(
                    "a",
                    json!({"ports": [{"port": 80}]}),
                    written(
                        json!({"ports": [{"port": 80}]}),
                        vec![owns(
                            "a",
                            json!({"f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}":
                                {".": {}, "f:port": {}}}}}),
                        )],
                    ),
                ),
                applies(
                    "b",
                    json!({"ports": [{"port": 80}, {"port": 81}]}),
                    written(
                        json!({"ports": [{"port": 80}, {"port": 81}]}),
                        vec![
                            owns(
                                "a",
                                json!({"f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}":
                                    {".": {}, "f:port": {}}}}}),
                            ),
                            owns(
                                "b",
                                json!({"f:spec": {"f:ports": {
                                    "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}},
                                    "k:{\"port\":81,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}}}),
                            ),
                        ],
                    ),
                ),
                applies(
                    "a",
                    json!({"ports": []}),
                    unchanged(vec![owns(
                        "b",
                        json!({"f:spec": {"f:ports": {
                            "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}},
                            "k:{\"port\":81,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}}}),
                    )]),
                ),
            ],
        },
        Case {
            name: "merged keyed lists keep live-only items in place and shared items in the applied order",
            steps: vec![
                applies(
                    "a",
                    json!({"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}),
                    Outcome::Ok {
                        changed: true,
                        spec: None,
                        managers: vec![owns(
                            "a",
                            json!({"f:spec": {"f:containers": {
                                "k:{\"name\":\"a\"}": {".": {}, "f:name": {}},
                                "k:{\"name\":\"b\"}": {".": {}, "f:name": {}},
                                "k:{\"name\":\"c\"}": {".": {}, "f:name": {}}}}}),
                        )],
                    },
                ),
                applies(
                    "b",
                    json!({"containers": [{"name": "c", "image": "x"}, {"name": "a", "image": "y"}]}),
                    Outcome::Ok {
                        changed: true,
                        spec: Some(json!({"containers": [
                            {"name": "b"}, {"name": "c", "image": "x"}, {"name": "a", "image": "y"}]})),
                        managers: vec![
                            owns(
                                "a",
                                json!({"f:spec": {"f:containers": {
                                    "k:{\"name\":\"a\"}": {".": {}, "f:name": {}},
                                    "k:{\"name\":\"b\"}": {".": {}, "f:name": {}},
                                    "k:{\"name\":\"c\"}": {".": {}, "f:name": {}}}}}),
                            ),
                            owns(
                                "b",
                                json!({"f:spec": {"f:containers": {
                                    "k:{\"name\":\"a\"}": {".": {}, "f:image": {}, "f:name": {}},
                                    "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}),
                            ),
                        ],
                    },
                ),
            ],
        },
        Case {
            name: "set items are owned one by one and removed when no one applies them",
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
                    json!({"tags": ["z"]}),
                    written(
                        json!({"tags": ["x", "y", "z"]}),
                        vec![
                            owns("a", json!({"f:spec": {"f:tags": {"v:\"x\"": {}, "v:\"y\"": {}}}})),
                            owns("b", json!({"f:spec": {"f:tags": {"v:\"z\"": {}}}})),
                        ],
                    ),
                ),
                applies(
                    "a",
                    json!({"tags": ["y"]}),
                    written(
                        json!({"tags": ["y", "z"]}),
                        vec![
                            owns("a", json!({"f:spec": {"f:tags": {"v:\"y\"": {}}}})),
                            owns("b", json!({"f:spec": {"f:tags": {"v:\"z\"": {}}}})),
                        ],
                    ),
                ),
            ],
        },
        Case {
            name: "a list without a list type is atomic: owned whole, replaced whole",
            steps: vec![
                applies(
                    "a",
                    json!({"args": ["x", "y"]}),
                    written(
                        json!({"args": ["x", "y"]}),
                        vec![owns("a", json!({"f:spec": {"f:args": {}}}))],
                    ),
                ),
                applies("b", json!({"args": ["z"]}), conflicts(vec!["\"a\": .spec.args"])),
                forces(
                    "b",
                    json!({"args": ["z"]}),
                    written(
                        json!({"args": ["z"]}),
                        vec![owns("b", json!({"f:spec": {"f:args": {}}}))],
                    ),
                ),
            ],
        },
        Case {
            name: "an atomic map conflicts as a whole; applying the same map shares it",
            steps: vec![
                applies(
                    "a",
                    json!({"selector": {"app": "web"}}),
                    written(
                        json!({"selector": {"app": "web"}}),
                        vec![owns("a", json!({"f:spec": {"f:selector": {}}}))],
                    ),
                ),
                applies(
                    "b",
                    json!({"selector": {"tier": "db"}}),
                    conflicts(vec!["\"a\": .spec.selector"]),
                ),
                applies(
                    "b",
                    json!({"selector": {"app": "web"}}),
                    unchanged(vec![
                        owns("b", json!({"f:spec": {"f:selector": {}}})),
                        owns("a", json!({"f:spec": {"f:selector": {}}})),
                    ]),
                ),
            ],
        },
        Case {
            name: "a granular map merges keys of several managers",
            steps: vec![
                applies(
                    "a",
                    json!({"labels": {"x": "1"}}),
                    written(
                        json!({"labels": {"x": "1"}}),
                        vec![owns("a", json!({"f:spec": {"f:labels": {"f:x": {}}}}))],
                    ),
                ),
                applies(
                    "b",
                    json!({"labels": {"y": "2"}}),
                    written(
                        json!({"labels": {"x": "1", "y": "2"}}),
                        vec![
                            owns("a", json!({"f:spec": {"f:labels": {"f:x": {}}}})),
                            owns("b", json!({"f:spec": {"f:labels": {"f:y": {}}}})),
                        ],
                    ),
                ),
            ],
        },
    ]
}
