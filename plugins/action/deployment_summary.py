# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sums up what a run deployed and where, and which checks ran, from the host's variables alone.

Sends no request: it reads the role variables and what the verify tasks registered. The lines are
built in module_utils/deployment_summary.py. See plugins/modules/deployment_summary.py.
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.deployment_summary import Run, summary_lines
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction

# The role variables the lines name.
VARIABLES = (
    "mlflow_namespace",
    "postgres_cluster_name",
    "postgres_instances",
    "postgres_image",
    "postgres_storage_size",
    "postgres_storage_class",
    "storage_artifacts_pvc_name",
    "storage_artifacts_size",
    "storage_artifacts_access_mode",
    "storage_artifacts_storage_class",
    "mlflow_version",
    "mlflow_image",
    "mlflow_replicas",
    "mlflow_cluster_domain",
    "mlflow_external_host",
    "mlflow_httproute_enabled",
    "mlflow_gateway_name",
    "mlflow_verify_http",
    "mlflow_verify_url",
    "mlflow_verify_smoke_test",
    "authentik_application_slug",
    "authentik_provider_mode",
    "authentik_provider_name",
    "authentik_outpost",
    "authentik_dedicated_outpost_name",
    "authentik_host",
    "authentik_verify_http",
    "authentik_verify_url",
)
BOOLEANS = ("mlflow_httproute_enabled", "mlflow_verify_http", "mlflow_verify_smoke_test", "authentik_verify_http")
# What the verify tasks register.
RESULTS = (
    "networkpolicy_verify_policies",
    "postgres_verify_cluster",
    "storage_verify_claim",
    "authentik_verify_info",
    "authentik_verify_login",
)


def _bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "yes", "on", "1")


class ActionModule(ControllerAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, _args = self.begin(tmp, task_vars, {})
        template = self._templar.template
        values = {name: template(task_vars.get(name, "")) for name in VARIABLES}
        values.update({name: _bool(values[name]) for name in BOOLEANS})
        info = template(task_vars.get("cluster_preflight_cluster_info")) or {}
        values["cluster_host"] = (info.get("connection") or {}).get("host") if isinstance(info, dict) else None
        results = {name: template(task_vars[name]) if name in task_vars else None for name in RESULTS}
        run = Run(
            run_tags=frozenset(task_vars.get("ansible_run_tags") or ["all"]),
            skip_tags=frozenset(task_vars.get("ansible_skip_tags") or []),
            check_mode=bool(self._task.check_mode),
        )
        # Shown like debug's msg, without -v.
        result.update(changed=False, msg=summary_lines(values, results, run), _ansible_verbose_always=True)
        return result
