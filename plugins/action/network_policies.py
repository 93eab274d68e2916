# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compares a namespace's network policies that carry a role's labels with the ones it declares.

One LIST per kind and a label selector reads them (nothing, when the run's apply already said what is
there); the rules are in module_utils/network_policies.py. See plugins/modules/network_policies.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils import network_policies
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC, shown
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import plain

ARGUMENT_SPEC = dict(
    CONNECTION_SPEC,
    namespace={"type": "str", "required": True},
    declared={"type": "list", "elements": "dict", "required": True},
    labels={"type": "dict", "required": True},
    # Each {api_version, kind}: the kinds the role may have left policies of.
    kinds={"type": "list", "elements": "dict", "required": True},
    current={"type": "list", "elements": "dict"},
    fail={"type": "bool", "default": True},
)
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        # Plain data from here on: Ansible's tagged strings and mappings stay out of the comparison.
        declared = plain(args["declared"])
        requests: dict = {}
        if args["current"] is not None:
            live = plain(args["current"])
        else:
            try:
                kube, resources = self.connect_cluster(args, task_vars)
                live = []
                for item in args["kinds"]:
                    if not resources.serves(item["api_version"], item["kind"]):
                        continue
                    path = resources.get(item["api_version"], item["kind"]).path(args["namespace"])
                    listed = kube.list(path, label_selector=network_policies.selector(args["labels"]))
                    live.extend(dict(obj, apiVersion=item["api_version"], kind=item["kind"]) for obj in listed)
                requests = kube.requests
            except (KubeError, ValueError) as error:
                raise AnsibleActionFail(str(error)) from None
        wrong = network_policies.problems(args["namespace"], declared, live)
        result.update(
            changed=False,
            policies=[shown(obj) for obj in live],
            stale=network_policies.stale(live, declared),
            problems=wrong,
            requests=requests,
        )
        if wrong and args["fail"]:
            result.update(failed=True, msg=" ".join(wrong))
        return result
