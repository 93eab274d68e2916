# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""homelab.mlflow.namespace before it writes: the namespace must not be being deleted."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import Outcome


def check(values, cluster: Cluster) -> Outcome:
    outcome = Outcome()
    namespace = values["mlflow_namespace"]
    live = cluster.namespace(namespace)
    if live is not None and (live.get("status") or {}).get("phase") == "Terminating":
        outcome.add(
            "mlflow_namespace",
            f"Namespace {namespace} (mlflow_namespace) is being deleted (phase Terminating): wait until it is gone "
            f"(kubectl get namespace {namespace}), or deploy to another namespace.",
        )
    return outcome
