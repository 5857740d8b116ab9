"""The Python `kubernetes` client against kubeplex: CRUD, a 409 on a stale
update, the client's default patches, an ordered watch and paging.

Run by tests/api_python.rs with the admin kubeconfig as its argument; any
failed check raises, so the process exits non-zero."""

import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def expect_status(code, reason, call):
    try:
        call()
    except ApiException as e:
        assert e.status == code, f"expected {code}, got {e.status}: {e.body}"
        assert reason in e.body, f"expected {reason} in {e.body}"
        return
    raise AssertionError(f"expected a {code} {reason}")


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    ns = "python"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))

    # CRUD
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg", labels={"app": "py"}), data={"a": "1"})
    created = core.create_namespaced_config_map(ns, cm)
    assert created.metadata.uid and created.metadata.resource_version
    got = core.read_namespaced_config_map("cfg", ns)
    assert got.data == {"a": "1"}, got.data
    expect_status(409, "AlreadyExists", lambda: core.create_namespaced_config_map(ns, cm))
    expect_status(404, "NotFound", lambda: core.read_namespaced_config_map("nope", ns))

    # A stale update is a 409 Conflict.
    got.data["a"] = "2"
    core.replace_namespaced_config_map("cfg", ns, got)
    got.data["a"] = "3"
    expect_status(409, "Conflict", lambda: core.replace_namespaced_config_map("cfg", ns, got))
    assert core.read_namespaced_config_map("cfg", ns).data["a"] == "2"

    # The client's default patches: a dict body, and a list (JSON patch).
    core.patch_namespaced_config_map("cfg", ns, {"metadata": {"labels": {"patched": "yes"}}, "data": {"b": "x"}})
    patched = core.read_namespaced_config_map("cfg", ns)
    assert patched.metadata.labels == {"app": "py", "patched": "yes"}, patched.metadata.labels
    assert patched.data == {"a": "2", "b": "x"}, patched.data
    core.patch_namespaced_config_map("cfg", ns, [{"op": "remove", "path": "/data/b"}])
    assert core.read_namespaced_config_map("cfg", ns).data == {"a": "2"}

    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[
                    client.V1Container(name="web", image="nginx:1.25"),
                    client.V1Container(name="log", image="busybox"),
                ]),
            ),
        ),
    )
    apps.create_namespaced_deployment(ns, deployment)
    # A dict patch of a built-in kind merges containers by name.
    apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}
    )
    images = [c.image for c in apps.read_namespaced_deployment("web", ns).spec.template.spec.containers]
    assert images == ["nginx:1.27", "busybox"], images
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 4}})
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 4

    # An ordered watch: events arrive in resourceVersion order.
    listed = core.list_namespaced_config_map(ns)
    seen = []

    def follow():
        w = watch.Watch()
        for event in w.stream(core.list_namespaced_config_map, ns,
                              resource_version=listed.metadata.resource_version, timeout_seconds=20):
            seen.append((event["type"], event["object"].metadata.name, int(event["object"].metadata.resource_version)))
            if len(seen) == 6:
                w.stop()

    follower = threading.Thread(target=follow)
    follower.start()
    import time
    time.sleep(0.5)
    for i in range(5):
        core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"w{i}")))
    core.delete_namespaced_config_map("w0", ns)
    follower.join(timeout=30)
    assert [(t, n) for t, n, _ in seen] == [("ADDED", f"w{i}") for i in range(5)] + [("DELETED", "w0")], seen
    versions = [rv for _, _, rv in seen]
    assert versions == sorted(versions) and len(set(versions)) == len(versions), versions

    # Paging: pages of 2 with continue tokens.
    names, token = [], None
    while True:
        page = core.list_namespaced_config_map(ns, limit=2, _continue=token)
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == sorted(names), names
    assert len(names) == 5, names

    core.delete_namespaced_config_map("cfg", ns)
    expect_status(404, "NotFound", lambda: core.read_namespaced_config_map("cfg", ns))
    print("python client: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
