"""plugins/module_utils/kube/kubeconfig.py: which API server a kubeconfig leads to, or which variable to fix."""

from __future__ import annotations

import importlib
import socket

import pytest
import yaml

PACKAGE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube"
kubeconfig = importlib.import_module(f"{PACKAGE}.kubeconfig")


def write(path, server="https://10.0.0.1:6443", current="a", contexts=("a",)):
    path.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": server} if server else {}}],
                "contexts": [{"name": name, "context": {"cluster": "c"}} for name in contexts],
                "current-context": current,
            }
        )
    )
    return str(path)


def test_the_current_context_selects_the_server(tmp_path):
    target = kubeconfig.find_target(write(tmp_path / "k"), None, "h")
    assert (target.server, target.context, target.address) == ("https://10.0.0.1:6443", "a", ("10.0.0.1", 6443))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"current": None},
            "has no current-context and mlflow_kube_context is not set (host h): set mlflow_kube_context to one of a",
        ),
        ({"server": ""}, "refers to a cluster without a server address"),
    ],
)
def test_a_kubeconfig_that_leads_nowhere_names_the_variable(tmp_path, arguments, message):
    with pytest.raises(kubeconfig.TargetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kubeconfig.find_target(write(tmp_path / "k", **arguments), None, "h")


def test_an_unknown_context_lists_the_ones_there_are(tmp_path):
    with pytest.raises(kubeconfig.TargetError, match=r'mlflow_kube_context is "red", .* one of blue, green\.'):
        kubeconfig.find_target(write(tmp_path / "k", contexts=("blue", "green")), "red", "h")


def test_a_missing_file_points_at_the_local_cluster_and_the_example(tmp_path):
    with pytest.raises(kubeconfig.TargetError, match="make cluster-up"):
        kubeconfig.find_target(str(tmp_path / "nothing"), None, "h")


def test_a_closed_port_does_not_accept_connections():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        assert not kubeconfig.accepts_connections("127.0.0.1", sock.getsockname()[1], 1)
