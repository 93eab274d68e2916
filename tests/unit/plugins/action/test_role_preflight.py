"""plugins/action/role_preflight.py (and its documentation in plugins/modules/): through ansible-playbook with the
roles' preflight tasks where no read of the cluster is needed (no cluster here), and its parts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from ansible_runs import ansible_env, ansible_playbook, fatal_results, write_inventory

from ansible_collections.homelab.mlflow.plugins.action.role_preflight import ARGUMENT_SPEC, cluster_for
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import CHECKS
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import failure_message
from ansible_collections.homelab.mlflow.plugins.module_utils.templated_variables import TemplatedVariables

REPO = Path(__file__).resolve().parents[4]
CILIUM_APIS = {"cilium.io/v2": {"CiliumNetworkPolicy": {"name": "ciliumnetworkpolicies", "namespaced": True}}}
PLAYBOOK = """\
- name: Check what the roles need from the cluster
  hosts: all
  gather_facts: false
  tasks:
    - name: Check what the network policies need
      ansible.builtin.import_role:
        name: homelab.mlflow.networkpolicy
        tasks_from: preflight

    - name: Check what MLflow needs
      ansible.builtin.import_role:
        name: homelab.mlflow.mlflow
        tasks_from: preflight
"""


def run(tmp_path: Path, hosts: dict[str, dict]) -> subprocess.CompletedProcess:
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    # No cluster: a kubeconfig that does not exist fails any connection, so a passing host made none.
    inventory = write_inventory(
        tmp_path / "hosts.yml",
        None,
        hosts,
        mlflow_kubeconfig=str(tmp_path / "no-such-kubeconfig"),
        mlflow_namespace="mlflow",
    )
    env = ansible_env(REPO, drop_prefixes=("ANSIBLE_", "K8S_AUTH_"))
    return ansible_playbook(REPO, tmp_path / "play.yml", inventory, "-v", timeout=300, env=env)


def test_one_task_per_role_fails_once_with_every_problem_and_reads_only_when_needed(tmp_path):
    written = {"postgres_credentials_secret_managed": True, "mlflow_httproute_enabled": False}
    result = run(
        tmp_path,
        {
            "good": {**written, "cluster_preflight_cluster_info": {"apis": CILIUM_APIS}},
            "no_cilium": {**written, "cluster_preflight_cluster_info": {"apis": {}}, "networkpolicy_kind": "cilium"},
            "several": {
                **written,
                "cluster_preflight_cluster_info": {"apis": {}},
                "networkpolicy_kind": "kubernetes",
                "networkpolicy_api_server_cidrs": ["10.0.0.1/32"],
                "mlflow_httproute_enabled": True,
                "mlflow_servicemonitor_enabled": True,
            },
            "no_cluster_preflight": written,
        },
    )
    found = fatal_results(result.stdout)

    assert sorted(found) == ["no_cilium", "no_cluster_preflight", "several"], result.stdout[-3000:]
    assert re.search(r"^good\s+: ok=2 .* failed=0", result.stdout, re.MULTILINE), result.stdout[-3000:]
    assert found["no_cilium"]["variables"] == ["networkpolicy_kind"]
    assert "networkpolicy_kind is cilium, but the cluster has no CiliumNetworkPolicy" in found["no_cilium"]["msg"]
    assert found["no_cilium"]["requests"] == {}
    lines = found["several"]["msg"].splitlines()
    assert lines[0] == "homelab.mlflow.mlflow: 2 problems found before anything is written:"
    assert found["several"]["variables"] == ["mlflow_httproute_enabled", "mlflow_servicemonitor_enabled"]
    assert found["several"]["changed"] is False
    assert found["no_cluster_preflight"]["variables"] == ["cluster_preflight_cluster_info"]
    assert "run that role first in the same play" in found["no_cluster_preflight"]["msg"]


class Templar:
    def template(self, value):
        return value


def test_the_kinds_come_from_the_option_or_the_run_and_the_connection_waits_for_a_read():
    info = {"apis": {"v1": {}}, "context": "lab"}
    values = TemplatedVariables(Templar(), {"cluster_preflight_cluster_info": info})

    from_run = cluster_for({"apis": None}, values, {}, Templar().template)
    from_option = cluster_for({"apis": CILIUM_APIS}, values, {}, Templar().template)
    unknown = cluster_for({"apis": None}, TemplatedVariables(Templar(), {}), {}, Templar().template)

    assert from_run.known
    assert from_run.context == "lab"
    assert from_option.serves("cilium.io/v2", "CiliumNetworkPolicy")
    assert not unknown.known
    assert from_run.requests == {}


def test_every_role_with_checks_is_a_choice_and_documented():
    documented = yaml.safe_load(
        (REPO / "plugins" / "modules" / "role_preflight.py")
        .read_text()
        .split('DOCUMENTATION = r"""')[1]
        .split('"""')[0]
    )

    assert ARGUMENT_SPEC["role"]["choices"] == sorted(CHECKS)
    assert documented["options"]["role"]["choices"] == sorted(CHECKS)
    assert set(ARGUMENT_SPEC) >= {"kubeconfig", "context", "apis"}


def test_one_problem_is_the_message_several_are_counted():
    one = [Problem("a", "a is bad.")]
    two = [*one, Problem("b", "b is bad.")]

    assert failure_message("storage", one) == "a is bad."
    assert failure_message("storage", two).splitlines() == [
        "homelab.mlflow.storage: 2 problems found before anything is written:",
        "a is bad.",
        "b is bad.",
    ]
