from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils import authentik_preflight as preflight

ROUTES = {"gateway.networking.k8s.io/v1": {"HTTPRoute": {}}}


def test_the_cluster_preflight_must_have_run_first():
    assert preflight.cluster_info_problem({"apis": {}}) is None
    assert "run that role first" in preflight.cluster_info_problem(None)


def test_the_route_check_needs_the_gateway_api_only_when_it_is_on():
    assert preflight.httproute_problem(ROUTES, True, "gw/main") is None
    assert preflight.httproute_problem({}, False, "gw/main") is None
    problem = preflight.httproute_problem({}, True, "cilium-system/main-gateway")
    assert problem.startswith("authentik_verify_httproute is true, but the cluster has no Gateway API HTTPRoute")
    assert "(cilium-system/main-gateway)" in problem


def test_a_missing_configmap_namespace_is_named():
    assert preflight.configmap_namespace_problem("authentik", {"metadata": {}}) is None
    assert preflight.configmap_namespace_problem("sso", None).startswith(
        "authentik_blueprint_configmap_namespace is sso, which does not exist"
    )


def test_a_configmap_holds_one_blueprint_per_key():
    configmap = {"data": {"mlflow.yaml": "version: 1", "other": "x"}}
    assert preflight.configmap_blueprints(configmap) == [
        {"name": "mlflow", "content": "version: 1"},
        {"name": "other", "content": "x"},
    ]
    assert preflight.configmap_blueprints(None) == []


def test_a_shared_outpost_must_be_a_proxy_outpost():
    assert preflight.shared_outpost_problem({"type": "proxy"}, "embedded", "authentik Embedded Outpost", "h") is None
    problem = preflight.shared_outpost_problem({}, "no-such-outpost", "no-such-outpost", "https://a.example.com")
    assert problem.startswith('authentik_outpost is "no-such-outpost", but Authentik at https://a.example.com')
    assert preflight.shared_outpost_problem({"type": "ldap"}, "x", "x", "h") is not None


def test_an_unreadable_api_names_the_variables():
    assert preflight.unreadable("https://a", "refused") == (
        "Authentik's API at https://a (authentik_host, authentik_token) cannot be read: refused"
    )
