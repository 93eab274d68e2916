# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks that MLflow serves workspaces (`--enable-workspaces`): a workspace created, an experiment made in it and
seen only there, then the workspace deleted with what it holds.

Workspaces are experimental in MLflow (since 3.10): requests name theirs in the X-MLFLOW-WORKSPACE header, and
a request without it is in the workspace `default`.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_api import ApiCheckError, MlflowApi

WORKSPACES = "/api/3.0/mlflow/workspaces"
WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"
EXPERIMENT = "homelab-mlflow-verify"


def workspace_check(api: MlflowApi, name: str) -> dict:
    """Create workspace `name` and an experiment in it, check that it is there and not in `default`, delete both."""
    created = False
    try:
        api.call("POST", WORKSPACES, {"name": name, "description": "homelab.mlflow verify"}, ok=(200, 201))
        created = True
        inside = {WORKSPACE_HEADER: name}
        experiment_id = api.json("POST", "/api/2.0/mlflow/experiments/create", {"name": EXPERIMENT}, headers=inside)[
            "experiment_id"
        ]
        by_name = f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={quote(EXPERIMENT)}"
        found = api.json("GET", by_name, headers=inside)["experiment"]
        # 404 is the answer wanted here: not asked again as a standby's lag would be.
        status, _body = api.call("GET", by_name, ok=(200, 404))
        if found.get("experiment_id") != experiment_id or found.get("workspace", name) != name or status != 404:
            raise ApiCheckError(
                f"The experiment {EXPERIMENT} made in workspace {name} is not kept apart: in the workspace "
                f"{found}, in workspace default the server answered {status} (404 expected). Is the server "
                "started with --enable-workspaces (mlflow_workspaces_enabled)?"
            )
    except (KeyError, TypeError) as error:
        raise ApiCheckError(f"MLflow's answer lacks {error}: does {api.base} serve workspaces?") from None
    finally:
        if created:
            # CASCADE: the experiment goes with it, nothing stays behind.
            api.call("DELETE", f"{WORKSPACES}/{quote(name, safe='')}?mode=CASCADE", ok=(200, 204))
    return {"workspace": name, "experiment_id": experiment_id}
