"""The official Kubernetes Python client against `stallsim serve`.

Run by tests/serve_python.rs with the kubeconfig `serve` wrote and the
manifests under examples/serve: discovery, a CRD, create, list (whole and by
field selector), watch, delete and NotFound, with the client's own requests
(no header added). Prints one line per step; exits non-zero on the first
step that fails.
"""

import sys
import threading

import yaml
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

GROUP, VERSION, PLURAL, NAMESPACE = "example.com", "v1", "widgets", "default"


def step(name):
    print(f"ok: {name}", flush=True)


def expect_status(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ApiException as error:
        if error.status != code:
            raise AssertionError(f"expected {code}, got {error.status}: {error.body}")
        return error
    raise AssertionError(f"expected {code}, got success")


def main(kubeconfig, crd_file, gear_file):
    config.load_kube_config(config_file=kubeconfig)
    api = client.ApiClient()

    groups = client.ApisApi(api).get_api_versions()
    names = [group.name for group in groups.groups]
    assert "apiextensions.k8s.io" in names, names
    core = client.CoreApi(api).get_api_versions()
    assert "v1" in core.versions, core
    step("discovery")

    with open(crd_file) as f:
        crd = yaml.safe_load(f)
    extensions = client.ApiextensionsV1Api(api)
    created = extensions.create_custom_resource_definition(crd)
    assert created.metadata.name == "widgets.example.com", created.metadata
    resources = client.CustomObjectsApi(api).get_api_resources(GROUP, VERSION)
    assert [r.name for r in resources.resources] == ["widgets"], resources
    step("crd")

    objects = client.CustomObjectsApi(api)
    with open(gear_file) as f:
        gear = yaml.safe_load(f)
    made = objects.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, gear)
    assert made["metadata"]["name"] == "gear", made
    assert made["metadata"]["namespace"] == NAMESPACE, made
    step("create")

    listed = objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
    assert [o["metadata"]["name"] for o in listed["items"]] == ["gear"], listed
    list_version = listed["metadata"]["resourceVersion"]
    by_name = objects.list_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, field_selector="metadata.name=cog"
    )
    assert by_name["items"] == [], by_name
    refused = expect_status(
        400,
        objects.list_namespaced_custom_object,
        GROUP, VERSION, NAMESPACE, PLURAL, field_selector="spec.teeth=12",
    )
    assert "field label not supported: spec.teeth" in refused.body, refused.body
    step("list")

    seen = []

    def collect():
        stream = watch.Watch().stream(
            objects.list_namespaced_custom_object, GROUP, VERSION, NAMESPACE, PLURAL,
            resource_version=list_version, timeout_seconds=3,
        )
        for event in stream:
            seen.append((event["type"], event["object"]["metadata"]["name"]))

    watcher = threading.Thread(target=collect)
    watcher.start()
    cog = dict(gear, metadata={"name": "cog"})
    objects.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, cog)
    objects.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "cog")
    watcher.join()
    assert seen == [("ADDED", "cog"), ("DELETED", "cog")], seen
    step("watch")

    objects.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "gear")
    step("delete")

    missing = expect_status(
        404, objects.get_namespaced_custom_object, GROUP, VERSION, NAMESPACE, PLURAL, "gear"
    )
    assert '"reason":"NotFound"' in missing.body.replace(" ", ""), missing.body
    step("notfound")


if __name__ == "__main__":
    main(*sys.argv[1:4])
