"""Secrets, leases (MicroTime), RBAC and namespaces through the Python `kubernetes` client; prints observations as JSON.

Usage: python3 other_apis.py NAMESPACE (KUBECONFIG names the server).
"""
import base64
import datetime
import json
import sys

from kubernetes import client, config

ns = sys.argv[1]
config.load_kube_config()
core = client.CoreV1Api()
seen = {}

core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
seen["namespace_phase"] = core.read_namespace(ns).status.phase
seen["listed_namespaces"] = sorted(n.metadata.name for n in core.list_namespace().items if n.metadata.name in (ns, "default"))

secret = core.create_namespaced_secret(
    ns, client.V1Secret(metadata=client.V1ObjectMeta(name="s"), string_data={"user": "admin"}, type="Opaque")
)
seen["secret"] = {"data": secret.data, "decoded": base64.b64decode(secret.data["user"]).decode(), "string_data": secret.string_data}
seen["secrets_by_type"] = [
    s.metadata.name for s in core.list_namespaced_secret(ns, field_selector="type=Opaque").items
]

coordination = client.CoordinationV1Api()
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=123456)
lease = coordination.create_namespaced_lease(
    ns,
    client.V1Lease(
        metadata=client.V1ObjectMeta(name="leader"),
        spec=client.V1LeaseSpec(holder_identity="py", lease_duration_seconds=10, renew_time=now, acquire_time=now),
    ),
)
seen["lease"] = {
    "holder": lease.spec.holder_identity,
    "renew_time_roundtrip": lease.spec.renew_time == now,
}
lease.spec.renew_time = now + datetime.timedelta(seconds=5)
renewed = coordination.replace_namespaced_lease("leader", ns, lease)
seen["lease_renewed"] = renewed.spec.renew_time == now + datetime.timedelta(seconds=5)

rbac = client.RbacAuthorizationV1Api()
rbac.create_namespaced_role(
    ns,
    client.V1Role(
        metadata=client.V1ObjectMeta(name="reader"),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "list"])],
    ),
)
rbac.create_namespaced_role_binding(
    ns,
    client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="read"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="reader"),
        subjects=[client.RbacV1Subject(kind="User", name="alice", api_group="rbac.authorization.k8s.io")],
    ),
)
binding = rbac.read_namespaced_role_binding("read", ns)
seen["binding"] = {"role": binding.role_ref.name, "subjects": [s.name for s in binding.subjects]}

deleted = core.delete_namespace(ns)
# The client declares V1Status here; kube-apiserver answers the Terminating Namespace, which the client hands
# back undecoded.
body = deleted if isinstance(deleted, dict) else deleted.to_dict()
seen["deleted_namespace"] = {"kind": body.get("kind"), "phase": (body.get("status") or {}).get("phase")}
print(json.dumps(seen, default=str))
