"""plugins/module_utils/kube/objects.py: references, the declaration digest, what results may show."""

from __future__ import annotations

import importlib

import pytest

PACKAGE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube"
objects = importlib.import_module(f"{PACKAGE}.objects")


def secret(data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": data}


def test_a_secret_digest_follows_its_keys_but_not_its_values():
    assert objects.digest(secret({"pw": "a"})) == objects.digest(secret({"pw": "b"}))
    assert objects.digest(secret({"pw": "a"})) != objects.digest(secret({"pw": "a", "user": "u"}))


def test_the_digest_annotation_is_added_without_touching_the_declaration():
    declared = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"x": "1"}}}
    annotated = objects.with_digest(declared)
    assert annotated["metadata"]["annotations"] == {"x": "1", objects.DIGEST_ANNOTATION: objects.digest(declared)}
    assert declared["metadata"]["annotations"] == {"x": "1"}
    assert objects.declared_digest(annotated) == objects.digest(declared)


def test_server_bookkeeping_and_the_digest_are_left_out_of_results():
    live = {
        "kind": "ConfigMap",
        "metadata": {"name": "c", "uid": "u", "managedFields": [], "annotations": {objects.DIGEST_ANNOTATION: "d"}},
        "status": {"x": 1},
    }
    assert objects.without_server_fields(live) == {"kind": "ConfigMap", "metadata": {"name": "c"}}
    assert objects.without_managed_fields(live)["status"] == {"x": 1}


def test_string_data_compares_as_the_data_the_server_stores():
    converted = objects.as_data({"kind": "Secret", "stringData": {"password": "pw"}})
    assert converted == {"kind": "Secret", "data": {"password": "cHc="}}


@pytest.mark.parametrize(
    "broken", [{"kind": "ConfigMap"}, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "text"]
)
def test_something_that_is_not_an_object_is_refused_with_what_it_lacks(broken):
    with pytest.raises(ValueError, match=r"apiVersion and kind|without metadata\.name"):
        objects.Ref.of(broken)


def test_a_secret_shown_in_a_result_has_no_value_left_not_even_in_kubectls_annotation():
    live = secret({"pw": "c2VjcmV0"})
    live["metadata"]["annotations"] = {objects.LAST_APPLIED: '{"data":{"pw":"c2VjcmV0"}}'}
    assert "c2VjcmV0" not in str(objects.redacted(live))
    assert objects.redacted(live)["data"] == {"pw": "(hidden)"}
