"""A namespace's network policies against the declared ones: stale, missing and changed policies."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils import network_policies

NS = "mlflow"


def policy(name, kind="NetworkPolicy", spec=None):
    api_version = "cilium.io/v2" if kind == "CiliumNetworkPolicy" else "networking.k8s.io/v1"
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec or {"podSelector": {}}}


def test_the_selector_asks_for_every_label():
    assert network_policies.selector({"b": "2", "a": "1"}) == "a=1,b=2"


def test_policies_of_the_other_kind_or_no_longer_declared_are_stale():
    declared = [policy("deny"), policy("dns")]
    live = [policy("deny"), policy("old"), policy("deny", "CiliumNetworkPolicy")]

    assert network_policies.stale(live, declared) == [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "old"}},
        {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "deny"}},
    ]


def test_the_declared_policies_in_place_are_no_problem():
    declared = [policy("deny"), policy("dns")]

    assert network_policies.problems(NS, declared, [policy("dns"), policy("deny")]) == []


def test_missing_changed_and_stale_policies_are_each_named():
    declared = [policy("deny"), policy("dns")]
    widened = policy("dns", spec={"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]})

    found = network_policies.problems(NS, declared, [widened, policy("old")])

    assert len(found) == 3
    assert found[0].startswith("NetworkPolicy deny in namespace mlflow is missing")
    assert found[1].startswith("NetworkPolicy dns in namespace mlflow has the spec")
    assert '"namespaceSelector": {}' in found[1]
    assert "not the rendered" in found[1]
    assert "the flow model does not have: NetworkPolicy old" in found[2]
