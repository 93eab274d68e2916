# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""homelab.mlflow.mlflow before it writes: the APIs its options need, the database credentials Secret, and the
release whose schema migration the namespace holds (an older mlflow_version is refused)."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import as_bool
from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_releases import (
    MIGRATION_JOB_SELECTOR,
    is_downgrade,
    is_upgrade,
    newest_migrated,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import Outcome, cluster_info_missing
from ansible_collections.homelab.mlflow.plugins.module_utils.upgrade_backup import (
    API_VERSION,
    KIND,
    OPTION,
    backup_name,
    backup_step,
    configured_method,
    no_method_message,
)


def check(values, cluster: Cluster) -> Outcome:
    outcome = Outcome()
    if not cluster.known:
        outcome.problems.append(cluster_info_missing("mlflow"))
        return outcome
    if as_bool(values["mlflow_httproute_enabled"]) and not cluster.serves("gateway.networking.k8s.io/v1", "HTTPRoute"):
        outcome.add(
            "mlflow_httproute_enabled",
            "mlflow_httproute_enabled is true, but the cluster has no HTTPRoute (gateway.networking.k8s.io/v1): "
            "install the Gateway API CRDs and a gateway controller (e.g. Cilium's), or set mlflow_httproute_enabled "
            "to false and expose MLflow another way.",
        )
    if as_bool(values["mlflow_servicemonitor_enabled"]) and not cluster.serves(
        "monitoring.coreos.com/v1", "ServiceMonitor"
    ):
        outcome.add(
            "mlflow_servicemonitor_enabled",
            "mlflow_servicemonitor_enabled is true, but the cluster has no ServiceMonitor (monitoring.coreos.com/v1): "
            "install the Prometheus Operator's CRDs, or set mlflow_servicemonitor_enabled to false.",
        )
    if not _credentials_written_in_this_play(values):
        _check_credentials_secret(values, cluster, outcome)
    _check_release(values, cluster, outcome)
    return outcome


def _check_release(values, cluster: Cluster, outcome: Outcome) -> None:
    """An older release than the newest completed migration cannot read the schema, and MLflow has no way back.

    The facts say which release the schema is at (None: no migration has completed here), whether this run
    upgrades it, and the Backup an upgrade takes first (None: no upgrade, or mlflow_upgrade_without_backup), with
    the words that announce it (backup_step)."""
    wanted, namespace = str(values["mlflow_version"]), values["mlflow_namespace"]
    # Every cluster serves Jobs; a discovery without them (a test's) holds no migration either.
    served = cluster.serves("batch/v1", "Job")
    jobs = cluster.list("batch/v1", "Job", namespace, labels=MIGRATION_JOB_SELECTOR) if served else []
    migrated = newest_migrated(jobs)
    upgrade = is_upgrade(wanted, migrated)
    backup = _upgrade_backup(values, cluster, outcome, migrated) if upgrade else None
    outcome.facts.update(migrated_release=migrated, upgrade=upgrade, backup=backup)
    if upgrade:
        outcome.facts["backup_step"] = backup_step(backup["name"] if backup else None)
    if is_downgrade(wanted, migrated):
        outcome.add(
            "mlflow_version",
            f"mlflow_version is {wanted}, but the database in namespace {namespace} was migrated to MLflow {migrated} "
            f"(its migration Job completed there): MLflow {wanted} does not know that schema, and MLflow cannot "
            f"migrate back. Set mlflow_version to {migrated} or newer; to go back to {wanted} for good, restore the "
            "database from the backup taken before the upgrade and delete the newer release's migration Job "
            "(docs/upgrades.md).",
        )


def _upgrade_backup(values, cluster: Cluster, outcome: Outcome, migrated: str) -> dict | None:
    """The Backup an upgrade takes before its migration, with the method the postgres role configures; an
    upgrade without a method is refused unless mlflow_upgrade_without_backup says to go on without one."""
    if as_bool(values[OPTION]):
        return None
    wanted, namespace = str(values["mlflow_version"]), values["mlflow_namespace"]
    method = configured_method(values)
    if method is None:
        outcome.add("postgres_backup_method", no_method_message(namespace, migrated, wanted))
        return None
    if not cluster.serves(API_VERSION, KIND):
        outcome.add(
            "postgres_backup_method",
            f"mlflow_version {wanted} upgrades the database in namespace {namespace}, which the role backs up first "
            f"with a CloudNativePG Backup, but the cluster has no Backup ({API_VERSION}): install CloudNativePG's "
            f"CRDs, or set {OPTION}: true to upgrade without a backup.",
        )
        return None
    return {
        "name": backup_name(values["postgres_cluster_name"], wanted),
        "method": method.method,
        "plugin_configuration": method.plugin_configuration,
    }


def _credentials_written_in_this_play(values) -> bool:
    """Not there yet is fine when homelab.mlflow.postgres writes it later in this play (site.yml runs every
    preflight first): its defaults, postgres_credentials_source among them, are then in the play.
    postgres_credentials_secret_managed says so explicitly, either way."""
    managed = values.get("postgres_credentials_secret_managed")
    return as_bool(managed) if managed is not None else "postgres_credentials_source" in values


def _check_credentials_secret(values, cluster: Cluster, outcome: Outcome) -> None:
    name, namespace = values["postgres_credentials_secret"], values["mlflow_namespace"]
    secret = cluster.get("v1", "Secret", name, namespace)
    # Only key names are looked at: the values never reach a message or the result.
    data = (secret or {}).get("data") or {}
    if secret is not None and data.get("username") and data.get("password"):
        return
    state = "has no non-empty keys username and password" if secret else f"does not exist in namespace {namespace}"
    outcome.add(
        "postgres_credentials_secret",
        f"The database credentials Secret {name} (postgres_credentials_secret) {state}. homelab.mlflow.postgres "
        f"writes it; or create it yourself: kubectl -n {namespace} create secret generic {name} "
        "--type=kubernetes.io/basic-auth --from-literal=username=mlflow --from-literal=password=...",
    )
