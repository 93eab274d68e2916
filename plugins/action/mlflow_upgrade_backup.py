# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Takes the CloudNativePG Backup of the database before an MLflow upgrade migrates it, and waits until it is
completed; fails, naming the Backup, its phase and error, when it fails or does not complete in time.

The decisions and the wait are in plugins/module_utils/upgrade_backup.py. See plugins/modules/mlflow_upgrade_backup.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC, shown
from ansible_collections.homelab.mlflow.plugins.module_utils.upgrade_backup import (
    API_VERSION,
    KIND,
    BackupMethod,
    backup_manifest,
    ensure_backup,
    failure_message,
)
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import plain
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

ARGUMENT_SPEC = dict(
    CONNECTION_SPEC,
    name={"type": "str", "required": True},
    namespace={"type": "str", "required": True},
    cluster={"type": "str", "required": True},
    release={"type": "str", "required": True},
    method={"type": "str", "required": True, "choices": ["volumeSnapshot", "barmanObjectStore", "plugin"]},
    plugin_configuration={"type": "dict", "default": {}},
    labels={"type": "dict", "default": {}},
    timeout={"type": "int", "default": 1800},
)


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        name, namespace = args["name"], args["namespace"]
        method = BackupMethod(args["method"], plain(args["plugin_configuration"]))
        manifest = backup_manifest(name, namespace, args["cluster"], method, plain(args["labels"]))
        check_mode = bool(self._task.check_mode)
        try:
            kube, resources = self.connect_cluster(args, task_vars)
            path = resources.get(API_VERSION, KIND).path(namespace, name)
            run = ensure_backup(kube, path, manifest, check_mode, args["timeout"])
        except (KubeError, ValueError) as error:
            raise AnsibleActionFail(f"The Backup {name} in namespace {namespace} cannot be written: {error}") from None
        result.update(
            changed=run.changed,
            action=run.action,
            backup=shown(run.backup),
            phase=((run.backup or {}).get("status") or {}).get("phase", ""),
            requests=kube.requests,
        )
        if run.changed and self._task.diff:
            # Created anew either way: a failed Backup is replaced, not changed.
            label = f"{KIND} {namespace}/{name}"
            result["diff"] = {"before_header": label, "after_header": label, "before": {}, "after": manifest}
        if check_mode:
            verb = {"created": "would take", "replaced": "would replace the failed"}.get(run.action, "keeps")
            result["msg"] = (
                f"{verb[0].upper()}{verb[1:]} the CloudNativePG Backup {name} ({method.method}) of cluster "
                f"{args['cluster']} before migrating the database to MLflow {args['release']}."
            )
        elif run.outcome is not None and not run.outcome.completed:
            message = failure_message(run.outcome, name, namespace, args["release"], args["timeout"])
            result.update(failed=True, msg=message)
        else:
            result["msg"] = f"The CloudNativePG Backup {name} is completed."
        return result
