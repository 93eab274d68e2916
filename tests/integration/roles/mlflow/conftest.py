"""The MLflow release the role deploys, in a virtualenv of its own (session fixture `mlflow_runtime`), and
playbooks/converge.yml run against the test cluster for one namespace (fixture `playbook`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible_runs import VENV_BIN, ansible_env
from mlflow_runtime import MlflowRuntime, ensure_runtime

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "converge.yml"


@pytest.fixture(scope="session")
def mlflow_runtime() -> MlflowRuntime:
    try:
        return ensure_runtime()
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def playbook(testcluster, repo_root):
    """Run playbooks/converge.yml against the test cluster for one namespace."""

    def run(namespace: str, *args: str, extra_vars: dict | None = None, timeout: float = 900):
        variables = {
            "mlflow_namespace": namespace,
            "mlflow_kubeconfig": str(testcluster.kubeconfig),
            # The role's own route (inventories/local turns it off for Authentik's outpost route).
            "mlflow_httproute_enabled": True,
            **(extra_vars or {}),
        }
        env = ansible_env(repo_root)
        command = [
            str(VENV_BIN / "ansible-playbook"),
            str(PLAYBOOK),
            "-i",
            "inventories/local",
            "-e",
            json.dumps(variables),
        ]
        return subprocess.run(
            [*command, *args],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
