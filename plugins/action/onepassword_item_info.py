# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs homelab.mlflow.onepassword_item_info and hides its result from the output, as no_log would.

A module cannot hide its own result (Ansible drops the _ansible_no_log key a module returns), but
an action can: the values then reach the registered variable and no callback, at any verbosity.
Failures are left visible: their messages name what is missing and hold no value.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        result.update(self._execute_module(task_vars=task_vars))
        if not result.get("failed"):
            result["_ansible_no_log"] = True
        return result
