"""The shipped inventories set only variables the roles take, with values their checks accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.homelab.mlflow.plugins.module_utils.upgrade_backup import configured_method

REPO = Path(__file__).resolve().parents[3]
# Connection settings of every inventory host (docs/variables.md, "Inventory conventions").
CONNECTION = {"ansible_connection", "ansible_python_interpreter"}


def role_options() -> set[str]:
    names = set()
    for path in (REPO / "roles").glob("*/meta/argument_specs.yml"):
        for spec in yaml.safe_load(path.read_text())["argument_specs"].values():
            names.update(spec.get("options", {}))
    return names


@pytest.fixture(scope="module")
def example_vault_password(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vault") / "password"
    path.write_text("example\n")  # the example's documented vault password
    return path


def host_variables(run_ansible, inventory: str, host: str, *args: str) -> dict:
    result = run_ansible("ansible-inventory", "-i", inventory, "--host", host, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("host", ["production", "staging"])
def test_example_inventory_sets_only_role_options(run_ansible, example_vault_password, host):
    variables = host_variables(
        run_ansible, "inventories/example", host, "--vault-password-file", str(example_vault_password)
    )

    unknown = set(variables) - role_options() - CONNECTION - {"vault_postgres_password"}
    assert not unknown, f"not an option of any role: {sorted(unknown)}"
    assert variables["postgres_password"] == "{{ vault_postgres_password }}"  # noqa: S105 (a reference to the vault)
    assert variables["vault_postgres_password"]
    assert variables["mlflow_verify_url"] == "https://{{ mlflow_external_host }}"


def test_example_vault_file_is_encrypted(repo_root):
    vault = repo_root / "inventories" / "example" / "group_vars" / "all" / "vault.yml"

    assert vault.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n")


def test_local_inventory_sets_only_role_options(run_ansible):
    variables = host_variables(run_ansible, "inventories/local", "local")

    assert not set(variables) - role_options() - CONNECTION
    assert variables["mlflow_verify_http"] is False
    assert ".secrets/local/postgres_password" in variables["postgres_password_file"]


def test_the_local_password_file_is_not_committed(repo_root):
    assert "/.secrets/" in (repo_root / ".gitignore").read_text().splitlines()


def test_local_inventory_configures_a_backup_method_so_an_upgrade_backs_up_first(run_ansible):
    variables = host_variables(run_ansible, "inventories/local", "local")

    method = configured_method({"postgres_backup_plugin_configuration": {}, **variables})

    assert method is not None
    assert method.method == "volumeSnapshot"
    assert variables.get("mlflow_upgrade_without_backup", False) is False
