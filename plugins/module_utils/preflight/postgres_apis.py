# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The APIs homelab.mlflow.postgres needs from the cluster, each with the setting that asks for it."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import as_bool


@dataclass(frozen=True)
class RequiredApi:
    crd: str
    api_version: str
    kind: str
    variable: str
    remedy: str


def required_apis(values) -> list[RequiredApi]:
    """The APIs the settings need, the database's own first."""
    backups = as_bool(values["postgres_scheduled_backup_enabled"])
    needed = [
        RequiredApi(
            "clusters.postgresql.cnpg.io",
            "postgresql.cnpg.io/v1",
            "Cluster",
            "postgres_cluster_name",
            f"homelab.mlflow.postgres deploys the database (postgres_cluster_name {values['postgres_cluster_name']}) "
            "as a CloudNativePG Cluster; install the CloudNativePG operator first (https://cloudnative-pg.io/docs/, "
            "installation).",
        )
    ]
    if backups:
        needed.append(
            RequiredApi(
                "scheduledbackups.postgresql.cnpg.io",
                "postgresql.cnpg.io/v1",
                "ScheduledBackup",
                "postgres_scheduled_backup_enabled",
                "postgres_scheduled_backup_enabled is true; install a CloudNativePG release that has ScheduledBackup, "
                "or set postgres_scheduled_backup_enabled to false.",
            )
        )
    if backups and values["postgres_backup_method"] == "volumeSnapshot":
        needed.append(
            RequiredApi(
                "volumesnapshots.snapshot.storage.k8s.io",
                "snapshot.storage.k8s.io/v1",
                "VolumeSnapshot",
                "postgres_backup_method",
                "postgres_backup_method is volumeSnapshot; install the CSI external-snapshotter CRDs and controller "
                "and a VolumeSnapshotClass (Longhorn has one), or choose another postgres_backup_method.",
            )
        )
    if values["postgres_credentials_source"] == "onepassword_operator":
        needed.append(
            RequiredApi(
                "onepassworditems.onepassword.com",
                "onepassword.com/v1",
                "OnePasswordItem",
                "postgres_credentials_source",
                "postgres_credentials_source is onepassword_operator, which has the 1Password operator make the "
                "credentials Secret from a OnePasswordItem; install the operator first "
                "(https://github.com/1Password/onepassword-operator, with its Connect server or service account), or "
                "use postgres_credentials_source onepassword_connect, onepassword_sdk or variables.",
            )
        )
    if as_bool(values["postgres_pod_monitor_enabled"]):
        needed.append(
            RequiredApi(
                "podmonitors.monitoring.coreos.com",
                "monitoring.coreos.com/v1",
                "PodMonitor",
                "postgres_pod_monitor_enabled",
                "postgres_pod_monitor_enabled is true, which makes CloudNativePG create a Prometheus Operator "
                "PodMonitor; install the Prometheus Operator (for example kube-prometheus-stack) first, or set "
                "postgres_pod_monitor_enabled to false.",
            )
        )
    return needed
