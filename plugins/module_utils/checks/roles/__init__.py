# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each role's value checks: `problems(values)` of its module takes the role's variables (a mapping of
names to templated values) and returns every Problem, or none."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.roles import (
    authentik,
    cluster_preflight,
    drift_cronjob,
    mlflow,
    namespace,
    networkpolicy,
    postgres,
    storage,
)

RULES = {
    "authentik": authentik.problems,
    "cluster_preflight": cluster_preflight.problems,
    "drift_cronjob": drift_cronjob.problems,
    "mlflow": mlflow.problems,
    "namespace": namespace.problems,
    "networkpolicy": networkpolicy.problems,
    "postgres": postgres.problems,
    "storage": storage.problems,
}
# Roles whose rules read the controller's environment too (settings that may come from there).
READS_ENVIRONMENT = frozenset({"postgres"})
