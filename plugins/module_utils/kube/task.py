# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the engine's action plugins share: the connection options, the cluster's kinds, results."""

from __future__ import annotations

from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import Resources, discover
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import redacted, without_managed_fields

# The options every action of the engine takes (meta/runtime.yml: group homelab.mlflow.kubernetes).
CONNECTION_SPEC = {
    "kubeconfig": {"type": "path"},
    "context": {"type": "str"},
    "apis": {"type": "dict"},
}
# The run's discovery, registered by homelab.mlflow.k8s_cluster_info in the cluster_preflight role.
CLUSTER_INFO_FACT = "cluster_preflight_cluster_info"
# Inventory variables the connection options fall back to.
KUBECONFIG_VARIABLE = "mlflow_kubeconfig"
CONTEXT_VARIABLE = "mlflow_kube_context"


def setting(args: dict, name: str, task_vars: dict, variable: str, template) -> Any:
    """An option, or else the inventory variable behind it (templated: it may be an expression)."""
    if args.get(name) not in (None, ""):
        return args[name]
    value = task_vars.get(variable)
    return template(value) if value is not None else None


def open_kube(args: dict, task_vars: dict, template, agent: str | None = None) -> Kube:
    """A connection to the target's API server, from the task's options or else the inventory's variables;
    `agent`, the task's action, follows the collection's name in the requests' User-Agent."""
    return Kube.connect(
        setting(args, "kubeconfig", task_vars, KUBECONFIG_VARIABLE, template),
        setting(args, "context", task_vars, CONTEXT_VARIABLE, template),
        agent,
    )


def connect(args: dict, task_vars: dict, template, agent: str | None = None) -> tuple[Kube, Resources]:
    """open_kube, and the kinds the server serves (discovered when the run does not know them)."""
    kube = open_kube(args, task_vars, template, agent)
    apis = args.get("apis")
    if apis is None:
        info = task_vars.get(CLUSTER_INFO_FACT)
        apis = (template(info) or {}).get("apis") if isinstance(info, dict) else None
    return kube, Resources(apis if apis else discover(kube))


def shown(obj: dict | None) -> dict | None:
    """An object as a task result may hold it: no managedFields, a Secret's values hidden."""
    return redacted(without_managed_fields(obj))
