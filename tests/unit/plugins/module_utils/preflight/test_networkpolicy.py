"""plugins/module_utils/preflight/networkpolicy.py."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import networkpolicy

from .conftest import ROLE_APIS

CILIUM = {**ROLE_APIS, "cilium.io/v2": {"CiliumNetworkPolicy": {"name": "ciliumnetworkpolicies", "namespaced": True}}}
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"


def values(**overrides):
    return {"networkpolicy_kind": "auto", "networkpolicy_api_server_cidrs": [], **overrides}


def test_cilium_served_needs_no_read(kube, cluster_of):
    assert networkpolicy.check(values(networkpolicy_kind="cilium"), cluster_of(CILIUM)).problems == []
    assert networkpolicy.check(values(), cluster_of(CILIUM)).problems == []
    assert kube.sent == []


def test_cilium_asked_for_but_not_served(cluster_of):
    problems = networkpolicy.check(
        values(networkpolicy_kind="cilium", networkpolicy_api_server_cidrs=["10.0.0.1/32"]), cluster_of()
    ).problems

    (problem,) = problems
    assert problem.variable == "networkpolicy_kind"
    assert "networkpolicy_kind is cilium, but the cluster has no CiliumNetworkPolicy" in problem.message


def test_kubernetes_policies_with_addresses_given_need_no_read(kube, cluster_of):
    given = values(networkpolicy_kind="kubernetes", networkpolicy_api_server_cidrs=["10.0.0.1/32"])

    assert networkpolicy.check(given, cluster_of()).problems == []
    assert kube.sent == []


def test_the_api_servers_addresses_are_named_when_missing(kube, cluster_of):
    kube.add(
        f"{SLICES}/kubernetes",
        {
            "metadata": {"labels": {"kubernetes.io/service-name": "kubernetes"}},
            "endpoints": [{"addresses": ["198.51.100.7"]}, {"addresses": ["198.51.100.7", "2001:db8::1"]}],
        },
    )

    (problem,) = networkpolicy.check(values(), cluster_of()).problems

    assert problem.variable == "networkpolicy_api_server_cidrs"
    assert "(networkpolicy_kind auto, and the cluster has no CiliumNetworkPolicy)" in problem.message
    assert '["198.51.100.7/32", "2001:db8::1/128"] (the addresses of the kubernetes Service\'s endpoints' in (
        problem.message
    )


def test_without_endpoints_the_message_says_where_to_look(cluster_of):
    (problem,) = networkpolicy.check(values(networkpolicy_kind="kubernetes"), cluster_of()).problems

    assert "(networkpolicy_kind kubernetes)" in problem.message
    assert (
        "kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes shows them" in problem.message
    )
