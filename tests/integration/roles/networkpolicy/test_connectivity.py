"""Which connections the deployed stack's Kubernetes NetworkPolicies allow, as a third-party analyzer computes it.

site.yml deploys the whole stack (inventories/local) into a fresh namespace with Kubernetes
NetworkPolicies, two PostgreSQL instances, `mlflow gc`, a monitoring namespace and one further
MLflow destination. The namespace's pods (kwok runs them; the gc CronJob's pod, which only its
schedule would start, is represented by a pod with the labels of its pod template) and the
policies as the API server stored them are exported, with pods standing for the peers in other
namespaces: Authentik's proxy outpost and its server, the gateway, the CloudNativePG operator,
cluster DNS and another kube-system pod, Prometheus and Grafana, and a pod elsewhere. np-guard's
netpol-analyzer (`netpolicy list`) computes every allowed connection; the test asserts that those
touching the namespace are exactly the intended flows, and that the analysis notices a policy
taken away.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from ansible_runs import VENV_BIN, ansible_env, run_captured
from kube_namespaces import delete_namespaces
from kubernetes import client

API_SERVER = "192.0.2.10/32"
S3 = "203.0.113.0/24"
DEPLOYMENT_VARS = {
    "networkpolicy_kind": "kubernetes",
    "networkpolicy_api_server_cidrs": [API_SERVER],
    "networkpolicy_monitoring_namespace": "monitoring",
    "networkpolicy_monitoring_pod_labels": {"app.kubernetes.io/name": "prometheus"},
    "networkpolicy_mlflow_egress_extra": [{"name": "s3", "to": {"cidrs": [S3]}, "ports": [443]}],
    # Two instances, on two of the test cluster's three nodes (the default anti-affinity, required).
    "postgres_instances": 2,
    "mlflow_gc_enabled": True,
    # MLflow's own HTTPRoute, so that the gateway's flow to MLflow is part of the analysis
    # (inventories/local routes through Authentik's outpost instead, which proxy mode requires).
    "mlflow_httproute_enabled": True,
    "authentik_provider_mode": "forward_single",
}

# Pods standing for the peers outside the namespace: (namespace, name, labels).
PEERS = [
    (
        "authentik",
        "outpost",
        {"app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "proxy"},
    ),
    ("authentik", "authentik-server", {"app.kubernetes.io/name": "authentik", "app.kubernetes.io/component": "server"}),
    ("cilium-system", "gateway", {"gateway.networking.k8s.io/gateway-name": "main-gateway"}),
    ("cnpg-system", "operator", {"app.kubernetes.io/name": "cloudnative-pg"}),
    ("kube-system", "coredns", {"k8s-app": "kube-dns"}),
    ("kube-system", "metrics-server", {"k8s-app": "metrics-server"}),
    ("monitoring", "prometheus", {"app.kubernetes.io/name": "prometheus"}),
    ("monitoring", "grafana", {"app.kubernetes.io/name": "grafana"}),
    ("elsewhere", "anything", {"app": "anything"}),
]

TCP = "TCP"
DNS = {("UDP", "53"), (TCP, "53")}
API_SERVER_RANGE = "192.0.2.10-192.0.2.10"
S3_RANGE = "203.0.113.0-203.0.113.255"
DATABASES = ("database-1", "database-2")
STACK = ("server", "db-upgrade", "gc", *DATABASES)


def intended_flows() -> dict[tuple[str, str], set]:
    """Every connection that may touch the namespace, (source, destination) -> {(protocol, port)}."""
    flows: dict[tuple[str, str], set] = {(pod, "coredns"): set(DNS) for pod in STACK}
    flows[("gateway", "server")] = {(TCP, "5000")}
    flows[("outpost", "server")] = {(TCP, "5000")}
    flows[("gc", "server")] = {(TCP, "5000")}
    flows[("prometheus", "server")] = {(TCP, "5000")}
    flows[("server", S3_RANGE)] = {(TCP, "443")}
    for database in DATABASES:
        for client_pod in ("server", "db-upgrade", "gc"):
            flows[(client_pod, database)] = {(TCP, "5432")}
        flows[("operator", database)] = {(TCP, "5432"), (TCP, "8000")}
        flows[("prometheus", database)] = {(TCP, "9187")}
        flows[(database, API_SERVER_RANGE)] = {(TCP, "443"), (TCP, "6443")}
    flows[("database-1", "database-2")] = {(TCP, "5432")}
    flows[("database-2", "database-1")] = {(TCP, "5432")}
    return flows


def site_playbook(repo_root: Path, testcluster, namespace: str) -> subprocess.CompletedProcess:
    env = ansible_env(repo_root)
    variables = {"mlflow_namespace": namespace, "mlflow_kubeconfig": str(testcluster.kubeconfig), **DEPLOYMENT_VARS}
    command = [
        *(str(VENV_BIN / "ansible-playbook"), "site.yml", "-i", "inventories/local", "-e", json.dumps(variables)),
        # The scheduled drift run starts no pod of the stack: left out, to save its time.
        *("--skip-tags", "drift_cronjob"),
    ]
    return run_captured(command, repo_root, env, timeout=900)


def pod(namespace: str, name: str, labels: dict) -> dict:
    """A pod as the analyzer reads it: its own peer (no owner), with its labels."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "registry.invalid/stand-in"}]},
        "status": {"phase": "Running"},
    }


def namespace_object(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
    }


def stack_role(labels: dict) -> str:
    """What a pod of the namespace is, by the labels the roles and CloudNativePG give it."""
    if "cnpg.io/instanceName" in labels:
        return "database-" + labels["cnpg.io/instanceName"].rsplit("-", 1)[1]
    return labels["app.kubernetes.io/component"]


def export(k8s, namespace: str, directory: Path) -> dict[str, str]:
    """Write the analyzer's input into `directory`; returns the analyzer's peer name -> role name."""
    core, networking, batch = client.CoreV1Api(k8s), client.NetworkingV1Api(k8s), client.BatchV1Api(k8s)
    names: dict[str, str] = {}
    pods = []
    for item in core.list_namespaced_pod(namespace).items:
        # Without owner references every pod is its own peer: the analyzer would otherwise merge
        # both database instances into their Cluster and hide the replication between them.
        pods.append(pod(namespace, item.metadata.name, item.metadata.labels))
        names[f"{namespace}/{item.metadata.name}[Pod]"] = stack_role(item.metadata.labels)
    gc_labels = batch.read_namespaced_cron_job("mlflow-gc", namespace).spec.job_template.spec.template.metadata.labels
    pods.append(pod(namespace, "mlflow-gc-run", gc_labels))
    names[f"{namespace}/mlflow-gc-run[Pod]"] = stack_role(gc_labels)
    for peer_namespace, name, labels in PEERS:
        pods.append(pod(peer_namespace, name, labels))
        names[f"{peer_namespace}/{name}[Pod]"] = name
    namespaces = [namespace_object(name) for name in sorted({namespace} | {peer[0] for peer in PEERS})]
    policies = []
    for item in networking.list_namespaced_network_policy(namespace).items:
        stored = k8s.sanitize_for_serialization(item)
        stored["apiVersion"], stored["kind"] = "networking.k8s.io/v1", "NetworkPolicy"
        stored["metadata"] = {key: stored["metadata"][key] for key in ("name", "namespace", "labels")}
        policies.append(stored)
    directory.mkdir(parents=True, exist_ok=True)
    for file, documents in (("namespaces", namespaces), ("pods", pods), ("policies", policies)):
        (directory / f"{file}.yaml").write_text(yaml.safe_dump_all(documents))
    return names


def analyze(analyzer: Path, directory: Path) -> list[dict]:
    command = [str(analyzer), "list", "--dirpath", str(directory), "--output", "json"]
    result = run_captured(command, directory, dict(os.environ), timeout=120)
    # It reports what it could not read on stderr, and carries on: nothing may be left out.
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", result.stderr
    return json.loads(result.stdout)


def connections(text: str) -> set:
    """`TCP 5432,8000` or `TCP 53,UDP 53` -> {(protocol, port)}; `All Connections` -> {("ALL", "*")}."""
    if text == "All Connections":
        return {("ALL", "*")}
    found, protocol = set(), ""
    for part in (part.strip() for part in text.split(",")):
        if " " in part:
            protocol, part = part.split(" ", 1)
        found.add((protocol, part))
    return found


def allowed_flows(report: list[dict], names: dict[str, str], namespace: str) -> dict[tuple[str, str], set]:
    """The analyzer's connections with an end in the namespace, by role names (IP ranges stay)."""
    return {
        (names.get(line["src"], line["src"]), names.get(line["dst"], line["dst"])): connections(line["conn"])
        for line in report
        if line["src"].startswith(f"{namespace}/") or line["dst"].startswith(f"{namespace}/")
    }


@pytest.fixture(scope="module")
def stack(repo_root, testcluster, k8s, tmp_path_factory):
    namespace = f"np-flows-{uuid.uuid4().hex[:8]}"
    try:
        result = site_playbook(repo_root, testcluster, namespace)
        directory = tmp_path_factory.mktemp("netpol-analysis")
        names = export(k8s, namespace, directory) if result.returncode == 0 else {}
        yield {"namespace": namespace, "run": result, "directory": directory, "names": names}
    finally:
        delete_namespaces(k8s, [namespace])


def test_the_stack_deploys_behind_its_network_policies(stack):
    result = stack["run"]

    assert result.returncode == 0, result.stdout[-6000:]
    # The policies were applied and verified before the first pod-starting role ran.
    order = [
        result.stdout.index(f"TASK [homelab.mlflow.{task}")
        for task in (
            "networkpolicy : Apply the policies of the flow model as NetworkPolicy]",
            "networkpolicy : Check that each policy of the model is in place as rendered]",
            "postgres : Apply the PostgreSQL cluster and its credentials]",
            "mlflow : Apply the migration Job and wait for it to complete]",
        )
    ]
    assert order == sorted(order)
    # Every pod the analysis needs is there: MLflow, its migration Job and both instances.
    assert sorted(stack["names"].values()) == sorted(
        ["server", "db-upgrade", "gc", *DATABASES, *(peer[1] for peer in PEERS)]
    )


def test_the_policies_allow_exactly_the_intended_flows(stack, netpol_analyzer):
    report = analyze(netpol_analyzer, stack["directory"])

    assert allowed_flows(report, stack["names"], stack["namespace"]) == intended_flows()


def test_the_analysis_notices_a_policy_taken_away(stack, netpol_analyzer, tmp_path):
    """Control: without the operator's policy the operator loses its flows; without the default
    deny, anything reaches the pods no other policy isolates for ingress (the migration Job's, gc's)."""
    policies = list(yaml.safe_load_all((stack["directory"] / "policies.yaml").read_text()))
    for removed, lost, gained in (
        ("mlflow-operator-to-database-ingress", {("operator", "database-1"), ("operator", "database-2")}, set()),
        ("mlflow-default-deny", set(), {("anything", "db-upgrade"), ("anything", "gc")}),
    ):
        directory = tmp_path / removed
        directory.mkdir()
        for file in ("namespaces.yaml", "pods.yaml"):
            (directory / file).write_text((stack["directory"] / file).read_text())
        kept = [policy for policy in policies if policy["metadata"]["name"] != removed]
        (directory / "policies.yaml").write_text(yaml.safe_dump_all(kept))

        flows = allowed_flows(analyze(netpol_analyzer, directory), stack["names"], stack["namespace"])

        assert lost.isdisjoint(flows), removed
        assert gained <= set(flows), removed
        assert set(intended_flows()) - lost <= set(flows), removed
