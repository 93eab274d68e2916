# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Warns about (or fails on) variables that carry a prefix of homelab.mlflow but that no role reads.

Runs on the controller alone: it looks at the names of the host's variables (never at their
values, which may be secrets) and at the collection's roles (module_utils/variable_names.py).
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils.variable_names import (
    DEFAULT_MODE,
    MODES,
    SETTING,
    VariableNamesError,
    failure_message,
    mode_error,
    role_variable_names,
    warning_message,
)
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = {"unknown_variables": {"type": "str", "choices": list(MODES)}}


class ActionModule(ControllerAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(
            tmp, task_vars, {"unknown_variables": {"type": "str", "choices": list(MODES)}}
        )
        mode = args["unknown_variables"]
        if mode is None:
            # The setting may be a template, like any inventory value.
            mode = self._templar.template(task_vars.get(SETTING, DEFAULT_MODE))
            if error := mode_error(mode):
                raise AnsibleActionFail(error)
        try:
            names = role_variable_names()
        except VariableNamesError as err:
            raise AnsibleActionFail(str(err)) from err

        host = task_vars.get("inventory_hostname", "localhost")
        unknown = [(name, names.suggestion(name)) for name in names.unknown(task_vars)]
        result.update(
            changed=False,
            unknown_variables=[{"name": name, "suggestion": suggestion} for name, suggestion in unknown],
        )
        if unknown and mode == "fail":
            result.update(failed=True, msg=failure_message(host, unknown))
        elif unknown:
            result["warnings"] = [warning_message(host, name, suggestion) for name, suggestion in unknown]
        return result
