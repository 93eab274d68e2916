# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Applies an Authentik blueprint instance from the controller: see plugins/modules/authentik_blueprint.py.

Authentik is an API reached from the controller, so the action talks to it itself: no module process,
and the authentik-client classes imported once per run, when Ansible loads the action.
"""

from __future__ import annotations

import copy

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_state import blueprint_summary
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_yaml import HAS_YAML, YAML_IMPORT_ERROR
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprints import (
    ensure_blueprint_absent,
    ensure_blueprint_present,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.options import AUTHENTIK_COMMON_ARGS
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.sdk import (
    AUTHENTIK_CLIENT_IMPORT_ERROR,
    HAS_AUTHENTIK_CLIENT,
)
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction, plain


def argument_spec() -> dict:
    """The options documented in plugins/modules/authentik_blueprint.py."""
    spec = copy.deepcopy(AUTHENTIK_COMMON_ARGS)
    spec.update(
        name={"type": "str", "required": True},
        content={"type": "raw"},
        context={"type": "dict", "default": {}},
        enabled={"type": "bool", "default": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        apply={"type": "str", "choices": ["on_change", "always"], "default": "on_change"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "float", "default": 120.0},
        wait_sleep={"type": "float", "default": 1.0},
    )
    return spec


class ActionModule(ControllerAction):
    def run(self, tmp=None, task_vars=None):
        result, _task_vars, args = self.begin(
            tmp, task_vars, argument_spec(), required_if=[("state", "present", ("content",))]
        )
        if not HAS_AUTHENTIK_CLIENT:
            raise AnsibleActionFail(f"{missing_required_lib('authentik-client')} ({AUTHENTIK_CLIENT_IMPORT_ERROR})")
        if not HAS_YAML:
            raise AnsibleActionFail(f"{missing_required_lib('PyYAML')} ({YAML_IMPORT_ERROR})")
        # Plain data from here on: Ansible's tagged strings and mappings stay out of the YAML the blueprint is kept in.
        params = plain(args)
        check_mode = bool(self._task.check_mode)
        try:
            client = client_from_params(params)
            if params["state"] == "present":
                outcome = ensure_blueprint_present(
                    client,
                    params["name"],
                    params["content"],
                    context=params["context"],
                    enabled=params["enabled"],
                    apply=params["apply"],
                    wait=params["wait"],
                    wait_timeout=params["wait_timeout"],
                    wait_sleep=params["wait_sleep"],
                    check_mode=check_mode,
                )
            else:
                outcome = ensure_blueprint_absent(client, params["name"], check_mode=check_mode)
        except AuthentikError as err:
            result.update(failed=True, msg=err.message, log=err.log, blueprint=blueprint_summary(err.blueprint))
            return result
        diff = outcome.pop("diff", None)
        result.update(outcome)
        if self._task.diff and diff is not None:
            result["diff"] = diff
        return result
