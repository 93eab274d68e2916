# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The StorageClass a role's volumes are on: read by name; every class is listed only to say which there are
when it is missing."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import as_json
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster

STORAGE_CLASS = ("storage.k8s.io/v1", "StorageClass")


def storage_class(cluster: Cluster, name: str) -> dict | None:
    return cluster.get(*STORAGE_CLASS, name) if name else None


def missing_message(cluster: Cluster, variable: str, name: str) -> str:
    names = [(item.get("metadata") or {}).get("name", "") for item in cluster.list(*STORAGE_CLASS)]
    return (
        f"{variable} is {as_json(name)}, but the cluster has no such StorageClass; it has "
        f"{', '.join(names) or 'none'}. Set {variable} to one of them, or install the storage provider first "
        "(Longhorn provides 'longhorn')."
    )
