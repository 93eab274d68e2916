# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads objects from the target's API server and waits until each is ready (the engine's verify).

See plugins/modules/k8s_verify.py.
"""

from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import Ref
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.ready import (
    CHECKS,
    FAILED,
    READY,
    WANTED,
    secret_values_state,
    wait_for,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC, shown
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

CONDITIONS = [*CHECKS, "absent"]
ARGUMENT_SPEC = dict(
    CONNECTION_SPEC,
    objects={
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "api_version": {"type": "str"},
            "kind": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str"},
            "condition": {"type": "str", "default": "exists", "choices": CONDITIONS},
            "optional": {"type": "bool", "default": False},
            "values": {"type": "dict"},
        },
    },
    namespace={"type": "str"},
    timeout={"type": "int", "default": 300},
    known={"type": "list", "elements": "dict", "default": []},
    fail={"type": "bool", "default": True},
    msg={"type": "str"},
)


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        try:
            kube, resources = self.connect_cluster(args, task_vars)
            wanted, optional, values = [], set(), {}
            for item in args["objects"]:
                api_version = item["api_version"] or resources.api_version_of(item["kind"])
                namespaced = resources.get(api_version, item["kind"]).namespaced
                namespace = (item["namespace"] or args["namespace"]) if namespaced else None
                ref = Ref(api_version, item["kind"], namespace, item["name"])
                wanted.append((ref, item["condition"]))
                if item["optional"]:
                    optional.add(ref)
                if item["values"]:
                    values[ref] = {str(key): value for key, value in item["values"].items()}
            # A known copy of a Secret has its values hidden: one whose values are checked is read.
            known = {Ref.of(obj): obj for obj in args["known"] if Ref.of(obj) not in values}
            # Check mode writes nothing, so waiting for a change cannot help: one read.
            timeout = 0 if self._task.check_mode else args["timeout"]
            started = time.monotonic()
            states = wait_for(kube, resources, wanted, timeout, known, optional)
            waited = round(time.monotonic() - started, 2)
        except (KubeError, ValueError) as error:
            raise AnsibleActionFail(str(error)) from None
        for state in states:
            if state["ref"] in values and state["state"] == READY and state["object"] is not None:
                state["state"], state["reason"] = secret_values_state(state["object"], values[state["ref"]])
        not_ready = [s for s in states if s["state"] != READY]
        result.update(
            changed=False,
            ready=not not_ready,
            objects=[
                dict(s["ref"].to_json(), condition=s["check"], state=s["state"], reason=s["reason"]) for s in states
            ],
            resources=[shown(s["object"]) for s in states if s["object"] is not None],
            requests=kube.requests,
            waited_seconds=waited,
        )
        if not_ready and args["fail"]:
            failed = any(s["state"] == FAILED for s in not_ready)
            what = "; ".join(
                f"{s['ref'].label} is not {WANTED.get(s['check'], s['check'])}: {s['reason']}" for s in not_ready
            )
            window = "" if failed or timeout == 0 else f" within {timeout} s"
            result.update(failed=True, msg=f"{args['msg'] + ' ' if args['msg'] else ''}Not ready{window}: {what}.")
        return result
