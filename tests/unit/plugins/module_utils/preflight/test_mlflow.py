"""plugins/module_utils/preflight/mlflow.py."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import mlflow

from .conftest import ROLE_APIS

SECRET_PATH = "/api/v1/namespaces/ns/secrets/mlflow-secrets"  # noqa: S105 (a path)
VALUES = {
    "mlflow_namespace": "ns",
    "mlflow_httproute_enabled": False,
    "mlflow_servicemonitor_enabled": False,
    "postgres_credentials_secret": "mlflow-secrets",
    "postgres_credentials_secret_managed": False,
    "mlflow_version": "3.17.2",
    "mlflow_upgrade_without_backup": False,
    "postgres_cluster_name": "mlflow-postgres",
    "postgres_backup_method": "volumeSnapshot",
    "postgres_backup_configuration": {"volumeSnapshot": {"className": "longhorn-snapshot"}},
    "postgres_backup_plugin_configuration": {},
}
# The play writes the credentials Secret: the checks below read only the migration Jobs.
MANAGED = {**VALUES, "postgres_credentials_secret_managed": True}


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_the_options_need_their_apis(cluster_of):
    values = {**VALUES, "mlflow_httproute_enabled": True, "mlflow_servicemonitor_enabled": "true"}
    values["postgres_credentials_secret_managed"] = True

    problems = mlflow.check(values, cluster_of()).problems

    assert [p.variable for p in problems] == ["mlflow_httproute_enabled", "mlflow_servicemonitor_enabled"]
    assert "the cluster has no HTTPRoute (gateway.networking.k8s.io/v1)" in problems[0].message
    assert "the cluster has no ServiceMonitor (monitoring.coreos.com/v1)" in problems[1].message


def test_the_credentials_secret_must_exist_when_the_play_does_not_write_it(cluster_of):
    (problem,) = mlflow.check(VALUES, cluster_of()).problems

    assert problem.variable == "postgres_credentials_secret"
    assert "mlflow-secrets (postgres_credentials_secret) does not exist in namespace ns" in problem.message


@pytest.mark.parametrize("data", [{}, {"username": encoded("mlflow"), "password": ""}])
def test_the_credentials_secret_needs_a_username_and_a_password(kube, cluster_of, data):
    kube.add(SECRET_PATH, {"metadata": {"name": "mlflow-secrets"}, "data": data})

    (problem,) = mlflow.check(VALUES, cluster_of()).problems

    assert "has no non-empty keys username and password" in problem.message


def test_a_complete_secret_passes_and_its_values_are_never_shown(kube, cluster_of):
    kube.add(SECRET_PATH, {"data": {"username": encoded("mlflow"), "password": encoded("never-shown")}})

    outcome = mlflow.check(VALUES, cluster_of())

    assert outcome.problems == []
    assert "never-shown" not in repr(outcome)
    assert encoded("never-shown") not in repr(outcome)


def test_a_secret_the_play_writes_is_not_read(kube, cluster_of):
    values = {key: value for key, value in VALUES.items() if key != "postgres_credentials_secret_managed"}

    assert mlflow.check({**values, "postgres_credentials_source": "variables"}, cluster_of()).problems == []
    assert mlflow.check({**VALUES, "postgres_credentials_secret_managed": "yes"}, cluster_of()).problems == []
    assert [path for _method, path in kube.sent if "/secrets" in path] == []


JOBS = "/apis/batch/v1/namespaces/ns/jobs"


def migration_job(version: str) -> dict:
    labels = {
        "app.kubernetes.io/name": "mlflow",
        "app.kubernetes.io/component": "db-upgrade",
        "app.kubernetes.io/version": version,
    }
    name = f"mlflow-db-upgrade-{version.replace('.', '-')}"
    return {
        "metadata": {"name": name, "namespace": "ns", "labels": labels},
        "status": {"conditions": [{"type": "Complete", "status": "True"}]},
    }


def test_an_older_release_than_the_migrated_schema_is_refused(kube, cluster_of):
    for version in ("3.9.0", "3.17.2"):
        kube.add(f"{JOBS}/{migration_job(version)['metadata']['name']}", migration_job(version))

    (problem,) = mlflow.check({**MANAGED, "mlflow_version": "3.10.1"}, cluster_of()).problems

    assert problem.variable == "mlflow_version"
    assert "mlflow_version is 3.10.1, but the database in namespace ns was migrated to MLflow 3.17.2" in problem.message
    assert "restore the database from the backup taken before the upgrade" in problem.message
    assert all(method == "GET" for method, _path in kube.sent)


@pytest.mark.parametrize(
    ("wanted", "migrated", "upgrade"),
    [("3.17.2", None, False), ("3.17.2", "3.17.2", False), ("3.17.2", "3.10.1", True)],
)
def test_the_facts_say_where_the_schema_is_and_whether_this_run_upgrades_it(
    kube, cluster_of, wanted, migrated, upgrade
):
    if migrated:
        kube.add(f"{JOBS}/{migration_job(migrated)['metadata']['name']}", migration_job(migrated))

    outcome = mlflow.check({**MANAGED, "mlflow_version": wanted}, cluster_of())

    assert outcome.problems == []
    backup = {"name": "mlflow-postgres-before-mlflow-3-17-2", "method": "volumeSnapshot", "plugin_configuration": {}}
    step = {"backup_step": f"first the CloudNativePG Backup {backup['name']} of the database, then"} if upgrade else {}
    assert outcome.facts == {
        "migrated_release": migrated,
        "upgrade": upgrade,
        "backup": backup if upgrade else None,
        **step,
    }


def upgrade_from(kube, migrated: str = "3.15.0") -> None:
    kube.add(f"{JOBS}/{migration_job(migrated)['metadata']['name']}", migration_job(migrated))


def test_an_upgrade_takes_its_backup_with_the_plugin_the_postgres_role_configures(kube, cluster_of):
    upgrade_from(kube)
    plugin = {"name": "barman-cloud.cloudnative-pg.io", "parameters": {"barmanObjectName": "store"}}
    values = {**MANAGED, "postgres_backup_method": "plugin", "postgres_backup_plugin_configuration": plugin}

    outcome = mlflow.check({**values, "postgres_backup_configuration": {}}, cluster_of())

    assert outcome.problems == []
    assert outcome.facts["backup"] == {
        "name": "mlflow-postgres-before-mlflow-3-17-2",
        "method": "plugin",
        "plugin_configuration": plugin,
    }


@pytest.mark.parametrize(
    "unconfigured",
    [
        {"postgres_backup_configuration": {}},
        {"postgres_backup_method": "barmanObjectStore"},
        {"postgres_backup_method": "plugin", "postgres_backup_plugin_configuration": {}},
    ],
)
def test_an_upgrade_without_a_backup_method_is_refused_naming_the_variables_and_the_option(
    kube, cluster_of, unconfigured
):
    upgrade_from(kube)

    (problem,) = mlflow.check({**MANAGED, **unconfigured}, cluster_of()).problems

    assert problem.variable == "postgres_backup_method"
    assert "upgrades the database in namespace ns from MLflow 3.15.0" in problem.message
    for variable in ("postgres_backup_method", "postgres_backup_configuration", "postgres_backup_plugin_configuration"):
        assert variable in problem.message
    assert "set mlflow_upgrade_without_backup: true" in problem.message
    assert all(method == "GET" for method, _path in kube.sent)


def test_the_option_lets_an_upgrade_go_on_without_a_backup(kube, cluster_of):
    upgrade_from(kube)
    values = {**MANAGED, "postgres_backup_configuration": {}, "mlflow_upgrade_without_backup": "true"}

    outcome = mlflow.check(values, cluster_of())

    assert outcome.problems == []
    assert outcome.facts["upgrade"] is True
    assert outcome.facts["backup"] is None
    assert outcome.facts["backup_step"] == "without a backup (mlflow_upgrade_without_backup),"


def test_a_first_install_needs_no_backup_method(cluster_of):
    outcome = mlflow.check({**MANAGED, "postgres_backup_configuration": {}}, cluster_of())

    assert outcome.problems == []
    assert outcome.facts["backup"] is None


def test_an_upgrade_needs_the_backup_kind(kube, cluster_of):
    upgrade_from(kube)
    apis = {**ROLE_APIS, "postgresql.cnpg.io/v1": {"Cluster": ROLE_APIS["postgresql.cnpg.io/v1"]["Cluster"]}}

    (problem,) = mlflow.check(MANAGED, cluster_of(apis)).problems

    assert "the cluster has no Backup (postgresql.cnpg.io/v1)" in problem.message
