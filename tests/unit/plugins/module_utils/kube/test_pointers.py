"""plugins/module_utils/kube/pointers.py: JSON pointers (RFC 6901) with list entries named by a key."""

from __future__ import annotations

import importlib

import pytest

pointers = importlib.import_module("ansible_collections.homelab.mlflow.plugins.module_utils.kube.pointers")

DEPLOYMENT = {
    "metadata": {"annotations": {"a/b": "1", "t~x": "2"}},
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [
                    {"name": "sidecar", "image": "s:1"},
                    {
                        "name": "mlflow",
                        "image": "m:1",
                        "env": [{"name": "HOME", "value": "/home/mlflow"}],
                        "args": ["a", "b"],
                    },
                ]
            }
        },
    },
}
SERVICE = {"spec": {"ports": [{"port": 80, "protocol": "TCP", "name": "http"}]}}


@pytest.mark.parametrize(
    ("document", "pointer", "value", "path"),
    [
        (DEPLOYMENT, "/spec/replicas", 2, "spec.replicas"),
        (DEPLOYMENT, "/metadata/annotations/a~1b", "1", 'metadata.annotations["a/b"]'),
        (DEPLOYMENT, "/metadata/annotations/t~0x", "2", 'metadata.annotations["t~x"]'),
        (DEPLOYMENT, "/spec/template/spec/containers/1/image", "m:1", "spec.template.spec.containers[1].image"),
        (
            DEPLOYMENT,
            "/spec/template/spec/containers/name=mlflow/env/name=HOME/value",
            "/home/mlflow",
            "spec.template.spec.containers[name=mlflow].env[name=HOME].value",
        ),
        (
            DEPLOYMENT,
            "/spec/template/spec/containers/name=mlflow/args/1",
            "b",
            "spec.template.spec.containers[name=mlflow].args[1]",
        ),
        (SERVICE, "/spec/ports/port=80/name", "http", "spec.ports[port=80].name"),
    ],
)
def test_a_pointer_names_a_field_and_list_entries_by_index_or_key(document, pointer, value, path):
    tokens = pointers.parse_pointer(pointer)

    assert pointers.resolve(document, tokens) == (True, value)
    assert pointers.locate(document, tokens)[2] == path


def test_an_entry_is_also_named_by_several_key_fields():
    container, slot, path = pointers.locate(SERVICE, ["spec", "ports", {"port": 80, "protocol": "TCP"}])

    assert container[slot]["name"] == "http"
    assert path == "spec.ports[port=80,protocol=TCP]"


@pytest.mark.parametrize(
    "pointer",
    ["/spec/replicas/x", "/spec/template/spec/containers/name=other", "/spec/template/spec/containers/9", "/nothing"],
)
def test_a_pointer_to_nothing_there_resolves_to_nothing(pointer):
    assert pointers.resolve(DEPLOYMENT, pointers.parse_pointer(pointer)) == (False, None)


@pytest.mark.parametrize(
    ("pointer", "message"),
    [
        ("spec/replicas", "starts with '/'"),
        ("/", "empty name"),
        ("/spec//replicas", "empty token"),
        ("/spec/~2", "~0"),
        ("/spec/containers/-", "end of a list"),
        (7, "a string"),
    ],
)
def test_what_is_no_pointer_is_refused_with_the_reason(pointer, message):
    with pytest.raises(pointers.PointerError, match=message):
        pointers.parse_pointer(pointer)
