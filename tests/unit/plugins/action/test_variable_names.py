"""plugins/action/variable_names.py (and its documentation in plugins/modules/): through ansible-playbook
with inventories of its own, on the controller alone (ansible_connection: local, no cluster)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
PLAYBOOK = """\
- name: Check the variable names
  hosts: all
  gather_facts: false
  tasks:
    - name: Check the names of the variables set for homelab.mlflow
      homelab.mlflow.variable_names: {args}
      register: checked

    - name: Show what was found
      ansible.builtin.debug:
        msg: "{{{{ checked.unknown_variables | to_json }}}}"
"""
CONNECTION = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
WARNING = "is set, but no role of homelab.mlflow reads it, so it has no effect"


def inventory(tmp_path: Path, hosts: dict[str, dict]) -> Path:
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {host: {**CONNECTION, **v} for host, v in hosts.items()}}}))
    return path


def playbook(tmp_path: Path, args: str = "") -> Path:
    path = tmp_path / "check.yml"
    path.write_text(PLAYBOOK.format(args=args))
    return path


def check_names(run_ansible, tmp_path: Path, hosts: dict[str, dict], *extra: str, args: str = ""):
    """The check playbook (with the module's `args`) over an inventory of `hosts`, with ansible-playbook's `extra`."""
    return run_ansible("ansible-playbook", "-i", str(inventory(tmp_path, hosts)), str(playbook(tmp_path, args)), *extra)


def flat(text: str) -> str:
    """The text with its line breaks and indentation folded into single spaces."""
    return " ".join(text.split())


def test_a_typo_is_a_warning_on_stderr_with_the_closest_name(run_ansible, tmp_path):
    run = check_names(run_ansible, tmp_path, {"production": {"mlflow_replica": 2}})

    assert run.returncode == 0, run.output
    assert (
        "[WARNING]: production: mlflow_replica is set, but no role of homelab.mlflow reads it, so it has no "
        "effect; did you mean mlflow_replicas?"
    ) in flat(run.stderr)
    assert WARNING not in flat(run.stdout)
    # The result lists it too.
    assert '[{"name": "mlflow_replica", "suggestion": "mlflow_replicas"}]' in run.stdout


def test_the_fail_setting_fails_with_every_variable_in_one_message(run_ansible, tmp_path):
    hosts = {"production": {"mlflow_replica": 2, "postgres_zzz_qqq": 1, "homelab_mlflow_unknown_variables": "fail"}}

    run = check_names(run_ansible, tmp_path, hosts)

    assert run.returncode == 2, run.output
    assert (
        "production: no role of homelab.mlflow reads these variables, so they would have no effect "
        "(homelab_mlflow_unknown_variables is fail): mlflow_replica (did you mean mlflow_replicas?), postgres_zzz_qqq"
    ) in flat(run.stdout)
    assert WARNING not in run.stderr


@pytest.mark.parametrize(
    ("host_vars", "args", "extra"),
    [
        ({"strictness": "fail"}, "", ("-e", json.dumps({"homelab_mlflow_unknown_variables": "{{ strictness }}"}))),
        ({"homelab_mlflow_unknown_variables": "warn"}, "{unknown_variables: fail}", ()),
    ],
    ids=["the-setting-from-extra-vars-as-a-template", "the-option-over-the-setting"],
)
def test_fail_set_another_way_fails_too(run_ansible, tmp_path, host_vars, args, extra):
    run = check_names(run_ansible, tmp_path, {"production": {"mlflow_replica": 2, **host_vars}}, *extra, args=args)

    assert run.returncode == 2, run.output
    assert "(did you mean mlflow_replicas?)" in flat(run.stdout)


@pytest.mark.parametrize(("where", "value"), [("setting", "loud"), ("option", "loud")])
def test_a_bad_value_of_the_setting_or_the_option_fails(run_ansible, tmp_path, where, value):
    variables = {"mlflow_replicas": 2}
    if where == "setting":
        variables["homelab_mlflow_unknown_variables"] = value
    args = f"{{unknown_variables: {value}}}" if where == "option" else ""

    run = check_names(run_ansible, tmp_path, {"production": variables}, args=args)

    assert run.returncode == 2, run.output
    if where == "setting":
        assert "homelab_mlflow_unknown_variables must be one of warn, fail, not 'loud'" in flat(run.stdout)
    else:
        assert "unknown_variables" in run.stdout
        assert "warn, fail" in run.stdout


def test_declared_and_foreign_variables_and_the_roles_own_results_give_no_warning(run_ansible, tmp_path):
    hosts = inventory(
        tmp_path,
        {
            "production": {
                "mlflow_replicas": 2,
                "postgres_instances": 3,
                "onepassword_connect_host": "http://connect.example.com",
                "homelab_mlflow_unknown_variables": "fail",
                "vault_postgres_password": "x",
                "my_own_setting": 1,
            }
        },
    )
    # An earlier play of the same run left results and facts named as the roles name them.
    path = tmp_path / "check.yml"
    path.write_text(
        """\
- name: Earlier play
  hosts: all
  gather_facts: false
  tasks:
    - name: Set a fact as a role does
      ansible.builtin.set_fact:
        postgres_verify_cluster: {resources: []}
    - name: Register as a role does
      ansible.builtin.debug: {msg: claim}
      register: storage_verify_claim
"""
        + PLAYBOOK.format(args="")
    )

    run = run_ansible("ansible-playbook", "-i", str(hosts), str(path))

    assert run.returncode == 0, run.output
    assert "[WARNING]" not in run.stderr
    assert "msg: '[]'" in run.stdout


def test_one_warning_per_host_and_variable_and_values_are_never_read(run_ansible, tmp_path):
    # An undefined template as the value: the names alone are looked at, nothing is templated.
    typo = {"mlflow_replica": "{{ undefined_on_purpose }}", "storage_size": "10Gi"}
    run = check_names(run_ansible, tmp_path, {"production": typo, "staging": typo, "clean": {}}, "--forks", "3")

    assert run.returncode == 0, run.output
    warnings = [line for line in flat(run.stderr).split("[WARNING]: ")[1:] if WARNING in line]
    assert sorted(w.split(" is set")[0] for w in warnings) == [
        "production: mlflow_replica",
        "production: storage_size",
        "staging: mlflow_replica",
        "staging: storage_size",
    ]
    assert "did you mean storage_artifacts_size?" in flat(run.stderr)
    assert "undefined_on_purpose" not in run.stderr


def test_check_mode_and_tags_run_it_too(run_ansible, tmp_path):
    hosts = inventory(tmp_path, {"production": {"mlflow_replica": 2}})
    path = tmp_path / "tagged.yml"
    path.write_text(PLAYBOOK.format(args="").replace("      register: checked\n", "      tags: [always]\n", 1))

    run = run_ansible("ansible-playbook", "-i", str(hosts), str(path), "--check", "--tags", "postgres")

    assert run.returncode == 0, run.output
    assert "did you mean mlflow_replicas?" in flat(run.stderr)


# --- the shipped inventories and playbooks ----------------------------------------------------------


@pytest.fixture(scope="module")
def example_vault_password(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vault") / "password"
    path.write_text("example\n")  # the example's documented vault password
    return path


@pytest.mark.parametrize("shipped", ["local", "example"])
def test_the_shipped_inventories_set_no_unknown_variable(run_ansible, tmp_path, example_vault_password, shipped):
    args = ["--vault-password-file", str(example_vault_password)] if shipped == "example" else []

    run = run_ansible(
        "ansible-playbook",
        "-i",
        f"inventories/{shipped}",
        str(playbook(tmp_path, "{unknown_variables: fail}")),
        *args,
    )

    assert run.returncode == 0, run.output
    assert "[WARNING]" not in run.stderr


@pytest.mark.parametrize("shipped", ["site", "verify", "drift"])
def test_each_playbook_checks_the_names_first_whatever_the_tags(run_ansible, tmp_path, shipped):
    hosts = inventory(
        tmp_path,
        {
            "production": {
                "mlflow_replica": 2,
                "homelab_mlflow_unknown_variables": "fail",
                # Leads nowhere: the run must stop before it would be read.
                "mlflow_kubeconfig": str(tmp_path / "missing-kubeconfig"),
            }
        },
    )

    run = run_ansible(
        "ansible-playbook",
        "-i",
        str(hosts),
        f"playbooks/{shipped}.yml",
        "--tags",
        "postgres",
        *(["--check", "--diff"] if shipped == "drift" else []),
        env={
            "ANSIBLE_CALLBACKS_ENABLED": "homelab.mlflow.drift_report",
            "HOMELAB_MLFLOW_DRIFT_REPORT_DIR": str(tmp_path),
        },
    )

    assert run.returncode == 2, run.output
    assert "(did you mean mlflow_replicas?)" in flat(run.stdout)
    assert "TASK [Check the names of the variables set for homelab.mlflow]" in run.stdout
    # The first task, and the last: nothing else ran.
    assert run.stdout.count("TASK [") == 1, run.stdout


def test_the_module_documents_the_action(run_ansible):
    run = run_ansible("ansible-doc", "--json", "homelab.mlflow.variable_names")

    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)["homelab.mlflow.variable_names"]
    assert doc["doc"]["has_action"] is True
    assert doc["doc"]["options"]["unknown_variables"]["choices"] == ["warn", "fail"]
    assert "unknown_variables" in doc["return"]
