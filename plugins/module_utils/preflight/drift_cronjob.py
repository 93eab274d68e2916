# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""homelab.mlflow.drift_cronjob before it writes: it reads the cluster's API list (for Longhorn's)."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import as_bool
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import Outcome, cluster_info_missing


def check(values, cluster: Cluster) -> Outcome:
    outcome = Outcome()
    if as_bool(values["drift_cronjob_enabled"]) and not cluster.known:
        outcome.problems.append(cluster_info_missing("drift_cronjob"))
    return outcome
