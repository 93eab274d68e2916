# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.networkpolicy checks: the peers' namespaces and labels, the API server's
ports and addresses, and every flow that applies - the role's own and the extra ones - as the policies'
templates render it (vars/main.yml holds the flow model)."""

from __future__ import annotations

from collections import Counter

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import (
    is_dns_label,
    is_label_key,
    is_label_value,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.network import (
    has_host_bits,
    host_cidr,
    is_cidr,
    is_port,
    network_of,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem, as_json, is_list, is_mapping

CILIUM_ENTITIES = (
    "all",
    "cluster",
    "health",
    "host",
    "ingress",
    "init",
    "kube-apiserver",
    "remote-node",
    "unmanaged",
    "world",
)
PROTOCOLS = ("TCP", "UDP", "SCTP")
PEER_KEYS = ("namespace", "pods", "cidrs", "entity")
# The policies are named mlflow-<name>-ingress and -egress: at most 63 characters.
FLOW_NAME_LENGTH = 40
# (namespace variable, labels variable, may be empty) of the peers the role's own flows name.
PEERS = (
    ("networkpolicy_authentik_namespace", "networkpolicy_authentik_outpost_pod_labels", True),
    ("mlflow_gateway_namespace", "networkpolicy_gateway_pod_labels", False),
    ("networkpolicy_cnpg_operator_namespace", "networkpolicy_cnpg_operator_pod_labels", False),
    ("networkpolicy_dns_namespace", "networkpolicy_dns_pod_labels", False),
    ("networkpolicy_monitoring_namespace", "networkpolicy_monitoring_pod_labels", True),
)
# (variable, required keys, allowed keys) of the extra flows.
EXTRA_FLOWS = (
    ("networkpolicy_mlflow_egress_extra", ("name", "to", "ports"), ("name", "description", "to", "ports", "enabled")),
    (
        "networkpolicy_flows_extra",
        ("name", "from", "to", "ports"),
        ("name", "description", "from", "to", "ports", "enabled"),
    ),
)


def problems(values) -> list[Problem]:
    found = _peer_problems(values) + _api_server_problems(values)
    form = _form_problems(values)
    if form:
        # The flows cannot be put together before each has its form.
        return found + form
    found += _unique_name_problems(values)
    flows = values["__networkpolicy_flows"]
    found += [problem for flow in flows for problem in _flow_problems(values, flow)]
    return found + _host_bits_problems(values, flows)


def _is_labels(labels) -> bool:
    return is_mapping(labels) and all(
        is_label_key(str(key)) and is_label_value(str(value)) for key, value in labels.items()
    )


def _peer_problems(values) -> list[Problem]:
    found = []
    for namespace_variable, labels_variable, optional in PEERS:
        namespace, labels = values[namespace_variable], values[labels_variable]
        namespace_ok = isinstance(namespace, str) and (is_dns_label(namespace) or (namespace == "" and optional))
        if namespace_ok and _is_labels(labels):
            continue
        found.append(
            Problem(
                namespace_variable,
                f"{namespace_variable} is {as_json(namespace)} and {labels_variable} is {as_json(labels)}: the "
                "namespace must be a namespace name (lower-case letters, digits and '-', at most 63 characters"
                f"{', or empty to leave the flow out' if optional else ''}), and the labels a mapping of label keys "
                "(an optional DNS prefix and '/', then a name of letters, digits, '-', '_' and '.') to label values "
                '(at most 63 such characters), for example {"app.kubernetes.io/name": "prometheus"}.',
            )
        )
    entity = values["networkpolicy_gateway_cilium_entity"]
    if entity not in ("", *CILIUM_ENTITIES):
        found.append(
            Problem(
                "networkpolicy_gateway_cilium_entity",
                f"networkpolicy_gateway_cilium_entity is {as_json(entity)}: use one of Cilium's entities "
                f"({', '.join(CILIUM_ENTITIES)}) - 'ingress' for Cilium's own Gateway API implementation - or '' to "
                "allow the pods of mlflow_gateway_namespace that match networkpolicy_gateway_pod_labels.",
            )
        )
    return found


def _api_server_problems(values) -> list[Problem]:
    found = []
    ports = values["networkpolicy_api_server_ports"]
    if not ports or not all(is_port(port) for port in ports):
        found.append(
            Problem(
                "networkpolicy_api_server_ports",
                f"networkpolicy_api_server_ports is {as_json(ports)}: list the TCP ports the pods reach the Kubernetes "
                "API server on, numbers from 1 to 65535 (the Service port 443 and the API server's own port, usually "
                "6443).",
            )
        )
    cidrs = values["networkpolicy_api_server_cidrs"]
    if not all(is_cidr(str(cidr)) for cidr in cidrs):
        found.append(
            Problem(
                "networkpolicy_api_server_cidrs",
                f"networkpolicy_api_server_cidrs is {as_json(cidrs)}: list the Kubernetes API server's addresses as "
                'CIDRs, such as ["192.168.1.10/32"] (IPv4, or IPv6 such as "fd00::10/128").',
            )
        )
    return found


def _has_form(flow, required: tuple, allowed: tuple) -> bool:
    if not is_mapping(flow):
        return False
    ports = flow.get("ports")
    return (
        set(flow) <= set(allowed)
        and set(required) <= set(flow)
        and is_dns_label(flow["name"], max_length=FLOW_NAME_LENGTH)
        and isinstance(flow.get("enabled", True), bool)
        and is_mapping(flow.get("from", {}))
        and is_mapping(flow["to"])
        and is_list(ports)
        and len(ports) > 0
    )


def _form_problems(values) -> list[Problem]:
    found = []
    for variable, required, allowed in EXTRA_FLOWS:
        optional = [key for key in allowed if key not in required]
        found += [
            Problem(
                variable,
                f"{variable} has the item {as_json(flow)}: give {', '.join(required)} (and optionally "
                f"{', '.join(optional)}). The name is a DNS label of at most 40 characters (lower-case letters, "
                "digits and '-'), unique among the flows; a peer "
                f"({'from, ' if 'from' in required else ''}to) is a mapping; ports a non-empty list; enabled true or "
                "false.",
            )
            for flow in values[variable]
            if not _has_form(flow, required, allowed)
        ]
    return found


def _unique_name_problems(values) -> list[Problem]:
    counts = Counter(flow["name"] for flow in values["__networkpolicy_all_flows"])
    twice = [name for name, count in counts.items() if count > 1]
    if not twice:
        return []
    own = [flow["name"] for flow in values["__networkpolicy_stack_flows"]]
    return [
        Problem(
            "networkpolicy_flows_extra",
            f"The flows' names must be unique, as they name the policies; these are used twice: {', '.join(twice)} "
            f"(the role's own flows are {', '.join(own)}): rename the items of networkpolicy_mlflow_egress_extra or "
            "networkpolicy_flows_extra.",
        )
    ]


def _ports_ok(ports) -> bool:
    numbers = [port.get("port", "") if is_mapping(port) else port for port in ports]
    mappings = [port for port in ports if is_mapping(port)]
    return (
        all(set(port) <= {"port", "protocol"} for port in mappings)
        and all(is_port(number) for number in numbers)
        and all(port.get("protocol", "TCP") in PROTOCOLS for port in mappings)
    )


def _peer_ok(peer, own_namespace: str) -> bool:
    """A peer is pods ({namespace, pods}) or IP blocks ({cidrs}), never both; it may add a Cilium entity,
    but not instead: a Kubernetes NetworkPolicy needs the pods or CIDRs."""
    if not is_mapping(peer) or not set(peer) <= set(PEER_KEYS):
        return False
    pods, cidrs, entity = peer.get("pods", {}), peer.get("cidrs", []), peer.get("entity", "")
    return (
        not ("cidrs" in peer and ("namespace" in peer or "pods" in peer))
        and is_dns_label(str(peer.get("namespace", own_namespace)))
        and is_mapping(pods)
        and all(is_label_key(str(key)) and is_label_value(str(value)) for key, value in pods.items())
        and is_list(cidrs)
        and all(is_cidr(str(cidr)) for cidr in cidrs)
        and str(entity) in ("", *CILIUM_ENTITIES)
        and (entity == "" or any(key in peer for key in ("cidrs", "namespace", "pods")))
        and ("cidrs" not in peer or cidrs != [] or "entity" in peer)
    )


def _extra_variable(values, name) -> str | None:
    """The variable that holds the extra flow of that name; None for the role's own flows."""
    for variable, _required, _allowed in EXTRA_FLOWS:
        if name in [flow.get("name") for flow in values[variable]]:
            return variable
    return None


def _flow_problems(values, flow) -> list[Problem]:
    own = values["mlflow_namespace"]
    peers = [flow.get("from") or {}, flow.get("to")]
    # The policies of this namespace select its own pods: one end must be some of them.
    ours = any(is_mapping(peer) and "cidrs" not in peer and peer.get("namespace", own) == own for peer in peers)
    if _ports_ok(flow.get("ports", [])) and all(_peer_ok(peer, own) for peer in peers) and ours:
        return []
    variable = _extra_variable(values, flow.get("name"))
    said = f"{variable} has" if variable else "The role's variables give"
    return [
        Problem(
            variable or "mlflow_namespace",
            f"{said} the flow {flow.get('name')}, {as_json(flow)}, which cannot be rendered. Ports are port numbers "
            "from 1 to 65535 (TCP), or {port, protocol} with protocol TCP, UDP or SCTP. A peer (from, to) is either "
            "pods - {namespace, pods}: namespace a namespace name (default mlflow_namespace, "
            f"{own}), pods a mapping of label keys to values ({{}} for every pod) - or IP blocks - "
            '{cidrs: ["192.0.2.0/24", ...]} - never both; it may add entity, the same peer as a Cilium entity '
            f"({', '.join(CILIUM_ENTITIES)}), but not instead: a Kubernetes NetworkPolicy needs the pods or CIDRs. "
            f"At least one end is pods of {own}: this namespace's policies can only select its own pods.",
        )
    ]


def _host_bits_problems(values, flows) -> list[Problem]:
    """The API server refuses a CIDR with address bits beyond its prefix (192.0.2.10/24): said now, with the
    network it means, rather than half-way through the apply."""
    api_server_cidrs = [str(cidr) for cidr in values["networkpolicy_api_server_cidrs"]]
    cidrs = []
    for flow in flows:
        for peer in (flow.get("from") or {}, flow.get("to") or {}):
            cidrs += [str(cidr) for cidr in (peer.get("cidrs") or []) if str(cidr) not in cidrs]
    found = []
    for cidr in cidrs:
        if not has_host_bits(cidr):
            continue
        network = network_of(cidr)
        where = "networkpolicy_api_server_cidrs has" if cidr in api_server_cidrs else "A flow has"
        found.append(
            Problem(
                "networkpolicy_api_server_cidrs" if cidr in api_server_cidrs else "networkpolicy_flows_extra",
                f"{where} the CIDR {cidr}, whose address has bits set beyond its prefix length, which the API server "
                f"refuses. Use the network, {network}, or the address alone, {host_cidr(cidr.rpartition('/')[0])}.",
            )
        )
    return found
