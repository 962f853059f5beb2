"""Issue 3's edges through the Python `kubernetes` client: delete options, a body over 3 MiB, a watch's timeout.

Prints one JSON object of what it saw; crates/kapi-e2e/tests/it/python.rs checks it.
"""
import json
import sys
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def error(call):
    try:
        call()
    except ApiException as exc:
        body = json.loads(exc.body) if exc.body else {}
        return {"status": exc.status, "body_reason": body.get("reason"), "message": body.get("message")}
    return None


def main():
    namespace = sys.argv[1]
    config.load_kube_config()
    core = client.CoreV1Api()
    core.create_namespace({"metadata": {"name": namespace}})
    seen = {}

    def configmap(name):
        return core.create_namespaced_config_map(namespace, {"metadata": {"name": name}, "data": {"a": "1"}})

    made = configmap("pre")
    seen["wrong_uid"] = error(lambda: core.delete_namespaced_config_map(
        "pre", namespace,
        body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="11111111-2222-3333-4444-555555555555"))))
    core.delete_namespaced_config_map(
        "pre", namespace,
        body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=made.metadata.uid), grace_period_seconds=0))
    seen["deleted_with_uid"] = error(lambda: core.read_namespaced_config_map("pre", namespace))["status"]

    configmap("fg")
    core.delete_namespaced_config_map("fg", namespace, propagation_policy="Foreground")
    held = core.read_namespaced_config_map("fg", namespace)
    seen["foreground"] = {
        "finalizers": held.metadata.finalizers,
        "deleting": held.metadata.deletion_timestamp is not None,
    }

    big = {"metadata": {"name": "big"}, "data": {"a": "x" * (4 * 1024 * 1024)}}
    seen["too_large"] = error(lambda: core.create_namespaced_config_map(namespace, big))["status"]

    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=1,
                                       resource_version=core.list_namespaced_config_map(namespace).metadata.resource_version))
    seen["watch_timeout"] = {"events": len(events), "ended_after_s": round(time.monotonic() - started)}
    print(json.dumps(seen))


main()
