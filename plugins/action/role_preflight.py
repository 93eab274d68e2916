# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks what one role of homelab.mlflow needs from the cluster, read-only, before any role writes.

The role's checks (module_utils/preflight/) read its variables by name, templated when first read, and the
cluster through the engine's client: the kinds it serves from the run's discovery (no request), objects by
name. The cluster is contacted only when a check needs to read it. The task fails once with every problem, or
returns in `facts` what the role's later tasks read (they register the result); it never changes anything.

See plugins/modules/role_preflight.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube, KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import (
    CLUSTER_INFO_FACT,
    CONNECTION_SPEC,
    open_kube,
    shown,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import CHECKS
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import failure_message
from ansible_collections.homelab.mlflow.plugins.module_utils.templated_variables import TemplatedVariables
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = dict(CONNECTION_SPEC, role={"type": "str", "required": True, "choices": sorted(CHECKS)})


def cluster_for(args: dict, values, task_vars: dict, template, agent: str | None = None) -> Cluster:
    """The cluster as the run's discovery knows it (the apis option, else cluster_preflight_cluster_info),
    connected on the first read."""
    info = values.get(CLUSTER_INFO_FACT)
    info = info if isinstance(info, dict) else {}
    apis = args.get("apis")
    if apis is None:
        apis = info.get("apis") if CLUSTER_INFO_FACT in values else None

    def connect() -> Kube:
        return open_kube(args, task_vars, template, agent)

    return Cluster(apis, connect, context=info.get("context"))


class ActionModule(ControllerAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        role = args["role"]
        values = TemplatedVariables(self._templar, task_vars)
        cluster = cluster_for(args, values, task_vars, self._templar.template, self._task.action)
        try:
            outcome = CHECKS[role](values, cluster)
        except KeyError as missing:
            raise AnsibleActionFail(
                f"homelab.mlflow.{role} reads {missing.args[0]}, which is not set: run the role's tasks (its defaults "
                "set it), or set it."
            ) from None
        except KubeError as error:
            raise AnsibleActionFail(f"homelab.mlflow.{role} cannot read the cluster: {error}") from None
        problems = outcome.problems
        result.update(
            changed=False,
            variables=list(dict.fromkeys(problem.variable for problem in problems)),
            requests=cluster.requests,
            resources=[shown(obj) for obj in cluster.objects()],
        )
        if problems:
            result.update(failed=True, msg=failure_message(role, problems))
        else:
            result["facts"] = outcome.facts
        return result
