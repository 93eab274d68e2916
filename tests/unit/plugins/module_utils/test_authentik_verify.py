from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils import authentik_verify as verify

EXPECTED = {
    "slug": "mlflow",
    "outpost": "mlflow",
    "provider_name": "mlflow",
    "mode": "proxy",
    "external_url": "https://mlflow.example.com",
    "internal_host": "http://mlflow.ns.svc.cluster.local",
    "intercept_header_auth": True,
}


def linked(**provider):
    return {
        "exists": True,
        "application": {"slug": "mlflow", "provider": 7},
        "provider": {
            "pk": 7,
            "name": "mlflow",
            "mode": "proxy",
            "external_host": "https://mlflow.example.com/",
            "internal_host": "http://mlflow.ns.svc.cluster.local",
            "intercept_header_auth": True,
            **provider,
        },
        "outpost": {"name": "mlflow", "providers": [7]},
        "blueprint": {"status": "successful"},
    }


def test_linked_objects_pass():
    assert verify.link_problem(linked(), EXPECTED) is None
    assert verify.found_everything(linked())


@pytest.mark.parametrize(
    "change",
    [{"name": "other"}, {"mode": "forward_single"}, {"external_host": "https://x"}, {"intercept_header_auth": False}],
)
def test_a_provider_not_as_declared_is_named(change):
    problem = verify.link_problem(linked(**change), EXPECTED)
    assert problem.startswith("Authentik's objects for MLflow are not as the blueprint says: application mlflow")
    assert "forward to http://mlflow.ns.svc.cluster.local" in problem


def test_forward_mode_ignores_the_internal_host():
    expected = {**EXPECTED, "mode": "forward_single"}
    assert verify.link_problem(linked(mode="forward_single", internal_host=""), expected) is None
    assert "forward to" not in verify.link_problem({"exists": False}, expected)


def test_an_outpost_that_does_not_serve_the_provider_fails():
    info = linked()
    info["outpost"] = {"name": "mlflow", "providers": [8]}
    assert verify.link_problem(info, EXPECTED) is not None
    assert not verify.found_everything({**info, "outpost": {}})


def test_the_blueprint_must_be_applied_successfully():
    assert verify.blueprint_problem(linked(), "mlflow") is None
    assert "is error in Authentik" in verify.blueprint_problem({"blueprint": {"status": "error"}}, "mlflow")
    assert "is missing in Authentik" in verify.blueprint_problem({}, "mlflow")


def test_the_configmap_needs_the_label_and_the_blueprint():
    good = {"metadata": {"labels": {"authentik_blueprint": "true"}}, "data": {"m.yaml": "bp"}}
    assert verify.configmap_problem(good, "ak", "m-blueprint", "m.yaml", "bp") is None
    assert verify.configmap_problem(good, "ak", "m-blueprint", "m.yaml", "other") is not None
    assert verify.configmap_problem(None, "ak", "m-blueprint", "m.yaml", "bp").startswith(
        "The ConfigMap ak/m-blueprint is missing"
    )
    unlabelled = {"metadata": {}, "data": {"m.yaml": "bp"}}
    assert verify.configmap_problem(unlabelled, "ak", "m-blueprint", "m.yaml", "bp") is not None
