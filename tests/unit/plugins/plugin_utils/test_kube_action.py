"""plugins/plugin_utils/kube_action.py: the Kubernetes actions reach the target's API server through the engine's
connection, from their options or else the inventory's variables, and name their task's action in every request.
A kubeconfig on disk, no server: nothing here sends a request."""

from __future__ import annotations

import yaml
from action_harness import build

from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

APIS = {"v1": {"Secret": {"name": "secrets", "namespaced": True}}}


class Connect(KubeAction):
    def run(self, tmp=None, task_vars=None):
        raise AssertionError("the tests call the helpers alone")


def kubeconfig(path, servers: dict[str, str]) -> str:
    """A kubeconfig with one context (and cluster) per server; the first is the current one."""
    names = list(servers)
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": names[0],
                "clusters": [{"name": name, "cluster": {"server": server}} for name, server in servers.items()],
                "users": [{"name": "admin", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": name, "context": {"cluster": name, "user": "admin"}} for name in names],
            }
        )
    )
    return str(path)


def test_open_cluster_takes_kubeconfig_and_context_from_the_variables_when_the_options_are_unset(tmp_path):
    config = kubeconfig(tmp_path / "config", {"first": "https://first.test:6443", "second": "https://second.test:6443"})
    variables = {"mlflow_kubeconfig": config, "mlflow_kube_context": "second"}

    kube = build(Connect, "homelab.mlflow.k8s_verify", {}).open_cluster({}, variables)

    assert kube.host == "https://second.test:6443"
    assert kube.requests == {}


def test_the_options_win_over_the_variables(tmp_path):
    inventory = kubeconfig(tmp_path / "inventory", {"inventory": "https://inventory.test:6443"})
    given = kubeconfig(tmp_path / "given", {"first": "https://first.test:6443", "other": "https://other.test:6443"})
    variables = {"mlflow_kubeconfig": inventory, "mlflow_kube_context": "inventory"}

    kube = build(Connect, "homelab.mlflow.k8s_verify", {}).open_cluster(
        {"kubeconfig": given, "context": "other"}, variables
    )

    assert kube.host == "https://other.test:6443"


def test_every_request_names_the_tasks_action(tmp_path):
    config = kubeconfig(tmp_path / "config", {"only": "https://only.test:6443"})

    kube = build(Connect, "homelab.mlflow.posture_checks", {}).open_cluster({"kubeconfig": config}, {})

    assert kube.dynamic.client.user_agent.endswith("(homelab.mlflow.posture_checks)")


def test_connect_cluster_takes_the_kinds_from_the_option_then_the_runs_discovery(tmp_path):
    config = kubeconfig(tmp_path / "config", {"only": "https://only.test:6443"})
    action = build(Connect, "homelab.mlflow.network_policies", {})
    discovered = {"cluster_preflight_cluster_info": {"apis": {"apps/v1": {"Deployment": {"name": "deployments"}}}}}

    kube, resources = action.connect_cluster({"kubeconfig": config, "apis": APIS}, discovered)
    assert resources.serves("v1", "Secret")
    assert not resources.serves("apps/v1", "Deployment")

    kube, resources = action.connect_cluster({"kubeconfig": config, "apis": None}, discovered)
    assert resources.serves("apps/v1", "Deployment")
    assert kube.requests == {}
