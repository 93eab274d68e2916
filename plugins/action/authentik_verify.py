# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Proves the authentik role's objects are in place: the blueprint ConfigMap (configmap delivery),
and through Authentik's API the blueprint applied, the provider, the application and the outpost
linked. Reads only. The checks are in module_utils/authentik_verify.py.
See plugins/modules/authentik_verify.py.
"""

from __future__ import annotations

import time

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.applications import application_info
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.sdk import load_read_apis
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_preflight import unreadable
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_verify import (
    blueprint_problem,
    configmap_problem,
    found_everything,
    link_problem,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.plugin_utils.authentik_options import authentik_if_given_spec
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

load_read_apis()

# How often Authentik is asked again while its blueprint sidecar has not applied the blueprint yet.
INTERVAL = 5.0


def argument_spec() -> dict:
    return authentik_if_given_spec(
        configmap={
            "type": "dict",
            "options": {
                "namespace": {"type": "str", "required": True},
                "name": {"type": "str", "required": True},
                "key": {"type": "str", "required": True},
                "blueprint": {"type": "str", "required": True},
            },
        },
        slug={"type": "str", "required": True},
        outpost={"type": "str", "required": True},
        blueprint={"type": "str"},
        provider_name={"type": "str", "required": True},
        mode={"type": "str", "default": "proxy"},
        external_url={"type": "str", "required": True},
        internal_host={"type": "str", "default": ""},
        intercept_header_auth={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 0},
    )


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, argument_spec())
        result.update(changed=False, checked=[])
        problem = None
        if args["configmap"]:
            problem = self._check_configmap(args["configmap"], args, task_vars)
            result["checked"].append("configmap")
        if problem is None and args["host"] and args["token"]:
            info, problem = self._read_authentik(args)
            result.update(info or {})
            result["checked"].append("api")
            if problem is None and args["blueprint"]:
                problem = blueprint_problem(info, args["blueprint"])
            if problem is None:
                problem = link_problem(info, args)
        if problem:
            result.update(failed=True, msg=problem)
        return result

    def _check_configmap(self, configmap: dict, args: dict, task_vars: dict) -> str | None:
        path = f"/api/v1/namespaces/{configmap['namespace']}/configmaps/{configmap['name']}"
        try:
            kube = self.open_cluster(args, task_vars)
            live = kube.get(path)
        except KubeError as error:
            return f"Cannot read {path} from the cluster: {error}"
        return configmap_problem(
            live, configmap["namespace"], configmap["name"], configmap["key"], configmap["blueprint"]
        )

    def _read_authentik(self, args: dict) -> tuple[dict | None, str | None]:
        """What Authentik has; with a wait, until the application and the outpost are there."""
        deadline = time.monotonic() + args["wait_timeout"]
        try:
            client = client_from_params(args)
            while True:
                info = application_info(client, args["slug"], outpost=args["outpost"], blueprint=args["blueprint"])
                if found_everything(info) or time.monotonic() >= deadline:
                    return info, None
                time.sleep(min(INTERVAL, max(0.0, deadline - time.monotonic())))
        except AuthentikError as error:
            return None, unreadable(args["host"], error.message)
