"""plugins/module_utils/upgrade_backup.py: which Backup an upgrade takes, and how the wait for it ends."""

from __future__ import annotations

import re

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils import upgrade_backup
from ansible_collections.homelab.mlflow.plugins.module_utils.upgrade_backup import (
    BackupMethod,
    WaitOutcome,
    backup_manifest,
    backup_name,
    configured_method,
    ensure_backup,
    failure_message,
    no_method_message,
    wait_for_backup,
)

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
PATH = "/apis/postgresql.cnpg.io/v1/namespaces/ns/backups/db-before-mlflow-3-17-2"


def values(**overrides) -> dict:
    return {
        "postgres_backup_method": "volumeSnapshot",
        "postgres_backup_configuration": {},
        "postgres_backup_plugin_configuration": {},
        **overrides,
    }


def backup(phase: str = "", error: str = "") -> dict:
    status = {key: value for key, value in {"phase": phase, "error": error}.items() if value}
    return {"metadata": {"name": "db-before-mlflow-3-17-2"}, "status": status}


class Clock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Backups:
    """One Backup path of an API server; `phases` are what successive reads after a write report."""

    def __init__(self, live: dict | None = None, phases: tuple = ("running", "completed")):
        self.live = live
        self.phases = list(phases)
        self.sent: list[tuple[str, bool]] = []

    def get(self, path):
        assert path == PATH
        self.sent.append(("GET", False))
        if self.live is not None and self.phases and self.live.get("written"):
            self.live["status"] = {"phase": self.phases.pop(0)}
        return self.live

    def apply(self, path, obj, field_manager, dry_run=False):
        assert (path, field_manager) == (PATH, "homelab.mlflow")
        self.sent.append(("PATCH", dry_run))
        if not dry_run:
            self.live = {**obj, "written": True}
        return obj

    def delete(self, path, dry_run=False):
        self.sent.append(("DELETE", dry_run))
        self.live = None

    def writes(self) -> list[str]:
        return [verb for verb, dry_run in self.sent if verb != "GET" and not dry_run]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"postgres_backup_configuration": {"volumeSnapshot": {"className": "longhorn"}}}, "volumeSnapshot"),
        (
            {
                "postgres_backup_method": "barmanObjectStore",
                "postgres_backup_configuration": {"barmanObjectStore": {"destinationPath": "s3://b"}},
            },
            "barmanObjectStore",
        ),
        ({"postgres_backup_configuration": {"barmanObjectStore": {}}}, None),
        ({}, None),
        ({"postgres_backup_method": "plugin", "postgres_backup_plugin_configuration": {}}, None),
        ({"postgres_backup_method": "plugin", "postgres_backup_plugin_configuration": {"parameters": {}}}, None),
    ],
)
def test_the_method_is_the_one_the_postgres_role_configures(overrides, expected):
    method = configured_method(values(**overrides))

    assert (method.method if method else None) == expected


def test_the_plugin_method_carries_its_configuration():
    plugin = {"name": "barman-cloud.cloudnative-pg.io", "parameters": {"barmanObjectName": "store"}}

    method = configured_method(values(postgres_backup_method="plugin", postgres_backup_plugin_configuration=plugin))

    assert method == BackupMethod("plugin", plugin)


@pytest.mark.parametrize(
    ("release", "name"),
    [
        ("3.17.2", "mlflow-postgres-before-mlflow-3-17-2"),
        ("3.10.0rc0", "mlflow-postgres-before-mlflow-3-10-0rc0"),
        ("2.9.2.post1", "mlflow-postgres-before-mlflow-2-9-2-post1"),
        ("3.1.0.DEV0", "mlflow-postgres-before-mlflow-3-1-0-dev0"),
        ("..3.17.2+local..", "mlflow-postgres-before-mlflow-3-17-2-local"),
    ],
)
def test_the_backup_is_named_after_the_release(release, name):
    assert backup_name("mlflow-postgres", release) == name


def test_a_name_too_long_for_a_label_is_shortened_and_stays_unique():
    cluster = "a" * 50

    first, second = backup_name(cluster, "3.17.2"), backup_name(cluster, "3.17.3")

    assert max(len(first), len(second)) <= 63
    assert DNS_LABEL.fullmatch(first)
    assert DNS_LABEL.fullmatch(second)
    assert first != second


def test_the_manifest_backs_up_the_cluster_with_the_method():
    volume = backup_manifest("b", "ns", "db", BackupMethod("volumeSnapshot"), {"app": "x"})
    plugin = backup_manifest("b", "ns", "db", BackupMethod("plugin", {"name": "p"}), {})

    assert volume == {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Backup",
        "metadata": {"name": "b", "namespace": "ns", "labels": {"app": "x"}},
        "spec": {"cluster": {"name": "db"}, "method": "volumeSnapshot"},
    }
    assert plugin["spec"] == {"cluster": {"name": "db"}, "method": "plugin", "pluginConfiguration": {"name": "p"}}


@pytest.mark.parametrize(
    ("phases", "completed", "timed_out"),
    [
        (["", "running", "completed"], True, False),
        (["running", "failed"], False, False),
        (["walArchivingFailing"], False, False),
        (["running"] * 100, False, True),
    ],
)
def test_the_wait_ends_completed_failed_or_timed_out(phases, completed, timed_out):
    clock, reads = Clock(), iter(phases)

    outcome = wait_for_backup(lambda: backup(next(reads)), timeout=10, sleep=clock.sleep, clock=clock, poll=2)

    assert (outcome.completed, outcome.timed_out) == (completed, timed_out)
    assert clock.now <= 10


def test_a_missing_backup_is_created_then_waited_for():
    backups, clock = Backups(), Clock()

    run = ensure_backup(backups, PATH, {"kind": "Backup"}, False, 60, clock.sleep, clock)

    assert (run.action, run.changed, run.outcome.completed) == ("created", True, True)
    assert backups.writes() == ["PATCH"]


def test_a_completed_backup_is_kept_and_nothing_is_written():
    backups = Backups(backup("completed"))

    run = ensure_backup(backups, PATH, {"kind": "Backup"}, False, 60)

    assert (run.action, run.changed, run.outcome.completed) == ("unchanged", False, True)
    assert backups.sent == [("GET", False)]


def test_a_failed_backup_is_replaced():
    backups, clock = Backups(backup("failed", "snapshot class missing")), Clock()

    run = ensure_backup(backups, PATH, {"kind": "Backup"}, False, 60, clock.sleep, clock)

    assert (run.action, run.outcome.completed) == ("replaced", True)
    assert backups.writes() == ["DELETE", "PATCH"]


def test_a_running_backup_is_waited_for_not_written():
    backups, clock = Backups(backup("running")), Clock()
    backups.live["written"] = True

    run = ensure_backup(backups, PATH, {"kind": "Backup"}, False, 60, clock.sleep, clock)

    assert (run.action, run.outcome.completed) == ("unchanged", True)
    assert backups.writes() == []


@pytest.mark.parametrize(("live", "action"), [(None, "created"), (backup("failed"), "replaced")])
def test_check_mode_writes_nothing_and_waits_for_nothing(live, action):
    backups = Backups(live)

    run = ensure_backup(backups, PATH, {"kind": "Backup"}, True, 60, sleep=pytest.fail)

    assert (run.action, run.changed, run.outcome) == (action, True, None)
    assert backups.writes() == []


def test_a_failure_names_the_backup_its_phase_and_error_and_how_to_go_on():
    outcome = WaitOutcome(backup("failed", "no VolumeSnapshotClass longhorn"), False, False)

    message = failure_message(outcome, "db-before-mlflow-3-17-2", "ns", "3.17.2", 1800)

    assert "the CloudNativePG Backup db-before-mlflow-3-17-2 in namespace ns" in message
    assert "phase failed, error: no VolumeSnapshotClass longhorn" in message
    assert "the migration Job was not written" in message
    assert "run again: the failed Backup is replaced" in message
    assert "mlflow_upgrade_without_backup: true" in message


def test_a_timeout_names_the_phase_and_the_timeout_variable():
    message = failure_message(WaitOutcome(backup("running"), False, True), "b", "ns", "3.17.2", 30)

    assert "did not complete within mlflow_upgrade_backup_timeout (30 s); its phase is running" in message


def test_the_refusal_without_a_method_names_every_variable_and_the_option():
    message = no_method_message("ns", "3.15.0", "3.17.2")

    for variable in (*upgrade_backup.METHOD_VARIABLES, "postgres_plugins", upgrade_backup.OPTION):
        assert variable in message
    assert "from MLflow 3.15.0" in message
