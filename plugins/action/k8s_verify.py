# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads objects from the target's API server and waits until each is ready (the engine's verify).

See plugins/modules/k8s_verify.py.
"""

from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import Ref
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.ready import CHECKS, FAILED, READY, WANTED, wait_for
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC, connect, shown

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
        },
    },
    namespace={"type": "str"},
    timeout={"type": "int", "default": 300},
    known={"type": "list", "elements": "dict", "default": []},
    fail={"type": "bool", "default": True},
    msg={"type": "str"},
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            kube, resources = connect(args, task_vars, self._templar.template)
            wanted = []
            for item in args["objects"]:
                api_version = item["api_version"] or resources.api_version_of(item["kind"])
                namespaced = resources.get(api_version, item["kind"]).namespaced
                namespace = (item["namespace"] or args["namespace"]) if namespaced else None
                wanted.append((Ref(api_version, item["kind"], namespace, item["name"]), item["condition"]))
            known = {}
            for obj in args["known"]:
                ref = Ref.of(obj)
                known[ref] = obj
            # Check mode writes nothing, so waiting for a change cannot help: one read.
            timeout = 0 if self._task.check_mode else args["timeout"]
            started = time.monotonic()
            states = wait_for(kube, resources, wanted, timeout, known)
            waited = round(time.monotonic() - started, 2)
        except (KubeError, ValueError) as error:
            raise AnsibleActionFail(str(error)) from None
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
