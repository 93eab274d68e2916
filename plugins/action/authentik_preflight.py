# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The authentik role's checks before the first write, and the names of its objects in Authentik.

Reads only: the cluster's API list (from cluster_preflight), the blueprint ConfigMap's namespace,
Authentik's blueprints, application and shared outpost. The decisions are in
module_utils/authentik_preflight.py and module_utils/authentik_names.py.
See plugins/modules/authentik_preflight.py.
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.applications import application_info
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.sdk import load_read_apis
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_names import LEGACY_NAMES, resolve_names
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_preflight import (
    CLUSTER_INFO,
    cluster_info_problem,
    configmap_blueprints,
    configmap_namespace_problem,
    httproute_problem,
    shared_outpost_problem,
    unreadable,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube, KubeError
from ansible_collections.homelab.mlflow.plugins.plugin_utils.authentik_options import authentik_if_given_spec
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

load_read_apis()

# The ConfigMap a deployment made before names were derived from the external host.
LEGACY_CONFIGMAP = LEGACY_NAMES["configmap"]


def argument_spec() -> dict:
    return authentik_if_given_spec(
        external_host={"type": "str", "required": True},
        owner={"type": "str", "required": True},
        names={"type": "dict", "default": {}, "options": {key: {"type": "str"} for key in LEGACY_NAMES}},
        take_over={"type": "bool", "default": False},
        delivery={"type": "str", "default": "api", "choices": ["api", "configmap"]},
        configmap_namespace={"type": "str", "default": "authentik"},
        shared_outpost={"type": "str"},
        outpost_setting={"type": "str", "default": "dedicated"},
        verify_httproute={"type": "bool", "default": True},
        gateway={"type": "str", "default": ""},
    )


class Failed(Exception):
    """A check that failed: the message says what to fix."""


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, argument_spec())
        result["changed"] = False
        try:
            result.update(self._checks(args, task_vars))
        except Failed as failure:
            result.update(failed=True, msg=str(failure))
        return result

    def _checks(self, args: dict, task_vars: dict) -> dict:
        info = task_vars.get(CLUSTER_INFO)
        info = self._templar.template(info) if info is not None else None
        _fail_on(cluster_info_problem(info))
        _fail_on(httproute_problem(args["apis"] or info.get("apis"), args["verify_httproute"], args["gateway"]))

        api_needed = args["delivery"] == "api" or bool(args["shared_outpost"])
        api_given = bool(args["host"] and args["token"])
        blueprints = []
        if args["delivery"] == "configmap":
            kube = self._kube(args, task_vars)
            namespace = args["configmap_namespace"]
            _fail_on(configmap_namespace_problem(namespace, _read(kube, f"/api/v1/namespaces/{namespace}")))
            if not (api_needed and api_given):
                path = f"/api/v1/namespaces/{namespace}/configmaps/{LEGACY_CONFIGMAP}"
                blueprints = configmap_blueprints(_read(kube, path))

        client = None
        if api_needed:
            try:
                client = client_from_params(args)
                blueprints += [{"name": b.name, "content": b.content} for b in client.blueprints()]
            except AuthentikError as error:
                raise Failed(unreadable(args["host"], error.message)) from None

        given = {key: (args["names"] or {}).get(key) or "" for key in LEGACY_NAMES}
        names, adopted, conflicts = resolve_names(
            given, args["external_host"], args["owner"], blueprints, dedicated_outpost=not args["shared_outpost"]
        )
        if conflicts and not args["take_over"]:
            raise Failed(
                "Authentik objects of another deployment would be taken over: "
                + "; ".join(conflicts)
                + ". Nothing was written. To take them over on purpose, set authentik_take_over: true."
            )
        found = {"names": names, "adopted": adopted, "conflicts": conflicts}
        if conflicts:
            found["warnings"] = [f"taking over (authentik_take_over): {conflict}" for conflict in conflicts]
        if client is not None:
            try:
                read = application_info(client, names["application_slug"], outpost=args["shared_outpost"])
            except AuthentikError as error:
                raise Failed(unreadable(args["host"], error.message)) from None
            found["exists"] = read["exists"]
            if args["shared_outpost"]:
                _fail_on(
                    shared_outpost_problem(
                        read["outpost"], args["outpost_setting"], args["shared_outpost"], args["host"]
                    )
                )
        return found

    def _kube(self, args: dict, task_vars: dict) -> Kube:
        try:
            return self.open_cluster(args, task_vars)
        except KubeError as error:
            raise Failed(str(error)) from None


def _fail_on(problem: str | None) -> None:
    if problem:
        raise Failed(problem)


def _read(kube: Kube, path: str) -> dict | None:
    try:
        return kube.get(path)
    except KubeError as error:
        raise Failed(f"Cannot read {path} from the cluster: {error}") from None
