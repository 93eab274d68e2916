"""The networkpolicy role on the test cluster, through ansible-playbook (playbooks/networkpolicy.yml).

Two deployments per module, each a namespace of its own, run as two hosts of one run: `cilium`
(the cluster serves CiliumNetworkPolicy, so `auto` renders those, and the CRD's schema validates
them) and `kubernetes` (Kubernetes NetworkPolicy). They are converged and re-run; then each
switches to the other kind while bad input runs as further hosts of the same run, and a check-mode
run follows. The API server's audit log shows what was written, and in which order.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from ansible_runs import ansible_playbook, failure_messages, recap, unexpected_failures, unique, write_inventory
from kube_namespaces import delete_namespaces
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from networkpolicy_policies import DEFAULT_POLICIES

PLAYBOOK = Path(__file__).parent / "playbooks" / "networkpolicy.yml"
ADMIN = "testcluster-admin"
CILIUM = ("cilium.io", "v2", "ciliumnetworkpolicies")
NETWORKPOLICIES = "networking.k8s.io/networkpolicies"
CILIUMNETWORKPOLICIES = "cilium.io/ciliumnetworkpolicies"
API_SERVER = ["192.0.2.10/32"]
MANAGED = "app.kubernetes.io/managed-by=homelab.mlflow,app.kubernetes.io/component=networkpolicy"

MONITORING_POLICIES = ["mlflow-monitoring-to-server-ingress", "mlflow-monitoring-to-database-ingress"]
CILIUM_VARS = {
    "postgres_instances": 2,
    "networkpolicy_monitoring_namespace": "monitoring",
    "networkpolicy_mlflow_egress_extra": [{"name": "s3", "to": {"cidrs": ["203.0.113.0/24"]}, "ports": [443]}],
}
CILIUM_POLICIES = [
    *DEFAULT_POLICIES,
    "mlflow-database-replication-ingress",
    "mlflow-database-replication-egress",
    *MONITORING_POLICIES,
    "mlflow-s3-egress",
]
KUBERNETES_VARS = {
    "networkpolicy_kind": "kubernetes",
    "networkpolicy_api_server_cidrs": API_SERVER,
    "mlflow_gc_enabled": True,
}
KUBERNETES_POLICIES = [
    *DEFAULT_POLICIES,
    *(f"mlflow-gc-to-{to}-{direction}" for to in ("database", "server") for direction in ("ingress", "egress")),
]


def kubernetes_policies(k8s, namespace: str, selector: str | None = MANAGED) -> dict[str, dict]:
    items = client.NetworkingV1Api(k8s).list_namespaced_network_policy(namespace, label_selector=selector).items
    return {item.metadata.name: k8s.sanitize_for_serialization(item) for item in items}


def cilium_policies(k8s, namespace: str) -> dict[str, dict]:
    group, version, plural = CILIUM
    listed = client.CustomObjectsApi(k8s).list_namespaced_custom_object(
        group, version, namespace, plural, label_selector=MANAGED
    )
    return {item["metadata"]["name"]: item for item in listed["items"]}


# A policy someone else manages in the namespace: the role must leave it alone.
FOREIGN_POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "team-probe", "labels": {"app.kubernetes.io/managed-by": "someone-else"}},
    "spec": {"podSelector": {"matchLabels": {"app": "probe"}}, "policyTypes": ["Ingress"]},
}


@pytest.fixture(scope="module")
def deployment(repo_root, testcluster, k8s, tmp_path_factory):
    """Converge both deployments in one run, then run again."""
    namespaces = {"cilium": unique("np-cilium"), "kubernetes": unique("np-kube")}
    work = tmp_path_factory.mktemp("networkpolicy-role")
    client.CoreV1Api(k8s).create_namespace({"metadata": {"name": namespaces["kubernetes"]}})
    client.NetworkingV1Api(k8s).create_namespaced_network_policy(namespaces["kubernetes"], FOREIGN_POLICY)
    hosts = {
        "cilium": {"mlflow_namespace": namespaces["cilium"], **CILIUM_VARS},
        "kubernetes": {"mlflow_namespace": namespaces["kubernetes"], **KUBERNETES_VARS},
    }
    inventory = write_inventory(work / "hosts.yml", testcluster, hosts)
    try:
        first = ansible_playbook(repo_root, PLAYBOOK, inventory)
        second = ansible_playbook(repo_root, PLAYBOOK, inventory)
        yield {"namespaces": namespaces, "hosts": hosts, "work": work, "runs": (first, second)}
    finally:
        delete_namespaces(k8s, namespaces.values())


def test_converge_succeeds_and_a_second_run_changes_nothing(deployment):
    first, second = deployment["runs"]

    assert first.returncode == 0, first.stdout[-6000:]
    assert {host: counters["changed"] > 0 for host, counters in recap(first.stdout).items()} == {
        "cilium": True,
        "kubernetes": True,
    }
    assert second.returncode == 0, second.stdout[-6000:]
    assert {host: counters["changed"] for host, counters in recap(second.stdout).items()} == {
        "cilium": 0,
        "kubernetes": 0,
    }


def test_the_cluster_accepted_the_cilium_policies_as_rendered(deployment, k8s):
    first, _second = deployment["runs"]
    namespace = deployment["namespaces"]["cilium"]
    policies = cilium_policies(k8s, namespace)

    assert sorted(policies) == sorted(CILIUM_POLICIES)
    assert kubernetes_policies(k8s, namespace) == {}
    # Verify compared every spec the API server stored with the rendered one.
    verify = first.stdout.split(
        "TASK [homelab.mlflow.networkpolicy : Check that each policy of the model is in place as rendered]"
    )[1]
    assert "ok: [cilium]" in verify.split("TASK [")[0]
    deny = policies["mlflow-default-deny"]["spec"]
    assert deny["endpointSelector"] == {}
    assert deny["enableDefaultDeny"] == {"ingress": True, "egress": True}
    api_server = policies["mlflow-database-to-api-server-egress"]["spec"]["egress"]
    assert api_server[0]["toEntities"] == ["kube-apiserver"]
    monitoring = policies["mlflow-monitoring-to-database-ingress"]["spec"]["ingress"][0]
    assert monitoring["fromEndpoints"] == [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}]
    assert monitoring["toPorts"] == [{"ports": [{"port": "9187", "protocol": "TCP"}]}]


def test_the_crds_validation_refuses_what_it_should(deployment, k8s):
    """The acceptance above means something: the same policy with a bad protocol is refused."""
    group, version, plural = CILIUM
    namespace = deployment["namespaces"]["cilium"]
    policy = copy.deepcopy(cilium_policies(k8s, namespace)["mlflow-dns-egress"])
    policy["metadata"] = {"name": "mlflow-dns-egress-bad", "namespace": namespace}
    policy["spec"]["egress"][0]["toPorts"][0]["ports"][0]["protocol"] = "ICMP"

    with pytest.raises(ApiException) as refused:
        client.CustomObjectsApi(k8s).create_namespaced_custom_object(
            group, version, namespace, plural, policy, dry_run="All"
        )

    assert refused.value.status == 422
    assert "protocol" in refused.value.body


def test_the_kubernetes_policies_are_in_place_beside_a_foreign_one(deployment, k8s):
    namespace = deployment["namespaces"]["kubernetes"]
    policies = kubernetes_policies(k8s, namespace)

    assert sorted(policies) == sorted(KUBERNETES_POLICIES)
    assert policies["mlflow-default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert policies["mlflow-database-to-api-server-egress"]["spec"]["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": API_SERVER[0]}}],
            "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
        }
    ]
    assert "team-probe" in kubernetes_policies(k8s, namespace, selector=None)


def test_check_mode_reports_and_writes_nothing(deployment, repo_root, testcluster, k8s, tmp_path):
    """A fresh namespace is reported; a flow added to a deployment is dry-run, and shown."""
    fresh = unique("np-check")
    existing = deployment["namespaces"]["kubernetes"]
    hosts = {
        "fresh": {"mlflow_namespace": fresh, **KUBERNETES_VARS},
        "more": {**deployment["hosts"]["kubernetes"], "networkpolicy_monitoring_namespace": "monitoring"},
    }
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, hosts)
    before = kubernetes_policies(k8s, existing)

    mark = testcluster.audit.mark()
    result = ansible_playbook(repo_root, PLAYBOOK, inventory, "--check", "--diff")

    assert result.returncode == 0, result.stdout[-6000:]
    text = " ".join(result.stdout.split())
    assert f"NetworkPolicy {fresh}/mlflow-default-deny" in text
    assert f"NetworkPolicy {fresh}/mlflow-dns-egress" in text
    assert recap(result.stdout)["more"]["changed"] == 1
    # --diff shows the policies the dry run would create.
    shown = result.stdout.split(
        "TASK [homelab.mlflow.networkpolicy : Apply the policies of the flow model as NetworkPolicy]"
    )[1]
    assert f"+++ after: NetworkPolicy {existing}/mlflow-monitoring-to-server-ingress" in shown.split("TASK [")[0]
    assert testcluster.audit.writes(mark, user=ADMIN, namespace=fresh) == []
    assert testcluster.audit.writes(mark, user=ADMIN, namespace=existing) == []
    assert kubernetes_policies(k8s, existing) == before


def test_verify_finds_a_policy_changed_behind_the_roles_back(deployment, repo_root, testcluster, k8s, tmp_path):
    namespace = deployment["namespaces"]["kubernetes"]
    networking = client.NetworkingV1Api(k8s)
    widened = {
        "spec": {"ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 5432}]}]}
    }
    networking.patch_namespaced_network_policy("mlflow-server-to-database-ingress", namespace, widened)
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, {"kubernetes": deployment["hosts"]["kubernetes"]})

    mark = testcluster.audit.mark()
    result = ansible_playbook(repo_root, PLAYBOOK, inventory, "--tags", "verify")

    assert result.returncode != 0
    message = " ".join(failure_messages(result.stdout)["kubernetes"])
    assert f"NetworkPolicy mlflow-server-to-database-ingress in namespace {namespace} has the spec" in message
    assert '"namespaceSelector": {}' in message
    assert testcluster.audit.writes(mark, user=ADMIN, namespace=namespace) == []


def test_switching_kinds_and_dropping_a_flow_never_leaves_the_namespace_open(
    deployment, repo_root, testcluster, k8s, tmp_path
):
    """cilium -> kubernetes without monitoring, kubernetes -> cilium: new policies first, then the old go."""
    namespaces = deployment["namespaces"]
    hosts = {
        "cilium": {**deployment["hosts"]["cilium"], **KUBERNETES_VARS, "networkpolicy_monitoring_namespace": ""},
        "kubernetes": {**deployment["hosts"]["kubernetes"], "networkpolicy_kind": "auto"},
    }
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, hosts)

    mark = testcluster.audit.mark()
    result = ansible_playbook(repo_root, PLAYBOOK, inventory)

    assert result.returncode == 0, result.stdout[-6000:]
    now_kubernetes = kubernetes_policies(k8s, namespaces["cilium"])
    gc_policies = [
        f"mlflow-gc-to-{to}-{direction}" for to in ("database", "server") for direction in ("ingress", "egress")
    ]
    replication = ["mlflow-database-replication-ingress", "mlflow-database-replication-egress"]
    assert sorted(now_kubernetes) == sorted([*DEFAULT_POLICIES, *replication, "mlflow-s3-egress", *gc_policies])
    assert cilium_policies(k8s, namespaces["cilium"]) == {}
    assert sorted(cilium_policies(k8s, namespaces["kubernetes"])) == sorted(KUBERNETES_POLICIES)
    assert kubernetes_policies(k8s, namespaces["kubernetes"]) == {}
    # The foreign policy has none of the role's labels: it stays.
    assert "team-probe" in kubernetes_policies(k8s, namespaces["kubernetes"], selector=None)
    # In each namespace, every policy of the new kind was applied before the first of the old went.
    for namespace, new, old in (
        (namespaces["cilium"], NETWORKPOLICIES, CILIUMNETWORKPOLICIES),
        (namespaces["kubernetes"], CILIUMNETWORKPOLICIES, NETWORKPOLICIES),
    ):
        writes = testcluster.audit.writes(mark, user=ADMIN, namespace=namespace)
        applied = [i for i, w in enumerate(writes) if w.resource == new and w.verb == "patch"]
        deleted = [i for i, w in enumerate(writes) if w.resource == old and w.verb == "delete"]
        assert applied, writes
        assert deleted, writes
        assert max(applied) < min(deleted), [(w.verb, w.resource, w.name) for w in writes]
        assert {w.name for w in writes if w.verb == "delete"} <= {
            *CILIUM_POLICIES,
            *KUBERNETES_POLICIES,
        }


def test_bad_input_fails_before_any_write_and_names_the_variable(repo_root, testcluster, k8s, tmp_path):
    # The kubernetes Service's endpoints, as a cluster whose API server reconciles them has: preflight
    # names their addresses. (The test cluster's API server keeps none of its own.)
    discovery = client.DiscoveryV1Api(k8s)
    endpoints = unique("kubernetes")
    discovery.create_namespaced_endpoint_slice(
        "default",
        {
            "metadata": {"name": endpoints, "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["198.51.100.7"]}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        },
    )
    cases = {
        "no_addresses": (
            {"networkpolicy_kind": "kubernetes"},
            ["networkpolicy_api_server_cidrs is empty", '["198.51.100.7/32"]', "kubernetes Service's endpoints"],
        ),
        "host_bits": (
            {"networkpolicy_kind": "kubernetes", "networkpolicy_api_server_cidrs": ["10.96.0.1/12"]},
            ["networkpolicy_api_server_cidrs has the CIDR 10.96.0.1/12", "Use the network, 10.96.0.0/12"],
        ),
        "bad_flow": (
            {
                "networkpolicy_flows_extra": [
                    {"name": "x", "from": {"namespace": "a"}, "to": {"namespace": "b"}, "ports": [1]}
                ]
            },
            ["networkpolicy_flows_extra has the flow x", "At least one end is pods of"],
        ),
    }
    hosts = {
        name: {"mlflow_namespace": unique("np-bad"), **host_vars} for name, (host_vars, _expected) in cases.items()
    }
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, hosts)

    mark = testcluster.audit.mark()
    try:
        result = ansible_playbook(repo_root, PLAYBOOK, inventory)
    finally:
        discovery.delete_namespaced_endpoint_slice(endpoints, "default")

    wrong = unexpected_failures(result.stdout, {host: expected for host, (_host_vars, expected) in cases.items()})
    assert wrong == {}, result.stdout[-8000:]
    for host in hosts.values():
        assert testcluster.audit.writes(mark, user=ADMIN, namespace=host["mlflow_namespace"]) == []
