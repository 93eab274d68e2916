"""The value checks of the roles (tasks/validate.yml: homelab.mlflow.role_values), with the roles' defaults and vars
templated by Ansible: good values pass, bad ones fail (no cluster needed; the run through site.yml is
tests/integration/hardening/test_bad_input.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.homelab.mlflow.plugins.action.role_values import TemplatedVariables
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.roles import READS_ENVIRONMENT, RULES

REPO = Path(__file__).resolve().parents[4]
DIGEST = "sha256:" + "0123456789abcdef" * 4


class _Loader(yaml.SafeLoader):
    """Safe YAML that reads Ansible's tags (such as !unsafe) as the plain values they tag."""


_Loader.add_multi_constructor(
    "!", lambda loader, _suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
)


def read(text: str):
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def trusted(value):
    """YAML of the roles' own files, whose strings Ansible treats as templates (as it does the roles')."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def load(role: str, name: str):
    return trusted(read((REPO / "roles" / role / name).read_text()) or [])


def variables(role: str, overrides: dict) -> dict:
    """The role's defaults and vars, the shared values site.yml sets, and the overrides (as extra vars)."""
    found = {
        **(load(role, "defaults/main.yml") or {}),
        "mlflow_namespace": "mlflow",
        "mlflow_external_host": "mlflow.example.com",
        "inventory_hostname": "localhost",
    }
    vars_file = REPO / "roles" / role / "vars" / "main.yml"
    if vars_file.exists():
        found.update(trusted(read(vars_file.read_text()) or {}))
    found.update(overrides)
    return found


def problems(role: str, overrides: dict) -> list:
    """The role's problems, its variables templated with Ansible's templating as homelab.mlflow.role_values does."""
    found = variables(role, overrides)
    templar = Templar(loader=DataLoader(), variables=found)
    rules, values = RULES[role], TemplatedVariables(templar, found)
    return rules(values, environ={}) if role in READS_ENVIRONMENT else rules(values)


def failing_items(role: str, overrides: dict) -> list[str]:
    """The variables whose values cannot be used."""
    return [problem.variable for problem in problems(role, overrides)]


MLFLOW = "mlflow"
DRIFT = "drift_cronjob"
POSTGRES = "postgres"
ENABLED = {"drift_cronjob_enabled": True}


@pytest.mark.parametrize(
    ("check", "overrides"),
    [
        (MLFLOW, {}),
        (MLFLOW, {"mlflow_image": "registry.example.com:5000/team/mlflow"}),
        (MLFLOW, {"mlflow_resources": {"requests": {"cpu": "0.5", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}}),
        (MLFLOW, {"mlflow_httproute_enabled": False, "mlflow_gateway_name": "Not Checked"}),
        (DRIFT, {"drift_cronjob_image": "registry.example.com/homelab-mlflow-drift:0.1.0"}),
        (DRIFT, {"drift_cronjob_image": "registry.example.com:5000/drift@sha256:" + "a" * 64}),
        (POSTGRES, {"postgres_password": "unused"}),
        (MLFLOW, {"mlflow_image_digest": DIGEST}),
        (MLFLOW, {"mlflow_tmp_size_limit": "1Gi", "mlflow_db_upgrade_tmp_size_limit": "100M"}),
        (MLFLOW, {"mlflow_gc_tmp_size_limit": "0.5Gi"}),
        (
            MLFLOW,
            {
                "mlflow_autoscaler_enabled": True,
                "mlflow_autoscaler_max_replicas": 2,
                "mlflow_replicas": 2,
                "storage_artifacts_access_mode": "ReadWriteMany",
            },
        ),
        (MLFLOW, {"mlflow_db_upgrade_resources": {"requests": {"cpu": "50m"}, "limits": {"memory": "256Mi"}}}),
        (MLFLOW, {"mlflow_gc_resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}),
        (
            DRIFT,
            {
                "drift_cronjob_image": "registry.example.com/homelab-mlflow-drift:0.1.0",
                "drift_cronjob_image_digest": DIGEST,
                "drift_cronjob_tmp_size_limit": "512Mi",
            },
        ),
        (POSTGRES, {"postgres_password": "unused", "postgres_image_digest": DIGEST}),
    ],
)
def test_good_values_pass(check, overrides):
    assert failing_items(check, {**ENABLED, **overrides} if check == DRIFT else overrides) == []


@pytest.mark.parametrize(
    ("check", "overrides", "variable"),
    [
        (MLFLOW, {"mlflow_image": "docker.io/burakince/mlflow:latest"}, "mlflow_image"),
        (MLFLOW, {"mlflow_image": "docker.io/burakince/mlflow:3.17.2"}, "mlflow_image"),
        (MLFLOW, {"mlflow_image": "mlflow@sha256:" + "a" * 64}, "mlflow_image"),
        (MLFLOW, {"mlflow_image": "Docker.io/MLflow"}, "mlflow_image"),
        (MLFLOW, {"mlflow_replicas": 0}, "mlflow_replicas"),
        (MLFLOW, {"mlflow_autoscaler_enabled": True}, "mlflow_autoscaler_enabled"),
        (
            MLFLOW,
            {
                "mlflow_autoscaler_enabled": True,
                "mlflow_autoscaler_max_replicas": 1,
                "mlflow_replicas": 2,
                "storage_artifacts_access_mode": "ReadWriteMany",
            },
            "mlflow_autoscaler_max_replicas",
        ),
        (MLFLOW, {"mlflow_resources": {"limits": {"cpu": "1"}}}, "mlflow_resources"),
        (MLFLOW, {"mlflow_resources": {"limits": {"memory": "1 GB"}}}, "mlflow_resources"),
        (MLFLOW, {"mlflow_resources": {"limits": {"memory": "0Mi"}}}, "mlflow_resources"),
        (MLFLOW, {"mlflow_resources": {"limit": {"memory": "1Gi"}}}, "mlflow_resources"),
        (MLFLOW, {"mlflow_image_pull_secrets": ["Registry Credentials"]}, "mlflow_image_pull_secrets"),
        (MLFLOW, {"mlflow_cluster_domain": ".cluster.local"}, "mlflow_cluster_domain"),
        (MLFLOW, {"mlflow_gateway_namespace": "cilium.system"}, "mlflow_gateway_name"),
        (
            MLFLOW,
            {"mlflow_servicemonitor_enabled": True, "mlflow_servicemonitor_interval": "30"},
            "mlflow_servicemonitor_interval",
        ),
        (MLFLOW, {"mlflow_rollout_timeout": 0}, "mlflow_rollout_timeout"),
        (MLFLOW, {"mlflow_upgrade_backup_timeout": 0}, "mlflow_upgrade_backup_timeout"),
        (MLFLOW, {"mlflow_image_digest": "sha256:" + "A" * 64}, "mlflow_image_digest"),
        (MLFLOW, {"mlflow_image_digest": "0123456789abcdef" * 4}, "mlflow_image_digest"),
        (MLFLOW, {"mlflow_image_digest": DIGEST[:-1]}, "mlflow_image_digest"),
        (MLFLOW, {"mlflow_tmp_size_limit": "256MB"}, "mlflow_tmp_size_limit"),
        (MLFLOW, {"mlflow_tmp_size_limit": "0"}, "mlflow_tmp_size_limit"),
        (MLFLOW, {"mlflow_db_upgrade_tmp_size_limit": ""}, "mlflow_db_upgrade_tmp_size_limit"),
        (MLFLOW, {"mlflow_gc_tmp_size_limit": "1 Gi"}, "mlflow_gc_tmp_size_limit"),
        (MLFLOW, {"mlflow_db_upgrade_resources": {"limits": {"cpu": "1"}}}, "mlflow_db_upgrade_resources"),
        (MLFLOW, {"mlflow_gc_resources": {"limits": {"memory": "lots"}}}, "mlflow_gc_resources"),
        (DRIFT, {"drift_cronjob_image": "registry.example.com/drift:latest"}, "drift_cronjob_image"),
        (DRIFT, {"drift_cronjob_image": "registry.example.com:5000/drift"}, "drift_cronjob_image"),
        (
            DRIFT,
            {"drift_cronjob_image": "x", "drift_cronjob_resources": {"requests": {"memory": "1Gi"}}},
            "drift_cronjob_resources",
        ),
        (
            DRIFT,
            {"drift_cronjob_image": "registry.example.com/drift:0.1.0", "drift_cronjob_image_digest": "sha256:abc"},
            "drift_cronjob_image_digest",
        ),
        (
            DRIFT,
            {"drift_cronjob_image": "registry.example.com/drift@" + DIGEST, "drift_cronjob_image_digest": DIGEST},
            "drift_cronjob_image_digest",
        ),
        (
            DRIFT,
            {"drift_cronjob_image": "registry.example.com/drift:0.1.0", "drift_cronjob_tmp_size_limit": "256MB"},
            "drift_cronjob_tmp_size_limit",
        ),
        (
            POSTGRES,
            {"postgres_password": "unused", "postgres_image_digest": "sha1:" + "a" * 40},
            "postgres_image_digest",
        ),
        (
            POSTGRES,
            {
                "postgres_password": "unused",
                "postgres_image": "ghcr.io/cloudnative-pg/postgresql:17.6@" + DIGEST,
                "postgres_image_digest": DIGEST,
            },
            "postgres_image_digest",
        ),
        (
            POSTGRES,
            {"postgres_password": "unused", "postgres_resources": {"requests": {"memory": "512Mi"}}},
            "postgres_resources",
        ),
        (
            POSTGRES,
            {"postgres_password": "unused", "postgres_resources": {"limits": {"memory": "0"}}},
            "postgres_resources",
        ),
    ],
)
def test_bad_values_fail_and_name_the_variable(check, overrides, variable):
    assert variable in failing_items(check, {**ENABLED, **overrides} if check == DRIFT else overrides)


def test_the_connect_timeout_must_be_positive():
    assert failing_items("cluster_preflight", {}) == []
    assert failing_items("cluster_preflight", {"cluster_preflight_connect_timeout": 0}) == [
        "cluster_preflight_connect_timeout"
    ]


def test_a_disabled_drift_run_is_not_checked():
    assert failing_items(DRIFT, {"drift_cronjob_image": "registry.example.com/drift:latest"}) == []


def test_a_role_with_several_bad_values_reports_each_of_them():
    found = problems(
        MLFLOW,
        {"mlflow_replicas": 0, "mlflow_image": "Docker.io/MLflow", "mlflow_tmp_size_limit": "0"},
    )

    assert [problem.variable for problem in found] == ["mlflow_image", "mlflow_replicas", "mlflow_tmp_size_limit"]
    assert 'mlflow_image is "Docker.io/MLflow"' in found[0].message
    assert "1 or more pods" in found[1].message
