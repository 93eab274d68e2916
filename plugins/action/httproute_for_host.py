# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waits until an HTTPRoute of a namespace answers on a host (one another controller writes).

Reads only, through the engine's client. The wait is in module_utils/httproute.py.
See plugins/modules/httproute_for_host.py.
"""

from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils.httproute import wait_for_route
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

ARGUMENT_SPEC = dict(
    CONNECTION_SPEC,
    namespace={"type": "str", "required": True},
    host={"type": "str", "required": True},
    timeout={"type": "int", "default": 60},
    msg={"type": "str", "default": ""},
)


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        # Check mode writes nothing, so waiting for a change cannot help: one read.
        timeout = 0 if self._task.check_mode else args["timeout"]
        started = time.monotonic()
        try:
            kube, resources = self.connect_cluster(args, task_vars)
            routes = wait_for_route(kube, resources, args["namespace"], args["host"], timeout)
        except (KubeError, ValueError) as error:
            raise AnsibleActionFail(str(error)) from None
        result.update(
            changed=False,
            routes=routes,
            requests=kube.requests,
            waited_seconds=round(time.monotonic() - started, 2),
        )
        if not routes:
            window = f" within {timeout} s" if timeout else ""
            found = f"No HTTPRoute in {args['namespace']} has {args['host']} among its hostnames{window}."
            result.update(failed=True, msg=" ".join(part for part in (found, args["msg"]) if part))
        return result
