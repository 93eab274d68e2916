# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks MLflow's HTTP API from the controller: /health, then optionally a smoke run.

Nothing stays behind (the smoke test's experiment, run and artifact are deleted again), so the
task never reports a change. The checks are in module_utils/mlflow_api.py.
See plugins/modules/mlflow_api_check.py.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from urllib.error import HTTPError

from ansible.module_utils.urls import open_url

from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_api import (
    ApiCheckError,
    MlflowApi,
    smoke_test,
    wait_for_health,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_records import (
    missing_records,
    read_records,
    summary,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_workspaces import workspace_check
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "validate_certs": {"type": "bool", "default": True},
    "smoke_test": {"type": "bool", "default": True},
    "workspaces": {"type": "bool", "default": False},
    "health_timeout": {"type": "int", "default": 60},
    "read_records": {"type": "bool", "default": False},
    "expect_records": {"type": "dict", "default": {}},
    "records_limit": {"type": "int", "default": 200},
    "hint": {"type": "str", "default": ""},
}
REQUEST_TIMEOUT = 30


def transport(validate_certs: bool):
    """send() for MlflowApi over Ansible's URL opener (proxies and CA bundles as the uri module)."""

    def send(method: str, url: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        try:
            with open_url(
                url,
                data=body,
                headers=headers,
                method=method,
                validate_certs=validate_certs,
                timeout=REQUEST_TIMEOUT,
                follow_redirects="safe",
            ) as answer:
                return answer.status, answer.read()
        except HTTPError as error:
            return error.code, error.read()

    return send


class ActionModule(ControllerAction):
    _supports_check_mode = False

    def run(self, tmp=None, task_vars=None):
        result, _task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        api = MlflowApi(args["url"], transport(args["validate_certs"]))
        result["changed"] = False
        try:
            result["health"] = wait_for_health(api, timeout=args["health_timeout"])
        except ApiCheckError as error:
            result.update(failed=True, msg=" ".join(part for part in (str(error), args["hint"]) if part))
            return result
        now = datetime.now(UTC)
        try:
            if args["expect_records"]:
                expected = args["expect_records"]
                missing = missing_records(expected, read_records(api, args["records_limit"]))
                if missing:
                    result.update(
                        failed=True,
                        msg=f"MLflow at {args['url']} no longer holds what it held before the upgrade ("
                        f"{summary(expected)}): {'; '.join(missing)}. The backup taken before the migration "
                        "restores it (docs/upgrades.md).",
                    )
                    return result
                result["records_checked"] = summary(expected)
            if args["read_records"]:
                result["records"] = read_records(api, args["records_limit"])
            if args["smoke_test"]:
                name = f"homelab-mlflow-verify-{now:%Y%m%dT%H%M%SZ}-{secrets.randbelow(2**31)}"
                result["smoke_test"] = dict(smoke_test(api, name, lambda: int(time.time() * 1000)), experiment=name)
            if args["workspaces"]:
                # Workspace names are lower-case DNS labels.
                result["workspaces"] = workspace_check(api, f"homelab-mlflow-verify-{secrets.token_hex(6)}")
        except ApiCheckError as error:
            result.update(failed=True, msg=str(error))
        return result
