"""plugins/action/mlflow_upgrade_backup.py and its documentation in plugins/modules/ (what it does on a cluster is
tests/integration/roles/mlflow/test_upgrade_backup.py; its decisions are tests/unit/plugins/module_utils/)."""

from __future__ import annotations

import jsonschema
import pytest
import testcluster
import yaml

from ansible_collections.homelab.mlflow.plugins.action.mlflow_upgrade_backup import ARGUMENT_SPEC
from ansible_collections.homelab.mlflow.plugins.doc_fragments.kubernetes import ModuleDocFragment
from ansible_collections.homelab.mlflow.plugins.module_utils.upgrade_backup import BackupMethod, backup_manifest
from ansible_collections.homelab.mlflow.plugins.modules import mlflow_upgrade_backup


@pytest.fixture(scope="module")
def backup_spec_schema() -> dict:
    """spec of CloudNativePG's Backup CRD, from the module the test cluster pins (tools/testcluster/modules)."""
    path = testcluster.pinned_module_dir("cloudnative-pg") / "config/crd/bases/postgresql.cnpg.io_backups.yaml"
    (version,) = yaml.safe_load(path.read_text())["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_the_documented_options_are_the_ones_the_action_takes():
    documented = {
        **yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"],
        **yaml.safe_load(mlflow_upgrade_backup.DOCUMENTATION)["options"],
    }

    assert set(documented) == set(ARGUMENT_SPEC)
    for name, spec in ARGUMENT_SPEC.items():
        for key in ("type", "required", "default", "choices"):
            assert documented[name].get(key) == spec.get(key), (name, key)


def test_the_methods_are_those_of_the_backup_crd(backup_spec_schema):
    assert set(ARGUMENT_SPEC["method"]["choices"]) == set(backup_spec_schema["properties"]["method"]["enum"])


@pytest.mark.parametrize(
    "method",
    [BackupMethod("volumeSnapshot"), BackupMethod("plugin", {"name": "barman-cloud.cloudnative-pg.io"})],
)
def test_the_backup_is_valid_for_the_crd(backup_spec_schema, method):
    manifest = backup_manifest("db-before-mlflow-3-17-2", "ns", "db", method, {"app.kubernetes.io/name": "mlflow"})

    jsonschema.validate(manifest["spec"], backup_spec_schema)


def test_a_plugin_backup_without_the_plugin_name_is_invalid_for_the_crd(backup_spec_schema):
    manifest = backup_manifest("b", "ns", "db", BackupMethod("plugin", {"parameters": {}}), {})

    with pytest.raises(jsonschema.ValidationError, match="'name' is a required property"):
        jsonschema.validate(manifest["spec"], backup_spec_schema)
