"""A CRD and its custom resources through the Python `kubernetes` client (ApiextensionsV1Api, CustomObjectsApi);
prints observations as JSON.

Usage: python3 custom_resources.py GROUP (KUBECONFIG names the server).
"""
import json
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

group = sys.argv[1]
plural = "gizmos"
name = f"{plural}.{group}"
config.load_kube_config()
extensions = client.ApiextensionsV1Api()
custom = client.CustomObjectsApi()
seen = {}

crd = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": name},
    "spec": {
        "group": group,
        "scope": "Cluster",
        "names": {"plural": plural, "singular": "gizmo", "kind": "Gizmo"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "required": ["size"], "properties": {
                    "size": {"type": "integer", "minimum": 1},
                    "label": {"type": "string", "default": "none"},
                }},
            }}},
        }],
    },
}
extensions.create_custom_resource_definition(body=crd)
established = False
for _ in range(100):
    got = extensions.read_custom_resource_definition(name)
    conditions = {c.type: c.status for c in (got.status.conditions or [])}
    if conditions.get("Established") == "True":
        established = True
        break
    time.sleep(0.1)
seen["established"] = established
seen["accepted_kind"] = got.status.accepted_names.kind

created = custom.create_cluster_custom_object(group, "v1", plural, {
    "apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": "g1"}, "spec": {"size": 2},
})
seen["created_spec"] = created["spec"]
seen["generation"] = created["metadata"]["generation"]
patched = custom.patch_cluster_custom_object(group, "v1", plural, "g1", {"spec": {"size": 3}})
seen["patched"] = {"size": patched["spec"]["size"], "generation": patched["metadata"]["generation"]}
listed = custom.list_cluster_custom_object(group, "v1", plural)
seen["listed"] = [item["metadata"]["name"] for item in listed["items"]]
try:
    custom.create_cluster_custom_object(group, "v1", plural, {
        "apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": "g2"}, "spec": {"size": 0},
    })
    seen["invalid"] = None
except ApiException as error:
    seen["invalid"] = {"status": error.status, "message": json.loads(error.body)["message"]}
custom.delete_cluster_custom_object(group, "v1", plural, "g1")
seen["after_delete"] = [item["metadata"]["name"] for item in custom.list_cluster_custom_object(group, "v1", plural)["items"]]
extensions.delete_custom_resource_definition(name)
print(json.dumps(seen))
