"""The engine (plugins/module_utils/kube) under its collection name, without Ansible's loader, and an
in-memory API server at its Kube boundary (fixture `fake_kube`).

Server-side apply is simplified there (the applied object replaces the declared fields, a default is
added, resourceVersion moves only when something changed), which is what the engine relies on.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[5]
PACKAGE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube"
# In the order they import each other.
MODULES = (
    "client",
    "discovery",
    "objects",
    "compare",
    "pointers",
    "managed_fields",
    "ignore",
    "ready",
    "apply",
    "kubeconfig",
    "task",
)


def load(name: str):
    full = f"{PACKAGE}.{name}"
    if full not in sys.modules:
        spec = importlib.util.spec_from_file_location(full, REPO / "plugins" / "module_utils" / "kube" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
    return sys.modules[full]


for _name in MODULES:
    load(_name)


client = load("client")

# Kinds of the tests: (group version, kind) -> (plural, namespaced).
APIS = {
    "v1": {
        "Namespace": {"name": "namespaces", "namespaced": False, "preferred": True},
        "ConfigMap": {"name": "configmaps", "namespaced": True, "preferred": True},
        "Secret": {"name": "secrets", "namespaced": True, "preferred": True},
    },
    "apps/v1": {"Deployment": {"name": "deployments", "namespaced": True, "preferred": True}},
    "batch/v1": {"Job": {"name": "jobs", "namespaced": True, "preferred": True}},
    "networking.k8s.io/v1": {"NetworkPolicy": {"name": "networkpolicies", "namespaced": True, "preferred": True}},
}
COLLECTIONS = {"namespaces", "configmaps", "secrets", "deployments", "jobs", "networkpolicies"}


def _selected(obj: dict, selector: str | None) -> bool:
    """Whether the object has every label of an equality-based selector (a=b,c=d)."""
    if not selector:
        return True
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(labels.get(key) == value for key, value in (term.split("=", 1) for term in selector.split(",")))


def _merge(live: dict, declared: dict) -> dict:
    merged = copy.deepcopy(live)
    for key, value in declared.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class FakeKube(client.Kube):
    """Objects by path; `sent` records every request as (method, path)."""

    def __init__(self, namespaces=("ns",)):
        super().__init__(dynamic=None)  # pylint: disable=unexpected-keyword-arg
        self.objects: dict[str, dict] = {}
        self.namespaces = set(namespaces)
        self.sent: list[tuple[str, str]] = []
        self.version = 1
        self.refuse: dict[str, tuple[int, str]] = {}
        self.resources = load("discovery").Resources(APIS)

    @property
    def host(self) -> str:
        return "https://fake"

    def _count(self, method: str, path: str) -> None:
        self.sent.append((method, path))
        self.requests[method] = self.requests.get(method, 0) + 1

    def request(self, method, path, body=None, content_type=None, accept=None, **params):
        self._count(method, path)
        if path in self.refuse:
            status, message = self.refuse[path]
            raise client.KubeError(message, status, "Invalid", {"causes": [{"field": "spec.x", "message": "bad"}]})
        if method == "GET":
            if path in self.objects:
                return copy.deepcopy(self.objects[path])
            prefix = path + "/"
            items = [
                copy.deepcopy(o)
                for p, o in self.objects.items()
                if p.startswith(prefix) and "/" not in p[len(prefix) :] and _selected(o, params.get("label_selector"))
            ]
            if items or path.rsplit("/", 1)[-1] in COLLECTIONS:
                for item in items:
                    item.pop("apiVersion", None), item.pop("kind", None)
                return {"items": items, "metadata": {}}
            raise client.KubeError("not found", 404, "NotFound")
        if method == "PATCH":
            return self._apply(path, json.loads(body), params.get("dry_run") == "All")
        if method == "DELETE":
            if path not in self.objects:
                raise client.KubeError("not found", 404, "NotFound")
            if params.get("dry_run") != "All":
                del self.objects[path]
            return {"status": "Success"}
        raise AssertionError(f"unexpected {method} {path}")

    def _apply(self, path: str, declared: dict, dry_run: bool) -> dict:
        namespace = (declared.get("metadata") or {}).get("namespace")
        if namespace and namespace not in self.namespaces:
            raise client.KubeError(f'namespaces "{namespace}" not found', 404, "NotFound")
        live = self.objects.get(path)
        merged = _merge(live or {"metadata": {"uid": "u", "resourceVersion": "0"}}, declared)
        if merged.get("kind") == "Deployment":
            merged.setdefault("spec", {}).setdefault("revisionHistoryLimit", 10)  # a default the server adds
        if live is None or merged != live:
            self.version += 1
            merged["metadata"]["resourceVersion"] = str(self.version)
        if not dry_run:
            self.objects[path] = merged
        return copy.deepcopy(merged)


@pytest.fixture
def fake_kube():
    return FakeKube
