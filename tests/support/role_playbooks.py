"""What the roles' unit tests (tests/unit/roles/<role>/) share: an inventory of hosts that run on the
controller with no cluster, and the role's test playbooks (that folder's playbooks/) run from the
checkout, among them render.yml, which renders the role's templates for every host."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ansible_runs
from ansible_runs import ansible_env, ansible_playbook

ROLE_TESTS = Path(__file__).resolve().parents[1] / "unit" / "roles"
# Every host's namespace and external host, unless the host sets its own.
NAMESPACE = "mlflow-unit"
HOST = "mlflow.example.com"


def run_playbook(repo_root: Path, role: str, playbook: str, inventory: Path, *args: str) -> subprocess.CompletedProcess:
    """One of the `role` tests' playbooks, from the checkout, with none of the caller's Ansible settings."""
    env = ansible_env(repo_root, drop_prefixes=("ANSIBLE_", "K8S_AUTH_"))
    return ansible_playbook(
        repo_root, ROLE_TESTS / role / "playbooks" / playbook, inventory, *args, timeout=600, env=env
    )


def write_inventory(path: Path, hosts: dict[str, dict], **common) -> Path:
    """An inventory of `hosts` (name: variables) at `path`, each run on the controller, no cluster
    needed, in NAMESPACE, with `common` for every host."""
    return ansible_runs.write_inventory(path, None, hosts, mlflow_namespace=NAMESPACE, **common)


def render(repo_root: Path, role: str, work: Path, hosts: dict[str, dict], **common) -> None:
    """The role's templates rendered into `work` for every host (name: variables), by its render.yml."""
    inventory = write_inventory(work / "hosts.yml", hosts, **common)
    templates = repo_root / "roles" / role / "templates"
    result = run_playbook(
        repo_root, role, "render.yml", inventory, "-e", f"render_dir={work}", "-e", f"templates_dir={templates}"
    )
    assert result.returncode == 0, result.stdout[-6000:]
