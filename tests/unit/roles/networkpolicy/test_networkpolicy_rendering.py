"""The networkpolicy role's flow model, rendered as Kubernetes NetworkPolicy and as CiliumNetworkPolicy.

Every case is a host of one ansible-playbook run (playbooks/render.yml) that renders both templates
with the role's defaults and vars and the case's variables; no cluster is needed. The tests read
both renderings back into one form - (policy, direction, selected pods, peer, ports) - and check
that each says exactly what the model says, and the two the same. The role's preflight runs the
same way (playbooks/preflight.yml), a host per bad input.
"""

from __future__ import annotations

import pytest
import yaml
from ansible_runs import recap, unexpected_failures
from networkpolicy_policies import DEFAULT_POLICIES
from role_playbooks import NAMESPACE, render, run_playbook, write_inventory

SERVER = {
    "app.kubernetes.io/name": "mlflow",
    "app.kubernetes.io/instance": "mlflow",
    "app.kubernetes.io/component": "server",
}
DB_UPGRADE = {**SERVER, "app.kubernetes.io/component": "db-upgrade"}
GC = {**SERVER, "app.kubernetes.io/component": "gc"}
DRIFT = {
    "app.kubernetes.io/name": "mlflow-drift",
    "app.kubernetes.io/instance": "mlflow",
    "app.kubernetes.io/component": "drift",
}
DATABASE = {"cnpg.io/cluster": "mlflow-postgres", "cnpg.io/podRole": "instance"}
ALL: dict = {}
DNS = ("pods", "kube-system", {"k8s-app": "kube-dns"})
GATEWAY = ("pods", "cilium-system", {})
OUTPOST = (
    "pods",
    "authentik",
    {"app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "proxy"},
)
OPERATOR = ("pods", "cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
PROMETHEUS = ("pods", "monitoring", {"app.kubernetes.io/name": "prometheus"})
API_SERVER_CIDRS = ["192.168.1.10/32", "192.168.1.11/32"]
TCP = "TCP"
COMMON_LABELS = {
    "app.kubernetes.io/name": "mlflow",
    "app.kubernetes.io/instance": "mlflow",
    "app.kubernetes.io/component": "networkpolicy",
    "app.kubernetes.io/part-of": "mlflow",
    "app.kubernetes.io/managed-by": "homelab.mlflow",
}

CASES = {
    "defaults": {},
    "full": {
        "postgres_instances": 3,
        "postgres_cluster_name": "mlflow-postgres",
        "mlflow_gc_enabled": True,
        "drift_cronjob_enabled": True,
        "networkpolicy_api_server_cidrs": API_SERVER_CIDRS,
        "networkpolicy_monitoring_namespace": "monitoring",
        "networkpolicy_monitoring_pod_labels": {"app.kubernetes.io/name": "prometheus"},
        "networkpolicy_mlflow_egress_extra": [
            {
                "name": "s3",
                "description": "Artifacts mirrored to S3.",
                "to": {"cidrs": ["192.0.2.0/24"]},
                "ports": [443, {"port": 9000, "protocol": "TCP"}],
            },
            {"name": "off", "enabled": False, "to": {"cidrs": ["198.51.100.0/24"]}, "ports": [80]},
        ],
        "networkpolicy_flows_extra": [
            {
                "name": "notebooks-to-server",
                "from": {"namespace": "jupyter", "pods": {"app": "notebook"}},
                "to": {"pods": SERVER},
                "ports": [5000],
            },
            {
                "name": "server-to-syslog",
                "from": {"pods": SERVER},
                "to": {"cidrs": ["203.0.113.7/32"], "entity": "world"},
                "ports": [{"port": 514, "protocol": "UDP"}],
            },
        ],
    },
    # Routed through Authentik only, with the gateway's pods named instead of Cilium's entity.
    "no-gateway": {
        "mlflow_httproute_enabled": False,
        "networkpolicy_authentik_namespace": "auth",
        "networkpolicy_authentik_outpost_pod_labels": {},
        "networkpolicy_gateway_cilium_entity": "",
    },
    "gateway-pods": {
        "networkpolicy_authentik_namespace": "",
        "networkpolicy_gateway_cilium_entity": "",
        "networkpolicy_gateway_pod_labels": {"gateway.networking.k8s.io/gateway-name": "main-gateway"},
        "postgres_cluster_name": "registry-db",
    },
}


@pytest.fixture(scope="module")
def rendered(repo_root, tmp_path_factory) -> dict[str, dict[str, list[dict]]]:
    """case -> {'kubernetes': [objects], 'cilium': [objects]}, all rendered in one run."""
    work = tmp_path_factory.mktemp("networkpolicy-render")
    render(repo_root, "networkpolicy", work, CASES)
    return {
        case: {
            kind: [doc for doc in yaml.safe_load_all((work / f"{case}.{template}.yaml").read_text()) if doc]
            for kind, template in (("kubernetes", "networkpolicy"), ("cilium", "ciliumnetworkpolicy"))
        }
        for case in CASES
    }


# --- both renderings read back into one form -----------------------------------------------
# A rule is (policy, direction, selected pods, peer, ports); a peer is ("pods", namespace, labels),
# ("cidr", block) or ("entity", Cilium entity); labels and ports are frozen for set comparison.


def frozen(labels: dict) -> tuple:
    return tuple(sorted(labels.items()))


def read_kubernetes(objects: list[dict]) -> tuple[dict, set]:
    """Which pods each policy isolates in which directions, and the rules it allows."""
    isolation, rules = {}, set()
    for obj in objects:
        name, spec = obj["metadata"]["name"], obj["spec"]
        subject = frozen(spec["podSelector"].get("matchLabels", {}))
        directions = tuple(sorted(kind.lower() for kind in spec["policyTypes"]))
        isolation[name] = (subject, directions)
        for direction in directions:
            side = "from" if direction == "ingress" else "to"
            for rule in spec.get(direction) or []:
                ports = frozenset((port["protocol"], port["port"]) for port in rule["ports"])
                for peer in rule[side]:
                    rules.add((name, direction, subject, kubernetes_peer(peer), ports))
    return isolation, rules


def kubernetes_peer(peer: dict) -> tuple:
    if "ipBlock" in peer:
        assert set(peer) == {"ipBlock"}
        return ("cidr", peer["ipBlock"]["cidr"])
    namespace = NAMESPACE
    if "namespaceSelector" in peer:
        namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
    return ("pods", namespace, frozen(peer["podSelector"].get("matchLabels", {})))


def read_cilium(objects: list[dict]) -> tuple[dict, set]:
    isolation, rules = {}, set()
    for obj in objects:
        name, spec = obj["metadata"]["name"], obj["spec"]
        subject = frozen(spec["endpointSelector"].get("matchLabels", {}))
        directions = tuple(sorted(direction for direction in ("ingress", "egress") if direction in spec))
        isolation[name] = (subject, directions)
        for direction in directions:
            side = "from" if direction == "ingress" else "to"
            for rule in spec[direction]:
                peers = [("entity", entity) for entity in rule.get(f"{side}Entities", [])]
                peers += [("cidr", block) for block in rule.get(f"{side}CIDR", [])]
                for selector in rule.get(f"{side}Endpoints", []):
                    labels = dict(selector.get("matchLabels", {}))
                    namespace = labels.pop("k8s:io.kubernetes.pod.namespace", NAMESPACE)
                    peers.append(("pods", namespace, frozen(labels)))
                ports = set()
                for to_ports in rule.get("toPorts", []):
                    for port in to_ports["ports"]:
                        assert isinstance(port["port"], str), f"{name}: Cilium takes ports as strings"
                        ports.add((port["protocol"], int(port["port"])))
                for peer in peers:
                    rules.add((name, direction, subject, peer, frozenset(ports)))
    return isolation, rules


READERS = {"kubernetes": read_kubernetes, "cilium": read_cilium}


# --- what the model says -------------------------------------------------------------------
# A peer here is {"pods": (namespace, labels)} or {"cidrs": [...]}, with the Cilium entity that
# stands for it in a CiliumNetworkPolicy, if any.


def pods(labels: dict, namespace: str = NAMESPACE, entity: str | None = None) -> dict:
    return {"pods": (namespace, labels), "entity": entity}


def cidrs(*blocks: str, entity: str | None = None) -> dict:
    return {"cidrs": list(blocks), "entity": entity}


def peer_forms(peer: dict, kind: str) -> list[tuple]:
    if kind == "cilium" and peer["entity"]:
        return [("entity", peer["entity"])]
    if "cidrs" in peer:
        return [("cidr", block) for block in peer["cidrs"]]
    namespace, labels = peer["pods"]
    return [("pods", namespace, frozen(labels))]


def is_local(peer: dict) -> bool:
    return "pods" in peer and peer["pods"][0] == NAMESPACE


def expected_rules(flows: list[tuple], kind: str) -> set:
    """An ingress rule on a local destination and an egress rule on a local source, per flow."""
    rules = set()
    for name, source, destination, ports in flows:
        port_set = frozenset(ports)
        if is_local(destination):
            subject = frozen(destination["pods"][1])
            rules |= {
                (f"mlflow-{name}-ingress", "ingress", subject, form, port_set) for form in peer_forms(source, kind)
            }
        if is_local(source):
            subject = frozen(source["pods"][1])
            rules |= {
                (f"mlflow-{name}-egress", "egress", subject, form, port_set) for form in peer_forms(destination, kind)
            }
    return rules


def expected_isolation(flows: list[tuple]) -> dict:
    isolation = {"mlflow-default-deny": ((), ("egress", "ingress"))}
    for name, source, destination, _ports in flows:
        if is_local(destination):
            isolation[f"mlflow-{name}-ingress"] = (frozen(destination["pods"][1]), ("ingress",))
        if is_local(source):
            isolation[f"mlflow-{name}-egress"] = (frozen(source["pods"][1]), ("egress",))
    return isolation


def stack_flows(
    *,
    gateway: dict | None = None,
    outpost: tuple | None = OUTPOST,
    database: dict | None = None,
    api_server: tuple[str, ...] | list[str] = (),
    replication: bool = False,
    gc: bool = False,
    drift: bool = False,
    monitoring: tuple | None = None,
) -> list[tuple]:
    """The role's own flows, as docs/roles/networkpolicy.md lists them."""
    gateway = pods({}, "cilium-system", entity="ingress") if gateway is None else gateway
    database = DATABASE if database is None else database
    flows = [("dns", pods(ALL), pods(DNS[2], DNS[1]), [("UDP", 53), (TCP, 53)])]
    if gateway:
        flows.append(("gateway-to-server", gateway, pods(SERVER), [(TCP, 5000)]))
    if outpost:
        flows.append(("outpost-to-server", pods(outpost[2], outpost[1]), pods(SERVER), [(TCP, 5000)]))
    flows += [
        ("server-to-database", pods(SERVER), pods(database), [(TCP, 5432)]),
        ("db-upgrade-to-database", pods(DB_UPGRADE), pods(database), [(TCP, 5432)]),
    ]
    if gc:
        flows += [
            ("gc-to-database", pods(GC), pods(database), [(TCP, 5432)]),
            ("gc-to-server", pods(GC), pods(SERVER), [(TCP, 5000)]),
        ]
    flows.append(("operator-to-database", pods(OPERATOR[2], OPERATOR[1]), pods(database), [(TCP, 8000), (TCP, 5432)]))
    if replication:
        flows.append(("database-replication", pods(database), pods(database), [(TCP, 5432)]))
    flows.append(
        (
            "database-to-api-server",
            pods(database),
            cidrs(*api_server, entity="kube-apiserver"),
            [(TCP, 443), (TCP, 6443)],
        )
    )
    if drift:
        flows += [
            (
                "drift-to-api-server",
                pods(DRIFT),
                cidrs(*api_server, entity="kube-apiserver"),
                [(TCP, 443), (TCP, 6443)],
            ),
            ("drift-to-server", pods(DRIFT), pods(SERVER), [(TCP, 5000)]),
        ]
    if monitoring:
        flows += [
            ("monitoring-to-server", pods(monitoring[2], monitoring[1]), pods(SERVER), [(TCP, 5000)]),
            ("monitoring-to-database", pods(monitoring[2], monitoring[1]), pods(database), [(TCP, 9187)]),
        ]
    return flows


MODEL = {
    "defaults": stack_flows(),
    "full": [
        *stack_flows(api_server=API_SERVER_CIDRS, replication=True, gc=True, drift=True, monitoring=PROMETHEUS),
        ("s3", pods(SERVER), cidrs("192.0.2.0/24"), [(TCP, 443), (TCP, 9000)]),
        ("notebooks-to-server", pods({"app": "notebook"}, "jupyter"), pods(SERVER), [(TCP, 5000)]),
        ("server-to-syslog", pods(SERVER), cidrs("203.0.113.7/32", entity="world"), [("UDP", 514)]),
    ],
    "no-gateway": stack_flows(gateway={}, outpost=("pods", "auth", {})),
    "gateway-pods": stack_flows(
        gateway=pods({"gateway.networking.k8s.io/gateway-name": "main-gateway"}, "cilium-system"),
        outpost=None,
        database={"cnpg.io/cluster": "registry-db", "cnpg.io/podRole": "instance"},
    ),
}


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["kubernetes", "cilium"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_rendering_allows_exactly_the_flows_of_the_model(rendered, case, kind):
    _isolation, rules = READERS[kind](rendered[case][kind])

    assert rules == expected_rules(MODEL[case], kind)


@pytest.mark.parametrize("case", list(CASES))
def test_both_renderings_isolate_the_same_pods_with_the_same_policies(rendered, case):
    kubernetes, _rules = read_kubernetes(rendered[case]["kubernetes"])
    cilium, _rules = read_cilium(rendered[case]["cilium"])

    assert kubernetes == cilium == expected_isolation(MODEL[case])
    # The default deny comes first, so it is applied first.
    assert rendered[case]["kubernetes"][0]["metadata"]["name"] == "mlflow-default-deny"
    assert rendered[case]["cilium"][0]["metadata"]["name"] == "mlflow-default-deny"


def test_both_renderings_allow_the_same_flows_where_cilium_names_no_entity(rendered):
    """Without entities the two renderings are the same rules, peer for peer."""
    for case in ("gateway-pods", "no-gateway"):
        _isolation, kubernetes = read_kubernetes(rendered[case]["kubernetes"])
        _isolation, cilium = read_cilium(rendered[case]["cilium"])
        api_server = {rule for rule in cilium if rule[0] == "mlflow-database-to-api-server-egress"}

        assert cilium - api_server == kubernetes
        assert {rule[3] for rule in api_server} == {("entity", "kube-apiserver")}


def test_the_default_model_has_no_optional_flow(rendered):
    names = [obj["metadata"]["name"] for obj in rendered["defaults"]["kubernetes"]]

    assert names == DEFAULT_POLICIES
    assert [obj["metadata"]["name"] for obj in rendered["defaults"]["cilium"]] == names


def test_without_api_server_addresses_the_kubernetes_rendering_allows_no_egress_there(rendered):
    """Preflight refuses it; should it ever be rendered, an empty list must not mean 'anywhere'."""
    policy = next(
        obj
        for obj in rendered["defaults"]["kubernetes"]
        if obj["metadata"]["name"] == "mlflow-database-to-api-server-egress"
    )

    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["egress"] == []


def test_cilium_default_deny_isolates_both_ways_and_allows_nothing(rendered):
    deny = rendered["full"]["cilium"][0]

    assert deny["spec"]["endpointSelector"] == {}
    assert deny["spec"]["enableDefaultDeny"] == {"ingress": True, "egress": True}
    assert deny["spec"]["ingress"] == [{}]
    assert deny["spec"]["egress"] == [{}]


def test_kubernetes_default_deny_isolates_both_ways_and_allows_nothing(rendered):
    deny = rendered["full"]["kubernetes"][0]

    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("kind", ["kubernetes", "cilium"])
def test_every_policy_is_in_the_namespace_with_the_common_labels(rendered, kind):
    expected_kind = {"kubernetes": "NetworkPolicy", "cilium": "CiliumNetworkPolicy"}[kind]
    expected_api = {"kubernetes": "networking.k8s.io/v1", "cilium": "cilium.io/v2"}[kind]

    for obj in rendered["full"][kind]:
        assert obj["apiVersion"] == expected_api
        assert obj["kind"] == expected_kind
        assert obj["metadata"]["namespace"] == NAMESPACE
        assert obj["metadata"]["labels"] == COMMON_LABELS


def test_the_flows_descriptions_go_with_their_policies(rendered):
    kubernetes = {obj["metadata"]["name"]: obj for obj in rendered["full"]["kubernetes"]}
    cilium = {obj["metadata"]["name"]: obj for obj in rendered["full"]["cilium"]}

    for name in ("mlflow-s3-egress",):
        assert kubernetes[name]["metadata"]["annotations"]["homelab.mlflow/description"] == "Artifacts mirrored to S3."
        assert cilium[name]["spec"]["description"] == "Artifacts mirrored to S3."
    assert cilium["mlflow-dns-egress"]["spec"]["description"] == "Every pod resolves names with the cluster DNS."
    assert cilium["mlflow-notebooks-to-server-ingress"]["spec"]["description"] == "Flow notebooks-to-server."


# --- preflight -----------------------------------------------------------------------------

CILIUM_APIS = {"cilium.io/v2": {"CiliumNetworkPolicy": {}, "CiliumClusterwideNetworkPolicy": {}}}
GOOD = {"cluster_preflight_cluster_info": {"apis": CILIUM_APIS}}
BAD_INPUT = {
    "no_cilium": (
        {"networkpolicy_kind": "cilium", "cluster_preflight_cluster_info": {"apis": {}}},
        [
            "networkpolicy_kind is cilium, but the cluster has no CiliumNetworkPolicy",
            "networkpolicy_kind to kubernetes",
        ],
    ),
    "unknown_kind": ({"networkpolicy_kind": "calico"}, ["networkpolicy_kind", "auto, cilium, kubernetes"]),
    "bad_namespace": (
        {"networkpolicy_monitoring_namespace": "Monitoring"},
        ['networkpolicy_monitoring_namespace is "Monitoring"', "or empty to leave the flow out"],
    ),
    "bad_labels": (
        {"networkpolicy_cnpg_operator_pod_labels": {"app name": "cnpg"}},
        ['networkpolicy_cnpg_operator_pod_labels is {"app name": "cnpg"}', "label keys"],
    ),
    "bad_cidr": (
        {"networkpolicy_api_server_cidrs": ["10.0.0.300/32"]},
        ['networkpolicy_api_server_cidrs is ["10.0.0.300/32"]', "as CIDRs"],
    ),
    "host_bits": (
        {"networkpolicy_api_server_cidrs": ["192.168.1.10/24"]},
        ["networkpolicy_api_server_cidrs has the CIDR 192.168.1.10/24", "Use the network, 192.168.1.0/24"],
    ),
    "bad_port": ({"networkpolicy_api_server_ports": [443, 70000]}, ["networkpolicy_api_server_ports is [443, 70000]"]),
    "bad_entity": (
        {"networkpolicy_gateway_cilium_entity": "gateway"},
        ['networkpolicy_gateway_cilium_entity is "gateway"', "kube-apiserver"],
    ),
    "egress_without_ports": (
        {"networkpolicy_mlflow_egress_extra": [{"name": "s3", "to": {"cidrs": ["192.0.2.0/24"]}}]},
        ["networkpolicy_mlflow_egress_extra has the item", "give name, to, ports"],
    ),
    "egress_with_source": (
        {
            "networkpolicy_mlflow_egress_extra": [
                {"name": "s3", "from": {}, "to": {"cidrs": ["192.0.2.0/24"]}, "ports": [443]}
            ]
        },
        ["networkpolicy_mlflow_egress_extra has the item"],
    ),
    "duplicate_name": (
        {"networkpolicy_flows_extra": [{"name": "dns", "from": {}, "to": {"cidrs": ["192.0.2.53/32"]}, "ports": [53]}]},
        ["these are used twice: dns"],
    ),
    "no_local_end": (
        {
            "networkpolicy_flows_extra": [
                {"name": "elsewhere", "from": {"namespace": "a"}, "to": {"namespace": "b"}, "ports": [80]}
            ]
        },
        ["networkpolicy_flows_extra has the flow elsewhere", "At least one end is pods of mlflow-unit"],
    ),
    "pods_and_cidrs": (
        {
            "networkpolicy_flows_extra": [
                {"name": "mixed", "from": {}, "to": {"pods": {}, "cidrs": ["192.0.2.0/24"]}, "ports": [80]}
            ]
        },
        ["networkpolicy_flows_extra has the flow mixed", "never both"],
    ),
    "bad_protocol": (
        {
            "networkpolicy_flows_extra": [
                {
                    "name": "ping",
                    "from": {},
                    "to": {"cidrs": ["192.0.2.0/24"]},
                    "ports": [{"port": 1, "protocol": "ICMP"}],
                }
            ]
        },
        ["networkpolicy_flows_extra has the flow ping", "protocol TCP, UDP or SCTP"],
    ),
    "entity_alone": (
        {"networkpolicy_flows_extra": [{"name": "world", "from": {}, "to": {"entity": "world"}, "ports": [443]}]},
        ["networkpolicy_flows_extra has the flow world"],
    ),
}


def test_preflight_accepts_good_input_and_names_the_variable_of_bad_input(repo_root, tmp_path):
    hosts = {
        "good_cilium": GOOD,
        "good_kubernetes": {
            **GOOD,
            "networkpolicy_kind": "kubernetes",
            "networkpolicy_api_server_cidrs": API_SERVER_CIDRS,
        },
        "good_full": {**GOOD, **CASES["full"]},
        **{name: {**GOOD, **host_vars} for name, (host_vars, _expected) in BAD_INPUT.items()},
    }
    inventory = write_inventory(tmp_path / "hosts.yml", hosts)

    result = run_playbook(repo_root, "networkpolicy", "preflight.yml", inventory)

    counters, good = recap(result.stdout), ("good_cilium", "good_kubernetes", "good_full")
    assert {host: counters[host]["failed"] for host in good} == dict.fromkeys(good, 0), result.stdout[-6000:]
    wrong = unexpected_failures(result.stdout, {host: expected for host, (_host_vars, expected) in BAD_INPUT.items()})
    assert wrong == {}, result.stdout[-8000:]
