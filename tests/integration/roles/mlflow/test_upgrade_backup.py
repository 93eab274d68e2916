"""The Backup homelab.mlflow.mlflow takes before an upgrade migrates the database, on the local test cluster.

Each namespace is first deployed at the previous MLflow release (its migration Job completes on the kwok
node), with a CloudNativePG Cluster configured as inventories/local configures it; the CloudNativePG operator
is the stand-in of tools/standins/operators/cnpg_operator.py, which completes a Backup of a healthy Cluster, or
fails it when the test annotates the Cluster. The order of what happens is read from the API server's audit
log. (The real upgrade, with real data in PostgreSQL, is test_mlflow_role.py's.)
"""

from __future__ import annotations

import uuid

import pytest

from .test_mlflow_role import (
    DEFAULTS,
    PREVIOUS_VERSION,
    backups,
    changed,
    create_database_cluster,
    create_prerequisites,
    delete_namespace,
    first_write,
    role_objects,
    set_backup_error,
    tail,
)

CURRENT = DEFAULTS["mlflow_version"]
NEW_JOB = "mlflow-db-upgrade-" + CURRENT.replace(".", "-")
BACKUP = "mlflow-postgres-before-mlflow-" + CURRENT.replace(".", "-")
BACKUPS = "postgresql.cnpg.io/backups"


def failure(stdout: str) -> str:
    """The message of the run's failure, on one line."""
    return " ".join(stdout[stdout.rindex("fatal: [") :].split())


def deployed_at_previous_release(k8s, playbook, prefix: str) -> tuple[str, dict]:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    settings = {"postgres_database": f"mlflow_{name.rsplit('-', 1)[1]}", "mlflow_verify_http": False}
    create_prerequisites(k8s, name)
    create_database_cluster(k8s, name)
    first = playbook(name, extra_vars={**settings, "mlflow_version": PREVIOUS_VERSION})
    assert first.returncode == 0, tail(first.stdout)
    assert backups(k8s, name) == {}  # a first install takes no backup
    return name, settings


@pytest.fixture(scope="module")
def upgradable(k8s, playbook):
    """A namespace at the previous release: the tests below upgrade it in file order."""
    name, settings = deployed_at_previous_release(k8s, playbook, "mlflow-bk")
    yield name, settings
    delete_namespace(k8s, name)


def test_check_mode_says_it_would_back_up_and_writes_nothing(testcluster, k8s, playbook, upgradable):
    name, settings = upgradable
    mark = testcluster.audit.mark()

    run = playbook(name, "--check", "--diff", extra_vars=settings)

    assert run.returncode == 0, tail(run.stdout)
    said = " ".join(run.stdout.split())
    assert f"Upgrading MLflow {PREVIOUS_VERSION} to {CURRENT}: first the CloudNativePG Backup {BACKUP}" in said, tail(
        run.stdout
    )
    # The diff shows the Backup to be created, then the Job.
    assert said.index(f"+++ after: Backup {name}/{BACKUP}") < said.index(f"name: {NEW_JOB}"), tail(run.stdout)
    assert "method: volumeSnapshot" in said
    assert testcluster.audit.writes(mark, user="testcluster-admin", namespace=name) == []
    assert backups(k8s, name) == {}


def test_without_a_backup_method_the_upgrade_is_refused_before_any_write(
    testcluster,
    playbook,
    upgradable,
):
    name, settings = upgradable
    mark = testcluster.audit.mark()

    run = playbook(name, extra_vars={**settings, "postgres_backup_configuration": {}})

    assert run.returncode != 0
    message = failure(run.stdout)
    assert f"mlflow_version {CURRENT} upgrades the database in namespace {name} from MLflow {PREVIOUS_VERSION}" in (
        message
    ), tail(run.stdout)
    assert "postgres_backup_configuration" in message
    assert "postgres_backup_plugin_configuration" in message
    assert "set mlflow_upgrade_without_backup: true" in message
    assert changed(run.stdout) == 0
    assert testcluster.audit.writes(mark, user="testcluster-admin", namespace=name) == []


def test_a_failed_backup_stops_the_upgrade_before_its_migration(testcluster, k8s, playbook, upgradable):
    name, settings = upgradable
    set_backup_error(k8s, name, "volume snapshot class longhorn-snapshot not found")
    try:
        run = playbook(name, extra_vars=settings)
    finally:
        set_backup_error(k8s, name, None)

    assert run.returncode != 0
    message = failure(run.stdout)
    assert f"the CloudNativePG Backup {BACKUP} in namespace {name}" in message, tail(run.stdout)
    assert "phase failed, error: volume snapshot class longhorn-snapshot not found" in message
    assert "the migration Job was not written" in message
    assert role_objects(k8s, name)["job"] is None
    assert backups(k8s, name)[BACKUP]["status"]["phase"] == "failed"


def test_an_upgrade_backs_up_first_and_a_rerun_takes_no_other_backup(
    testcluster,
    k8s,
    playbook,
    upgradable,
):
    """After the failed attempt above: the failed Backup is replaced, completed, and only then is the Job created."""
    name, settings = upgradable
    mark = testcluster.audit.mark()

    run = playbook(name, extra_vars=settings)

    assert run.returncode == 0, tail(run.stdout)
    writes = testcluster.audit.writes(mark, namespace=name)
    assert first_write(writes, BACKUPS, BACKUP) < first_write(writes, f"{BACKUPS}/status", BACKUP)
    assert first_write(writes, f"{BACKUPS}/status", BACKUP) < first_write(writes, "batch/jobs", NEW_JOB)
    (backup,) = backups(k8s, name).values()
    assert backup["metadata"]["name"] == BACKUP
    assert backup["spec"] == {"cluster": {"name": "mlflow-postgres"}, "method": "volumeSnapshot"}
    assert backup["status"]["phase"] == "completed"
    assert backup["metadata"]["labels"]["app.kubernetes.io/version"] == CURRENT

    mark = testcluster.audit.mark()
    again = playbook(name, extra_vars=settings)

    assert again.returncode == 0, tail(again.stdout)
    assert changed(again.stdout) == 0
    assert [w for w in testcluster.audit.writes(mark, namespace=name) if w.resource.startswith(BACKUPS)] == []
    assert list(backups(k8s, name)) == [BACKUP]


def test_the_option_upgrades_without_a_backup(testcluster, k8s, playbook):
    name, settings = deployed_at_previous_release(k8s, playbook, "mlflow-nb")
    try:
        unconfigured = {**settings, "postgres_backup_configuration": {}, "mlflow_upgrade_without_backup": True}

        run = playbook(name, extra_vars=unconfigured)

        assert run.returncode == 0, tail(run.stdout)
        assert "without a backup (mlflow_upgrade_without_backup)" in " ".join(run.stdout.split())
        assert role_objects(k8s, name)["job"]["metadata"]["name"] == NEW_JOB
        assert backups(k8s, name) == {}
    finally:
        delete_namespace(k8s, name)
