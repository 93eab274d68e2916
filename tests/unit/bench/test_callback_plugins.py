"""bench/callback_plugins: Ansible reads every callback's DOCUMENTATION when a run starts, so a bad one stops
every benchmarked run before its first task."""

from __future__ import annotations

import ast
import importlib.util
import json
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


def load(name):
    spec = importlib.util.spec_from_file_location(name, CALLBACK_PLUGINS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CallbackModule()


def test_capture_keeps_what_the_roles_declared_not_what_the_server_allocated():
    callback = load("bench_capture")
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


class Result:
    def __init__(self, host, outcome):
        self._host = type("Host", (), {"get_name": lambda _self: host})()
        self._result = outcome


def test_timing_counts_a_task_waited_on_by_several_targets_once_at_its_longest(tmp_path, monkeypatch):
    callback = load("bench_timing")
    task = type("Task", (), {"action": "homelab.mlflow.k8s_verify"})()
    callback.v2_playbook_on_task_start(task, False)
    callback.v2_runner_on_ok(Result("one", {"waited_seconds": 3.0, "requests": {"GET": 2}}))
    callback.v2_runner_on_ok(Result("two", {"waited_seconds": 5.0, "requests": {"GET": 1}}))
    callback.v2_playbook_on_task_start(task, False)
    callback.v2_runner_on_skipped(Result("one", {}))
    monkeypatch.setenv("BENCH_TIMING_FILE", str(tmp_path / "timing.json"))
    callback.v2_playbook_on_stats(None)
    timing = json.loads((tmp_path / "timing.json").read_text())
    assert timing["wait_seconds"] == 5.0
    assert timing["engine_requests"] == {"GET": 3}
    assert timing["tasks_per_host"] == {"one": 2, "two": 1}
