# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads the database credentials Secret and returns MLflow's backend store URI and its checksum.

One GET from the controller (the engine's connection). A result that holds the URI is always
hidden, as no_log hides it; a failure holds no secret and says what to fix, so it stays readable.
See plugins/modules/mlflow_backend_store.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils.backend_store import (
    CredentialsError,
    backend_store_uri,
    checksum,
    credentials,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

ARGUMENT_SPEC = dict(
    CONNECTION_SPEC,
    credentials_secret={"type": "str", "required": True},
    namespace={"type": "str", "required": True},
    driver={"type": "str", "default": "psycopg2"},
    host={"type": "str", "required": True},
    port={"type": "int", "default": 5432},
    database={"type": "str", "required": True},
)
# The checksum while the credentials do not exist yet (check mode before the first run).
PENDING = "pending"


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        name, namespace = args["credentials_secret"], args["namespace"]
        try:
            kube, resources = self.connect_cluster(args, task_vars)
            secret = kube.get(resources.get("v1", "Secret").path(namespace, name))
        except (KubeError, ValueError) as error:
            raise AnsibleActionFail(str(error)) from None
        try:
            username, password = credentials(secret)
        except CredentialsError as error:
            # In check mode homelab.mlflow.postgres has not written them yet: nothing to hash.
            if self._task.check_mode and secret is None:
                result.update(changed=False, pending=True, uri="", checksum=PENDING, requests=kube.requests)
                result["msg"] = f"The credentials Secret {namespace}/{name} does not exist yet."
                return result
            result.update(
                failed=True,
                msg=(
                    f"The database credentials Secret {name} (postgres_credentials_secret) {error} in namespace "
                    f"{namespace}: homelab.mlflow.postgres writes it, or create it yourself with the keys username "
                    "and password (see docs/roles/mlflow.md)."
                ),
                requests=kube.requests,
            )
            return result
        uri = backend_store_uri(username, password, args["driver"], args["host"], args["port"], args["database"])
        result.update(
            changed=False,
            pending=False,
            uri=uri,
            checksum=checksum(uri),
            requests=kube.requests,
            _ansible_no_log=True,
        )
        return result
