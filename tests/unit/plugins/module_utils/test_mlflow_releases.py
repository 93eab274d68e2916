"""plugins/module_utils/mlflow_releases.py."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils import mlflow_releases


def migration_job(version: str | None, complete: bool = True, failed: bool = False) -> dict:
    labels = {"app.kubernetes.io/name": "mlflow", "app.kubernetes.io/component": "db-upgrade"}
    if version is not None:
        labels["app.kubernetes.io/version"] = version
    conditions = []
    if complete:
        conditions.append({"type": "Complete", "status": "True"})
    if failed:
        conditions.append({"type": "Failed", "status": "True"})
    return {
        "metadata": {"name": f"mlflow-db-upgrade-{version}", "labels": labels},
        "status": {"conditions": conditions},
    }


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("3.9.0", "3.10.0"),  # numerically, not as text
        ("3.10.0rc0", "3.10.0"),
        ("3.10.0.dev0", "3.10.0rc0"),
        ("3.10.0a1", "3.10.0b1"),
        ("3.10.0", "3.10.0.post1"),
        ("2.22.4", "3.0.0"),
        ("3.17.2", "3.17.10"),
    ],
)
def test_releases_sort_as_pip_sorts_them(older, newer):
    assert mlflow_releases.release_key(older) < mlflow_releases.release_key(newer)


@pytest.mark.parametrize("version", ["latest", "3.17", "v3.17.2", "", "3.17.2-custom"])
def test_what_is_no_release_has_no_key(version):
    assert mlflow_releases.release_key(version) is None


def test_the_newest_completed_migration_is_the_schema():
    jobs = [migration_job("3.9.0"), migration_job("3.17.2"), migration_job("3.10.1")]

    assert mlflow_releases.migrated_releases(jobs) == ["3.9.0", "3.10.1", "3.17.2"]
    assert mlflow_releases.newest_migrated(jobs) == "3.17.2"


def test_running_failed_and_unlabelled_jobs_are_no_record():
    jobs = [
        migration_job("3.9.0"),
        migration_job("3.18.0", complete=False),
        migration_job("3.19.0", complete=False, failed=True),
        migration_job(None),
        migration_job("custom"),
    ]

    assert mlflow_releases.newest_migrated(jobs) == "3.9.0"
    assert mlflow_releases.newest_migrated([]) is None


@pytest.mark.parametrize(
    ("wanted", "migrated", "downgrade", "upgrade"),
    [
        ("3.9.0", "3.17.2", True, False),
        ("3.17.2", "3.9.0", False, True),
        ("3.17.2", "3.17.2", False, False),  # a re-run
        ("3.17.2", None, False, False),  # a first install
        ("3.17.2rc0", "3.17.2", True, False),
    ],
)
def test_downgrade_and_upgrade(wanted, migrated, downgrade, upgrade):
    assert mlflow_releases.is_downgrade(wanted, migrated) is downgrade
    assert mlflow_releases.is_upgrade(wanted, migrated) is upgrade
