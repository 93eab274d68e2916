"""What the authentik role's unit tests (tests/unit/roles/authentik/) share: an inventory of hosts
that run on the controller, and their playbooks (that folder's playbooks/) run from the checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ansible_runs
from ansible_runs import ansible_env, ansible_playbook

PLAYBOOKS = Path(__file__).resolve().parents[1] / "unit" / "roles" / "authentik" / "playbooks"
# Every host's namespace and external host, unless the host sets its own.
NAMESPACE = "mlflow-unit"
HOST = "mlflow.example.com"


def run_playbook(repo_root: Path, playbook: str, inventory: Path, *args: str) -> subprocess.CompletedProcess:
    """One of the role tests' playbooks, from the checkout, with none of the caller's Ansible settings."""
    env = ansible_env(repo_root, drop_prefixes=("ANSIBLE_", "K8S_AUTH_"))
    return ansible_playbook(repo_root, PLAYBOOKS / playbook, inventory, *args, timeout=600, env=env)


def write_inventory(path: Path, hosts: dict[str, dict]) -> Path:
    """An inventory of `hosts` (name: variables) at `path`, each run on the controller, no cluster needed."""
    return ansible_runs.write_inventory(path, None, hosts, mlflow_namespace=NAMESPACE, mlflow_external_host=HOST)
