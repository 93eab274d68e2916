# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each role's read-only checks against the cluster, before any role writes: `check(values, cluster)` of its
module reads the role's variables (names to templated values) and the cluster (preflight.cluster), and
returns an Outcome - every problem, and the facts the role's later tasks read."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import (
    drift_cronjob,
    mlflow,
    namespace,
    networkpolicy,
    postgres,
    storage,
)

CHECKS = {
    "drift_cronjob": drift_cronjob.check,
    "mlflow": mlflow.check,
    "namespace": namespace.check,
    "networkpolicy": networkpolicy.check,
    "postgres": postgres.check,
    "storage": storage.check,
}
