# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CloudNativePG Backup taken before an MLflow upgrade migrates the database schema.

MLflow cannot migrate a schema back, so the database is backed up on demand before the migration Job of a
newer release runs: with the method the postgres role configures for the cluster, named after the release, and
waited for until CloudNativePG reports it completed. A first install and a re-run of the same release take none.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import FIELD_MANAGER

API_VERSION = "postgresql.cnpg.io/v1"
KIND = "Backup"
# The longest name kept whole: the name goes into CloudNativePG's labels (at most 63 characters).
NAME_LENGTH = 63
OPTION = "mlflow_upgrade_without_backup"
# The variables of homelab.mlflow.postgres that configure a backup method.
METHOD_VARIABLES = ("postgres_backup_method", "postgres_backup_configuration", "postgres_backup_plugin_configuration")
COMPLETED, FAILED = "completed", "failed"
# Phases after which CloudNativePG goes no further.
FAILED_PHASES = (FAILED, "walArchivingFailing", "invalid backup definition")
POLL_SECONDS = 2.0
# Seconds a failed Backup may take to go before its replacement is created.
GONE_SECONDS = 60.0
_NOT_IN_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class BackupMethod:
    """spec.method of the Backup, with spec.pluginConfiguration for the plugin method."""

    method: str
    plugin_configuration: dict = field(default_factory=dict)


def configured_method(values) -> BackupMethod | None:
    """The backup method the postgres role's variables configure for the Cluster, or None without one.

    volumeSnapshot and barmanObjectStore need their section in the Cluster's spec.backup
    (postgres_backup_configuration); plugin needs the plugin named (postgres_backup_plugin_configuration.name)."""
    method = values["postgres_backup_method"]
    if method == "plugin":
        plugin = values["postgres_backup_plugin_configuration"] or {}
        return BackupMethod("plugin", dict(plugin)) if plugin.get("name") else None
    return BackupMethod(method) if method in (values["postgres_backup_configuration"] or {}) else None


def backup_name(cluster: str, release: str) -> str:
    """`<cluster>-before-mlflow-<release>`, a DNS name whatever the release string: lower case, every run of
    other characters one '-'; a name that would be too long keeps its start and ends with a hash of the whole."""
    release_part = _NOT_IN_NAME.sub("-", str(release).lower()).strip("-")
    name = f"{cluster}-before-mlflow-{release_part}".strip("-")
    if len(name) <= NAME_LENGTH:
        return name
    suffix = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: NAME_LENGTH - len(suffix) - 1].rstrip('-')}-{suffix}"


def backup_manifest(name: str, namespace: str, cluster: str, method: BackupMethod, labels: dict) -> dict:
    """The on-demand Backup of the database cluster."""
    spec: dict = {"cluster": {"name": cluster}, "method": method.method}
    if method.method == "plugin":
        spec["pluginConfiguration"] = method.plugin_configuration
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": spec,
    }


def phase_of(backup: dict | None) -> str:
    return str(((backup or {}).get("status") or {}).get("phase") or "")


def is_completed(backup: dict | None) -> bool:
    return phase_of(backup) == COMPLETED


def is_failed(backup: dict | None) -> bool:
    return phase_of(backup) in FAILED_PHASES


@dataclass(frozen=True)
class WaitOutcome:
    """How the wait ended: completed, failed (CloudNativePG gave up on it) or timed out (still going)."""

    backup: dict | None
    completed: bool
    timed_out: bool


def wait_for_backup(
    read: Callable[[], dict | None],
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    poll: float = POLL_SECONDS,
) -> WaitOutcome:
    """Read the Backup until its phase is completed or failed, or `timeout` seconds have passed."""
    deadline = clock() + timeout
    while True:
        backup = read()
        if is_completed(backup) or is_failed(backup):
            return WaitOutcome(backup, is_completed(backup), False)
        left = deadline - clock()
        if left <= 0:
            return WaitOutcome(backup, False, True)
        sleep(min(poll, left))


@dataclass(frozen=True)
class BackupRun:
    """What ensure_backup did (or, in check mode, would do): created, replaced (a failed one) or unchanged (a
    completed one, or one still running, waited for); and how the wait ended (None in check mode)."""

    action: str
    backup: dict | None
    outcome: WaitOutcome | None = None

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


def ensure_backup(
    kube,
    path: str,
    manifest: dict,
    check_mode: bool,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BackupRun:
    """The Backup at `path` completed: a completed one is kept as it is (a re-run writes nothing), a running one
    waited for, a failed one replaced, a missing one created; in check mode nothing is written (the server
    dry-runs a new one, so a Backup it would refuse fails there too) and nothing waited for."""
    live = kube.get(path)
    if is_completed(live):
        return BackupRun("unchanged", live, WaitOutcome(live, True, False))
    action = "created" if live is None else "replaced" if is_failed(live) else "unchanged"
    if check_mode:
        if action == "created":
            kube.apply(path, manifest, FIELD_MANAGER, dry_run=True)
        return BackupRun(action, live)
    if action == "replaced":
        # A Backup runs once: a failed one is never retried by CloudNativePG.
        kube.delete(path)
        deadline = clock() + GONE_SECONDS
        while kube.get(path) is not None and clock() < deadline:
            sleep(1.0)
    if action != "unchanged":
        kube.apply(path, manifest, FIELD_MANAGER)
    outcome = wait_for_backup(lambda: kube.get(path), timeout, sleep, clock)
    return BackupRun(action, outcome.backup, outcome)


def failure_message(outcome: WaitOutcome, name: str, namespace: str, release: str, timeout: float) -> str:
    """What failed (the Backup's name, phase and error), that nothing was migrated, and how to go on."""
    status = (outcome.backup or {}).get("status") or {}
    phase = status.get("phase") or "not reported yet"
    if outcome.timed_out:
        what = (
            f"did not complete within mlflow_upgrade_backup_timeout ({timeout:g} s); its phase is {phase}. A later "
            "run waits for the same Backup again, or raise mlflow_upgrade_backup_timeout"
        )
    else:
        error = status.get("error") or "CloudNativePG gave no error"
        what = (
            f"failed: phase {phase}, error: {error}. Fix the cause (kubectl -n {namespace} describe backup {name}, and "
            "the CloudNativePG operator's log), then run again: the failed Backup is replaced by a new one"
        )
    return (
        f"The backup of the database before the upgrade to MLflow {release}, the CloudNativePG Backup {name} in "
        f"namespace {namespace}, {what}. Nothing was migrated: the migration Job was not written and the running "
        f"release is untouched. To upgrade without a backup, knowingly, set {OPTION}: true (docs/upgrades.md)."
    )


def backup_step(backup_name_or_none: str | None) -> str:
    """What an upgrade does before its migration, for the message that announces it."""
    if backup_name_or_none:
        return f"first the CloudNativePG Backup {backup_name_or_none} of the database, then"
    return f"without a backup ({OPTION}),"


def no_method_message(namespace: str, migrated: str, wanted: str) -> str:
    """The preflight's refusal of an upgrade that no backup can precede."""
    return (
        f"mlflow_version {wanted} upgrades the database in namespace {namespace} from MLflow {migrated}, and MLflow "
        "cannot migrate its schema back, so the role backs the database up first; but no backup method is "
        "configured: set postgres_backup_method with its section in postgres_backup_configuration (for example "
        'postgres_backup_configuration: {"volumeSnapshot": {"className": "longhorn-snapshot"}}), or '
        "postgres_backup_method: plugin with postgres_backup_plugin_configuration.name a plugin of postgres_plugins. "
        f"To upgrade without a backup, knowingly, set {OPTION}: true (docs/upgrades.md)."
    )
