"""plugins/module_utils/kube/compare.py: whether a live object holds a declaration; field differences."""

from __future__ import annotations

import importlib

import pytest

PACKAGE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube"
compare = importlib.import_module(f"{PACKAGE}.compare")


@pytest.mark.parametrize(
    ("live", "declared"),
    [
        ({"a": 1, "default": True}, {"a": 1}),
        ({"cpu": "500m"}, {"cpu": 0.5}),
        ({"memory": "1Gi"}, {"memory": "1024Mi"}),
        ({"port": 80}, {"port": "80"}),
        ({"items": [{"name": "x", "extra": 1}]}, {"items": [{"name": "x"}]}),
        ({}, {"unset": None}),
    ],
)
def test_a_live_object_with_server_defaults_or_canonical_values_holds_the_declaration(live, declared):
    assert compare.holds(live, declared)


@pytest.mark.parametrize(
    ("live", "declared"),
    [
        ({"a": 2}, {"a": 1}),
        ({}, {"a": 1}),
        ({"items": [{"name": "x"}, {"name": "y"}]}, {"items": [{"name": "x"}]}),
        ({"flag": "true"}, {"flag": True}),
        ({"set": 1}, {"set": None}),
        ({"name": "mlflow-a"}, {"name": "mlflow"}),
    ],
)
def test_a_different_missing_or_extra_value_does_not_hold(live, declared):
    assert not compare.holds(live, declared)


def test_quantities_are_numbers_and_anything_else_is_not():
    assert compare.quantity_value("2Gi") == 2 * 2**30
    assert compare.quantity_value("250m") == compare.quantity_value(0.25)
    assert compare.quantity_value("mlflow") is None
    assert compare.quantity_value(True) is None


def test_list_items_are_compared_by_their_merge_key():
    before = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    after = {"env": [{"name": "B", "value": "3"}, {"name": "A", "value": "1"}]}
    assert [f.to_json() for f in compare.differences(before, after)] == [
        {"path": "env[name=B].value", "change": "changed", "expected": "3", "found": "2"}
    ]


def test_bookkeeping_is_not_a_change_and_secret_values_are_redacted():
    before = {"kind": "Secret", "metadata": {"resourceVersion": "1", "labels": {"a": "b"}}, "data": {"p": "x"}}
    after = {"kind": "Secret", "metadata": {"resourceVersion": "2", "labels": {"a": "c"}}, "data": {"p": "y"}}
    found = {f.path: f.to_json() for f in compare.changed_fields("Secret", before, after)}
    assert set(found) == {"metadata.labels.a", "data.p"}
    assert found["data.p"] == {"path": "data.p", "change": "changed", "redacted": True}
    assert found["metadata.labels.a"]["expected"] == "c"


def test_fields_are_named_by_path_with_list_items_by_their_merge_key():
    before = {
        "metadata": {"labels": {"app.kubernetes.io/part-of": "other"}},
        "spec": {
            "containers": [{"name": "mlflow", "env": [{"name": "HOME", "value": "/root"}], "args": ["--workers=4"]}]
        },
    }
    after = {
        "metadata": {"labels": {"app.kubernetes.io/part-of": "mlflow"}},
        "spec": {
            "containers": [
                {"name": "mlflow", "env": [{"name": "HOME", "value": "/home/mlflow"}], "args": ["--workers=1"]}
            ]
        },
    }

    fields = compare.differences(before, after)

    assert [(f.path, f.expected, f.found) for f in fields] == [
        ('metadata.labels["app.kubernetes.io/part-of"]', "mlflow", "other"),
        ("spec.containers[name=mlflow].args", ["--workers=1"], ["--workers=4"]),
        ("spec.containers[name=mlflow].env[name=HOME].value", "/home/mlflow", "/root"),
    ]


def test_a_field_or_list_item_on_one_side_only_is_missing_or_unexpected():
    fields = compare.differences(
        {"spec": {"ports": [{"port": 81, "name": "x"}]}, "metadata": {"labels": {"extra": "1"}}},
        {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 81, "name": "x"}]}, "metadata": {}},
    )

    changes = {f.path: f.change for f in fields}
    assert changes == {"metadata.labels.extra": "unexpected", "spec.ports[port=80]": "missing"}


def test_as_many_list_items_with_another_key_compare_by_position():
    fields = compare.differences({"ports": [{"port": 8080, "name": "http"}]}, {"ports": [{"port": 80, "name": "http"}]})

    assert [(f.path, f.expected, f.found) for f in fields] == [("ports[0].port", 80, 8080)]


def test_lists_of_objects_without_a_merge_key_compare_by_position():
    fields = compare.differences(
        {"ingress": [{"toPorts": [{"ports": [{"port": "5433"}]}]}]},
        {"ingress": [{"toPorts": [{"ports": [{"port": "5432"}]}]}]},
    )

    assert [(f.path, f.expected, f.found) for f in fields] == [("ingress[0].toPorts[0].ports[0].port", "5432", "5433")]
