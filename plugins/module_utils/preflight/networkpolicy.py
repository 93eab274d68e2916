# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""homelab.mlflow.networkpolicy before it writes: Cilium's API, and the API server's addresses where a
Kubernetes NetworkPolicy needs them."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.network import host_cidr
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import as_json
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import Outcome, cluster_info_missing

CILIUM = ("cilium.io/v2", "CiliumNetworkPolicy")


def check(values, cluster: Cluster) -> Outcome:
    outcome = Outcome()
    if not cluster.known:
        outcome.problems.append(cluster_info_missing("networkpolicy"))
        return outcome
    kind = values["networkpolicy_kind"]
    cilium_served = cluster.serves(*CILIUM)
    if kind == "cilium" and not cilium_served:
        outcome.add(
            "networkpolicy_kind",
            "networkpolicy_kind is cilium, but the cluster has no CiliumNetworkPolicy (cilium.io/v2; CRD "
            "ciliumnetworkpolicies.cilium.io): install Cilium first, or set networkpolicy_kind to kubernetes "
            "(Kubernetes NetworkPolicy, enforced by any network plugin that implements it) or auto (Cilium's when it "
            "is there).",
        )
    use_cilium = kind == "cilium" or (kind == "auto" and cilium_served)
    if not use_cilium and not values["networkpolicy_api_server_cidrs"]:
        _api_server_addresses_missing(kind, cluster, outcome)
    return outcome


def api_server_addresses(endpoint_slices: list) -> list[str]:
    """The addresses of the kubernetes Service's endpoints, each once, in the order found."""
    found = [
        address
        for endpoint_slice in endpoint_slices
        for endpoint in endpoint_slice.get("endpoints") or []
        for address in endpoint.get("addresses") or []
    ]
    return list(dict.fromkeys(found))


# A Kubernetes NetworkPolicy can only name the API server by address: without them the database instances
# could not reach it. The addresses of the `kubernetes` Service's endpoints are what to give.
def _api_server_addresses_missing(kind: str, cluster: Cluster, outcome: Outcome) -> None:
    endpoint_slices = (
        cluster.list("discovery.k8s.io/v1", "EndpointSlice", "default", labels="kubernetes.io/service-name=kubernetes")
        if cluster.serves("discovery.k8s.io/v1", "EndpointSlice")
        else []
    )
    found = api_server_addresses(endpoint_slices)
    without_cilium = ", and the cluster has no CiliumNetworkPolicy" if kind == "auto" else ""
    how = (
        f"{as_json([host_cidr(address) for address in found])} (the addresses of the kubernetes Service's endpoints "
        "in this cluster)"
        if found
        else "kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes shows them"
    )
    outcome.add(
        "networkpolicy_api_server_cidrs",
        "networkpolicy_api_server_cidrs is empty, but the policies are Kubernetes NetworkPolicies (networkpolicy_kind "
        f"{kind}{without_cilium}), which name the Kubernetes API server - which the CloudNativePG instances must "
        f"reach - only by address. Set networkpolicy_api_server_cidrs to its addresses as CIDRs: {how}.",
    )
