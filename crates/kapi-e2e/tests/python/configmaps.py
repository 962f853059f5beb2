"""Drives kapi with the Python `kubernetes` client and prints what it observed as one JSON object.

Usage: python3 configmaps.py NAMESPACE (KUBECONFIG names the server). The Rust test asserts on the output.
"""
import json
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

ns = sys.argv[1]
config.load_kube_config()
v1 = client.CoreV1Api()
seen = {}

v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))

created = v1.create_namespaced_config_map(
    ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py", labels={"app": "py"}), data={"a": "1"})
)
seen["created"] = {"name": created.metadata.name, "uid_len": len(created.metadata.uid or ""), "data": created.data}
read = v1.read_namespaced_config_map("py", ns)
seen["read_data"] = read.data
patched = v1.patch_namespaced_config_map("py", ns, {"data": {"b": "2"}, "metadata": {"labels": {"extra": "x"}}})
seen["patched"] = {"data": patched.data, "labels": patched.metadata.labels}

for i in range(5):
    v1.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"page-{i}", labels={"paged": "yes"}))
    )
pages = []
token = None
while True:
    kwargs = {"label_selector": "paged=yes", "limit": 2}
    if token:
        kwargs["_continue"] = token
    page = v1.list_namespaced_config_map(ns, **kwargs)
    pages.append([item.metadata.name for item in page.items])
    token = page.metadata._continue
    if not token:
        break
seen["pages"] = pages
seen["selected"] = [i.metadata.name for i in v1.list_namespaced_config_map(ns, label_selector="app=py").items]

# Changes after a known resourceVersion, then a watch from that version: deterministic without threads.
start = v1.list_namespaced_config_map(ns, limit=1).metadata.resource_version
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="watched")))
v1.patch_namespaced_config_map("watched", ns, {"data": {"k": "v"}})
v1.delete_namespaced_config_map("watched", ns)
events = []
w = watch.Watch()
for event in w.stream(v1.list_namespaced_config_map, ns, resource_version=start, timeout_seconds=10):
    events.append([event["type"], event["object"].metadata.name])
    if event["type"] == "DELETED":
        w.stop()
seen["watch"] = events


def failure(call):
    try:
        call()
    except ApiException as err:
        body = json.loads(err.body)
        return {"status": err.status, "reason": err.reason, "body_reason": body.get("reason"), "message": body.get("message")}
    return None


seen["missing"] = failure(lambda: v1.read_namespaced_config_map("nope", ns))
seen["exists"] = failure(
    lambda: v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py")))
)
seen["invalid"] = failure(
    lambda: v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Not_Valid")))
)

v1.delete_namespaced_config_map("py", ns)
seen["after_delete"] = sorted(i.metadata.name for i in v1.list_namespaced_config_map(ns).items)
print(json.dumps(seen))
