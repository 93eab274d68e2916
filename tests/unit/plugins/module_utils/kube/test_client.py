"""plugins/module_utils/kube/client.py: a connection names the collection and the task's action to the API server."""

from __future__ import annotations

import importlib

import yaml

client = importlib.import_module("ansible_collections.homelab.mlflow.plugins.module_utils.kube.client")


def kubeconfig(path):
    path.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "a",
            }
        )
    )
    return str(path)


def test_requests_name_the_collection_and_the_action_in_their_user_agent(tmp_path):
    kube = client.Kube.connect(kubeconfig(tmp_path / "k"), agent="homelab.mlflow.k8s_apply")
    assert kube.dynamic.client.user_agent == "homelab.mlflow (homelab.mlflow.k8s_apply)"
    assert kube.host == "https://10.0.0.1:6443"


def test_without_an_action_the_user_agent_is_the_collection(tmp_path):
    assert client.Kube.connect(kubeconfig(tmp_path / "k")).dynamic.client.user_agent == "homelab.mlflow"
