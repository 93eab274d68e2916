# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.cluster_preflight checks: the namespace's name and the connect timeout."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import is_dns_label
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem, as_int, as_json


def problems(values) -> list[Problem]:
    found = []
    namespace = values["mlflow_namespace"]
    if not is_dns_label(namespace):
        found.append(
            Problem(
                "mlflow_namespace",
                f"mlflow_namespace is {as_json(namespace)}, which is not a valid namespace name (host "
                f"{values.get('inventory_hostname', 'localhost')}): use lower-case letters, digits and '-', at most 63 "
                "characters, starting and ending with a letter or digit.",
            )
        )
    timeout = values["cluster_preflight_connect_timeout"]
    if as_int(timeout) < 1:
        found.append(
            Problem(
                "cluster_preflight_connect_timeout",
                f"cluster_preflight_connect_timeout is {as_json(timeout)}: use a whole number of seconds, at least 1, "
                "such as 5.",
            )
        )
    return found
