# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Finds the target's API server, checks that it answers and reads its version and kinds, once per run.

See plugins/modules/k8s_cluster_info.py.
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube, KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import discover
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.kubeconfig import (
    TargetError,
    accepts_connections,
    find_target,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import (
    CONTEXT_VARIABLE,
    KUBECONFIG_VARIABLE,
    setting,
)
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = {
    "kubeconfig": {"type": "path"},
    "context": {"type": "str"},
    "connect_timeout": {"type": "int", "default": 10},
    "namespace": {"type": "str"},
}


class ActionModule(ControllerAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        host = task_vars.get("inventory_hostname", "localhost")
        kubeconfig = setting(args, "kubeconfig", task_vars, KUBECONFIG_VARIABLE, self._templar.template)
        context = setting(args, "context", task_vars, CONTEXT_VARIABLE, self._templar.template)
        result["changed"] = False
        where = ""
        if kubeconfig:
            try:
                target = find_target(kubeconfig, context, host)
            except TargetError as error:
                return dict(result, failed=True, msg=str(error))
            where = f"The Kubernetes API server {target.server} (context {target.context} of mlflow_kubeconfig"
            where += f" {kubeconfig})"
            result.update(server=target.server, context=target.context)
            address, port = target.address
            if not target.proxy and not accepts_connections(address, port, args["connect_timeout"]):
                return dict(
                    result,
                    failed=True,
                    msg=(
                        f"{where} accepted no connection on {address}:{port} within {args['connect_timeout']} s "
                        f"(host {host}). Check that the cluster is running (for the local test cluster: "
                        "`make cluster-status`, and `make cluster-up` to start it) and that this machine can reach "
                        "that address; or point mlflow_kubeconfig / mlflow_kube_context at another cluster."
                    ),
                )
        try:
            kube = Kube.connect(kubeconfig, context, self._task.action)
            version = kube.request("GET", "/version")
            apis = discover(kube)
        except KubeError as error:
            reason = str(error).rstrip(". \n")
            if kubeconfig:
                msg = (
                    f"{where} did not answer (host {host}): {reason}. Check that the kubeconfig's credentials and CA "
                    "certificate are current and that mlflow_kube_context selects the intended cluster."
                )
            else:
                msg = (
                    f"mlflow_kubeconfig is not set for host {host}, so the Kubernetes client looked for "
                    "K8S_AUTH_KUBECONFIG, KUBECONFIG, ~/.kube/config and an in-cluster service account, and failed: "
                    f"{reason}. Set mlflow_kubeconfig (and mlflow_kube_context) in the inventory: see "
                    "inventories/example. For the local test cluster use inventories/local after `make cluster-up`."
                )
            return dict(result, failed=True, msg=msg)
        target = f"; target namespace {args['namespace']}" if args["namespace"] else ""
        result.update(
            apis=apis,
            version={"server": {"kubernetes": version}},
            connection={"host": kube.host},
            requests=kube.requests,
            msg=f"Kubernetes {version.get('gitVersion') or '(version unknown)'} at {kube.host} answers{target}.",
        )
        return result
