"""plugins/module_utils/variable_names.py: the prefixes and names read from the roles, which names are
unknown, the suggestion for a typo, and the messages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
NAME = "ansible_collections.homelab.mlflow.plugins.module_utils.variable_names"


def _load():
    """The module under its collection name, loaded from its file rather than through Ansible's
    collection loader (which would reorder the ansible_collections namespace for other tests)."""
    if NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(NAME, REPO / "plugins" / "module_utils" / "variable_names.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[NAME]


vn = _load()
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if path.is_dir())


@pytest.fixture(scope="module")
def names():
    return vn.role_variable_names()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- the collection's own roles ---------------------------------------------------------------------


def test_the_roles_are_found_where_the_collection_keeps_them():
    assert vn.ROLES_DIR == REPO / "roles"


def test_every_role_name_is_a_prefix_and_so_are_the_shared_ones(names):
    assert set(names.prefixes) == {f"{role}_" for role in ROLES} | {"onepassword_", "homelab_mlflow_"}
    # Longest first: drift_cronjob_x has the prefix drift_cronjob_, not a shorter one.
    assert list(names.prefixes) == sorted(names.prefixes, key=lambda prefix: (-len(prefix), prefix))


def test_every_option_of_every_entry_point_is_declared(names):
    for role in ROLES:
        specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        for entry_point, spec in specs.items():
            missing = set(spec.get("options", {})) - names.declared
            assert not missing, f"{role} {entry_point}: {sorted(missing)}"
    assert vn.SETTING in names.declared


def test_every_default_and_role_variable_is_known(names):
    for role in ROLES:
        for path in (REPO / "roles" / role / "defaults" / "main.yml", REPO / "roles" / role / "vars" / "main.yml"):
            if path.exists():
                keys = set(yaml.load(path.read_text(), Loader=vn._loader()) or {})  # noqa: S506 (a safe loader)
                assert keys <= names.known, f"{path}: {sorted(keys - names.known)}"


@pytest.mark.parametrize(
    "name",
    [
        "networkpolicy_verify_policies",
        "postgres_verify_cluster",
        "storage_verify_claim",
        "cluster_preflight_cluster_info",
        "storage_preflight",
    ],
)
def test_what_the_roles_register_or_set_as_facts_is_known(names, name):
    assert name in names.known
    assert name not in names.declared  # nothing to offer a user


def test_names_that_roles_read_without_a_default_are_declared(names):
    # Read by homelab.mlflow.mlflow's preflight (with a default of its own), documented there.
    assert "postgres_credentials_secret_managed" in names.declared


def test_the_shipped_molecule_target_variables_are_known(names):
    variables = yaml.safe_load((REPO / "molecule" / "drift" / "vars" / "target.yml").read_text())

    assert names.unknown(variables) == []


def test_the_names_are_read_once_per_process():
    assert vn.role_variable_names() is vn.role_variable_names()


# --- unknown names ------------------------------------------------------------------------------------


def test_only_names_with_a_prefix_that_no_role_knows_are_unknown(names):
    variables = {
        "mlflow_replica": 2,
        "mlflow_replicas": 2,
        "postgres_instance": 3,
        "storage_verify_claim": {},
        "onepassword_conect_host": "http://connect",
        "homelab_mlflow_unknown_variables": "warn",
        "homelab_mlflow_unknown_variable": "fail",
        # Not the collection's: Ansible's own, the inventory's, and other prefixes.
        "ansible_connection": "local",
        "inventory_hostname": "production",
        "hostvars": {},
        "groups": {},
        "omit": "__omit_place_holder__",
        "vault_postgres_password": "x",
        "drift_correct": True,
        "drift_report": True,
        "mlflowreplicas": 2,
        "__mlflow_credentials": {},
        7: "not a name",
    }

    assert names.unknown(variables) == [
        "homelab_mlflow_unknown_variable",
        "mlflow_replica",
        "onepassword_conect_host",
        "postgres_instance",
    ]


def test_a_prefix_in_another_case_is_a_typo_too(names):
    assert names.unknown(["MLflow_replicas", "Postgres_instances"]) == ["MLflow_replicas", "Postgres_instances"]
    assert names.suggestion("MLflow_replicas") == "mlflow_replicas"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("mlflow_replica", "mlflow_replicas"),
        ("mlflow_replicas_count", "mlflow_replicas"),
        ("mlflow_namepsace", "mlflow_namespace"),
        ("mlflow_kubecontext", "mlflow_kube_context"),
        ("mlflow_externalhost", "mlflow_external_host"),
        ("postgres_storage_sise", "postgres_storage_size"),
        ("postgres_pasword", "postgres_password"),
        ("postgres_user", "postgres_username"),
        ("drift_cronjob_enable", "drift_cronjob_enabled"),
        ("homelab_mlflow_unknown_variable", "homelab_mlflow_unknown_variables"),
        # Every word of the name in a longer declared name.
        ("storage_size", "storage_artifacts_size"),
        ("networkpolicy_cidrs", "networkpolicy_api_server_cidrs"),
        ("posture_level", "posture_pod_security_level"),
    ],
)
def test_the_closest_declared_name_of_the_same_prefix_is_suggested(names, name, suggestion):
    assert names.suggestion(name) == suggestion


@pytest.mark.parametrize("name", ["mlflow_debug", "postgres_db", "authentik_foo", "mlflow_", "other_replica"])
def test_nothing_is_suggested_when_nothing_is_close(names, name):
    assert names.suggestion(name) is None


# --- messages and the setting -------------------------------------------------------------------------


def test_the_warning_names_the_host_the_variable_and_the_suggestion():
    assert vn.warning_message("production", "mlflow_replica", "mlflow_replicas") == (
        "production: mlflow_replica is set, but no role of homelab.mlflow reads it, so it has no effect;"
        " did you mean mlflow_replicas?"
    )
    assert vn.warning_message("production", "mlflow_zzz", None) == (
        "production: mlflow_zzz is set, but no role of homelab.mlflow reads it, so it has no effect"
    )


def test_the_failure_lists_every_variable_with_its_suggestion():
    message = vn.failure_message("staging", [("mlflow_replica", "mlflow_replicas"), ("mlflow_zzz", None)])

    assert message.startswith("staging: no role of homelab.mlflow reads these variables")
    assert "(homelab_mlflow_unknown_variables is fail)" in message
    assert message.endswith(": mlflow_replica (did you mean mlflow_replicas?), mlflow_zzz")


@pytest.mark.parametrize("value", ["warn", "fail"])
def test_the_setting_takes_warn_or_fail(value):
    assert vn.mode_error(value) is None


@pytest.mark.parametrize("value", ["Warn", "error", "", None, True])
def test_another_value_of_the_setting_is_refused_by_name(value):
    assert vn.mode_error(value) == f"homelab_mlflow_unknown_variables must be one of warn, fail, not {value!r}"


# --- reading roles ------------------------------------------------------------------------------------


def test_names_are_read_from_every_place_a_role_keeps_them(tmp_path):
    roles = tmp_path / "roles"
    write(
        roles / "alpha" / "meta" / "argument_specs.yml",
        """\
argument_specs:
  main:
    options:
      alpha_size: {type: str}
      shared_setting: {type: str}
  verify:
    options:
      alpha_verify_timeout: {type: int}
""",
    )
    write(roles / "alpha" / "defaults" / "main.yml", "alpha_size: 1Gi\n")
    write(roles / "alpha" / "vars" / "main.yml", "__alpha_labels: {a: b}\nalpha_internal: !unsafe '{{ x }}'\n")
    write(
        roles / "alpha" / "tasks" / "main.yml",
        """\
- name: Read
  ansible.builtin.command: "true"
  register: alpha_registered
- name: Nested
  block:
    - name: Fact
      ansible.builtin.set_fact:
        alpha_fact: 1
        cacheable: true
  rescue:
    - name: Short form
      set_fact: alpha_short=1 alpha_other=2
  always:
    - name: Templated
      ansible.builtin.debug: {msg: x}
      register: "{{ alpha_dynamic }}"
""",
    )
    write(roles / "alpha" / "tasks" / "sub" / "more.yaml", "- {name: More, ansible.legacy.set_fact: {alpha_more: 1}}\n")
    write(
        roles / "alpha" / "handlers" / "main.yml",
        "- {name: Handler, ansible.builtin.command: 'true', register: alpha_handled}\n",
    )
    (roles / "beta" / "tasks").mkdir(parents=True)  # a role without argument_specs still has its prefix
    write(roles / "beta" / "tasks" / "main.yml", "")

    names = vn.role_variable_names(roles)

    assert names.prefixes == ("homelab_mlflow_", "shared_", "alpha_", "beta_")
    assert names.declared == {"alpha_size", "shared_setting", "alpha_verify_timeout", vn.SETTING}
    assert names.known - names.declared == {
        "__alpha_labels",
        "alpha_internal",
        "alpha_registered",
        "alpha_fact",
        "alpha_short",
        "alpha_other",
        "alpha_more",
        "alpha_handled",
    }
    assert names.unknown(["alpha_sise", "beta_x", "shared_setting", "gamma_x"]) == ["alpha_sise", "beta_x"]
    assert names.suggestion("alpha_sise") == "alpha_size"


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_a_folder_without_roles_is_an_error(tmp_path, folder):
    (tmp_path / "empty").mkdir()

    with pytest.raises(vn.VariableNamesError, match="no role found in"):
        vn.role_variable_names(tmp_path / folder)


def test_a_file_that_is_no_yaml_is_named(tmp_path):
    write(tmp_path / "alpha" / "meta" / "argument_specs.yml", "argument_specs: [unclosed\n")

    with pytest.raises(vn.VariableNamesError, match=r"cannot read .*alpha/meta/argument_specs\.yml"):
        vn.role_variable_names(tmp_path)
