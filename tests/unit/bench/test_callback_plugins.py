"""bench/callback_plugins: Ansible reads every callback's DOCUMENTATION when a run starts, so a bad one stops
every benchmarked run before its first task."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

CALLBACK_PLUGINS = Path(__file__).resolve().parents[3] / "bench" / "callback_plugins"
CALLBACKS = sorted(CALLBACK_PLUGINS.glob("*.py"))


def documentation(path):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path.name} has no DOCUMENTATION")


@pytest.mark.parametrize("path", CALLBACKS, ids=lambda path: path.stem)
def test_documentation_is_yaml_naming_the_callback(path):
    assert documentation(path)["name"] == path.stem


def test_capture_keeps_what_the_roles_declared_not_what_the_server_allocated():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_capture", CALLBACK_PLUGINS / "bench_capture.py")
    capture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(capture)
    callback = capture.CallbackModule()
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "mlflow", "namespace": "mlflow", "uid": "u-1", "managedFields": [{}]},
        "spec": {"clusterIP": "10.96.0.7", "clusterIPs": ["10.96.0.7"], "ports": [{"port": 5000}]},
        "status": {"loadBalancer": {}},
    }
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "mlflow"}}
    callback._collect_applied("target", {"resources": [service, secret]})
    assert list(callback._objects["target"].values()) == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "mlflow", "namespace": "mlflow"},
            "spec": {"ports": [{"port": 5000}]},
        }
    ]
