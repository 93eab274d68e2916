"""plugins/module_utils/mlflow_workspaces.py, against an in-memory MLflow with workspaces."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_api import ApiCheckError, MlflowApi
from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_workspaces import (
    EXPERIMENT,
    WORKSPACE_HEADER,
    workspace_check,
)

BASE = "http://mlflow.test"
NOT_FOUND = (404, b'{"error_code": "RESOURCE_DOES_NOT_EXIST"}')


class FakeWorkspaces:
    """Workspaces and the experiments in each, as a server with --enable-workspaces keeps them (`shared`: one
    that ignores the header, as a server without workspaces would)."""

    def __init__(self, shared: bool = False, enabled: bool = True):
        self.shared, self.enabled = shared, enabled
        self.workspaces: dict[str, dict] = {"default": {}}
        self.calls: list[tuple[str, str, str | None]] = []

    def __call__(self, method, url, body, headers):
        parts = urlsplit(url)
        path, query = parts.path, parse_qs(parts.query)
        workspace = "default" if self.shared else headers.get(WORKSPACE_HEADER, "default")
        self.calls.append((method, path, headers.get(WORKSPACE_HEADER)))
        payload = json.loads(body) if body else None
        if path.startswith("/api/3.0/mlflow/workspaces") and not self.enabled:
            return 503, b"Endpoint: ... disabled because the server is running without workspaces support."
        if (method, path) == ("POST", "/api/3.0/mlflow/workspaces"):
            self.workspaces[payload["name"]] = {}
            return 201, json.dumps({"workspace": {"name": payload["name"]}}).encode()
        if method == "DELETE" and path.startswith("/api/3.0/mlflow/workspaces/"):
            assert query == {"mode": ["CASCADE"]}
            self.workspaces.pop(path.rsplit("/", 1)[1])
            return 204, b""
        experiments = self.workspaces[workspace]
        if path == "/api/2.0/mlflow/experiments/create":
            experiment_id = str(sum(len(e) for e in self.workspaces.values()) + 1)
            experiments[payload["name"]] = experiment_id
            return 200, json.dumps({"experiment_id": experiment_id}).encode()
        if path == "/api/2.0/mlflow/experiments/get-by-name":
            name = query["experiment_name"][0]
            if name not in experiments:
                return NOT_FOUND
            answer = {"experiment_id": experiments[name], "name": name, "workspace": workspace}
            return 200, json.dumps({"experiment": answer}).encode()
        return 404, b"not found"


def api(fake) -> MlflowApi:
    return MlflowApi(BASE, fake, replica_lag=0)


def test_a_workspace_keeps_its_experiment_apart_and_goes_with_it():
    fake = FakeWorkspaces()

    done = workspace_check(api(fake), "homelab-mlflow-verify-abc")

    assert done == {"workspace": "homelab-mlflow-verify-abc", "experiment_id": "1"}
    assert fake.workspaces == {"default": {}}
    assert ("POST", "/api/2.0/mlflow/experiments/create", "homelab-mlflow-verify-abc") in fake.calls
    assert ("GET", "/api/2.0/mlflow/experiments/get-by-name", None) in fake.calls


def test_an_experiment_seen_from_default_too_fails_and_the_workspace_is_still_deleted():
    fake = FakeWorkspaces(shared=True)

    with pytest.raises(ApiCheckError, match=rf"The experiment {EXPERIMENT} made in workspace w1 is not kept apart"):
        workspace_check(api(fake), "w1")
    assert "w1" not in fake.workspaces


def test_a_server_without_workspaces_fails_with_its_answer():
    fake = FakeWorkspaces(enabled=False)

    with pytest.raises(ApiCheckError, match=r"answered 503: .*without workspaces support"):
        workspace_check(api(fake), "w1")
    assert [call[0] for call in fake.calls] == ["POST"]
