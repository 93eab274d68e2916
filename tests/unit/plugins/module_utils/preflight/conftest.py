"""The preflight checks against the engine's in-memory API server (tests/unit/plugins/module_utils/kube/conftest.py),
with the kinds the roles read, and their variables as a plain mapping."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster


def _engine_fake():
    """The engine's test module, which holds the in-memory API server (loaded once, by its path)."""
    name = "homelab_mlflow_kube_fake"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "kube" / "conftest.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


APIS, FakeKube = _engine_fake().APIS, _engine_fake().FakeKube
ROLE_APIS = {
    **APIS,
    "v1": {
        **APIS["v1"],
        "Node": {"name": "nodes", "namespaced": False, "preferred": True},
        "PersistentVolumeClaim": {"name": "persistentvolumeclaims", "namespaced": True, "preferred": True},
    },
    "storage.k8s.io/v1": {"StorageClass": {"name": "storageclasses", "namespaced": False, "preferred": True}},
    "discovery.k8s.io/v1": {"EndpointSlice": {"name": "endpointslices", "namespaced": True, "preferred": True}},
    "postgresql.cnpg.io/v1": {
        "Cluster": {"name": "clusters", "namespaced": True, "preferred": True},
        "ScheduledBackup": {"name": "scheduledbackups", "namespaced": True, "preferred": True},
        "Backup": {"name": "backups", "namespaced": True, "preferred": True},
    },
    "longhorn.io/v1beta2": {"RecurringJob": {"name": "recurringjobs", "namespaced": True, "preferred": True}},
}


class RoleKube(FakeKube):
    """Lists of a kind with no objects are empty (the engine's fake knows only its own kinds' plurals)."""

    def request(self, method, path, body=None, content_type=None, accept=None, **params):
        if method == "GET" and path not in self.objects and not any(p.startswith(path + "/") for p in self.objects):
            if path.rsplit("/", 1)[-1] in {"storageclasses", "nodes", "endpointslices"}:
                self._count(method, path)
                return {"items": [], "metadata": {}}
        return super().request(method, path, body, content_type, accept, **params)

    def add(self, path: str, obj: dict) -> None:
        self.objects[path] = obj


def storage_class(name: str, provisioner: str = "driver.longhorn.io", expandable: bool = True) -> dict:
    return {"metadata": {"name": name}, "provisioner": provisioner, "allowVolumeExpansion": expandable}


def add_fixed_size_longhorn(kube) -> str:
    """Makes the StorageClass longhorn one that does not allow volume expansion; what a check says of it."""
    kube.add("/apis/storage.k8s.io/v1/storageclasses/longhorn", storage_class("longhorn", expandable=False))
    return "StorageClass longhorn does not allow volume expansion (allowVolumeExpansion)"


def assert_each_says(problems, expected: list[str]) -> None:
    """One problem for each expected text, in order, each message holding its text."""
    assert len(problems) == len(expected), problems
    for problem, text in zip(problems, expected, strict=True):
        assert text in problem.message


@pytest.fixture
def kube():
    fake = RoleKube()
    fake.add("/apis/storage.k8s.io/v1/storageclasses/longhorn", storage_class("longhorn"))
    return fake


@pytest.fixture
def cluster_of(kube):
    """A Cluster on the fake, with the given kinds (the roles' by default)."""

    def make(apis=ROLE_APIS, context=None):
        return Cluster(apis, lambda: kube, context=context)

    return make


@pytest.fixture
def problems_with(kube, cluster_of):
    """problems_with(check, values, path, live): the problems `check` finds in `values` with the
    object `live` at `path` on the cluster."""

    def find(check, values: dict, path: str, live: dict) -> list:
        kube.add(path, live)
        return check(values, cluster_of()).problems

    return find
