"""plugins/action/role_values.py (and its documentation in plugins/modules/): through ansible-playbook with the
roles' validate tasks, on the controller alone (ansible_connection: local, no cluster); and its parts."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from ansible_runs import ansible_env, ansible_playbook, fatal_results, write_inventory

from ansible_collections.homelab.mlflow.plugins.action.role_values import failure_message
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem
from ansible_collections.homelab.mlflow.plugins.module_utils.templated_variables import TemplatedVariables

REPO = Path(__file__).resolve().parents[4]
SECRET = "pw-never-shown-4711"  # noqa: S105 (a stand-in, to prove it is never shown)
PLAYBOOK = """\
- name: Check the values
  hosts: all
  gather_facts: false
  tasks:
    - name: Check the storage values
      ansible.builtin.import_role:
        name: homelab.mlflow.storage
        tasks_from: validate

    - name: Check the PostgreSQL values
      ansible.builtin.import_role:
        name: homelab.mlflow.postgres
        tasks_from: validate
"""


def run(tmp_path: Path, hosts: dict[str, dict]) -> subprocess.CompletedProcess:
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    inventory = write_inventory(tmp_path / "hosts.yml", None, hosts, mlflow_namespace="mlflow")
    env = ansible_env(REPO, drop_prefixes=("ANSIBLE_", "OP_"))
    return ansible_playbook(REPO, tmp_path / "play.yml", inventory, "-vvv", timeout=300, env=env)


def test_one_failure_names_every_bad_value_and_never_a_secret(tmp_path):
    result = run(
        tmp_path,
        {
            "good": {"postgres_password": SECRET},
            "several": {
                "postgres_password": SECRET,
                "storage_artifacts_size": "50 GiB",
                "storage_artifacts_pvc_name": "Artifacts",
                "storage_recurring_jobs": [{"name": "snap", "task": "snapshot", "cron": "hourly"}],
            },
            "secret": {"postgres_password": SECRET, "postgres_cluster_name": "MLflow_PG"},
        },
    )
    found = fatal_results(result.stdout)

    assert sorted(found) == ["secret", "several"], result.stdout[-3000:]
    assert re.search(r"^good\s+: ok=2 .* failed=0", result.stdout, re.MULTILINE), result.stdout[-3000:]
    several = found["several"]
    assert several["variables"] == ["storage_artifacts_pvc_name", "storage_artifacts_size", "storage_recurring_jobs"]
    lines = several["msg"].splitlines()
    assert lines[0] == "homelab.mlflow.storage: 3 values cannot be used:"
    assert [line.split(" ")[0] for line in lines[1:]] == several["variables"]
    assert 'storage_artifacts_size is "50 GiB"' in lines[2]
    assert several["changed"] is False
    assert found["secret"]["variables"] == ["postgres_cluster_name"]
    assert found["secret"]["msg"].startswith('postgres_cluster_name is "MLflow_PG"')
    assert SECRET not in result.stdout + result.stderr


class Templar:
    """Stands in for Ansible's templating: records what was templated."""

    def __init__(self):
        self.templated = []

    def template(self, value):
        self.templated.append(value)
        return value.upper() if isinstance(value, str) else value


def test_variables_are_templated_when_read_and_once():
    templar = Templar()
    values = TemplatedVariables(templar, {"a": "x", "b": "y"})

    assert "a" in values
    assert "missing" not in values
    assert values["a"] == "X"
    assert values["a"] == "X"
    assert values.get("missing") is None
    assert templar.templated == ["x"]
    assert sorted(values) == ["a", "b"]


def test_one_problem_is_the_message_several_are_counted():
    one = [Problem("a", "a is bad.")]
    two = [*one, Problem("b", "b is bad.")]

    assert failure_message(["storage"], one) == "a is bad."
    assert failure_message(["storage"], two) == "homelab.mlflow.storage: 2 values cannot be used:\na is bad.\nb is bad."
    assert json.dumps(failure_message(["storage"], two))
