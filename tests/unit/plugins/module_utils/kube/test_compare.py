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
