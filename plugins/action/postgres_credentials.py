# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads the database owner's credentials from 1Password for homelab.mlflow.postgres, and checks them.

Runs homelab.mlflow.onepassword_item_info (the SDK or a Connect server) once, then checks that the item
holds a password and the owner's user name (module_utils/postgres_credentials.py). A result that holds
the values is hidden, as no_log hides it; a failure holds no value and names the variables to fix.
See plugins/modules/postgres_credentials.py.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.homelab.mlflow.plugins.module_utils.postgres_credentials import (
    SOURCES,
    Item,
    owner_problem,
    read_failure,
)

ARGUMENT_SPEC = {
    "source": {"type": "str", "required": True, "choices": sorted(SOURCES)},
    "vault": {"type": "str", "required": True},
    "item": {"type": "str", "required": True},
    "username_field": {"type": "str", "default": "username"},
    "password_field": {"type": "str", "default": "password"},
    "owner": {"type": "str", "required": True},
    "service_account_token": {"type": "str", "no_log": True},
    "connect_host": {"type": "str"},
    "connect_token": {"type": "str", "no_log": True},
    "timeout": {"type": "float"},
    "retries": {"type": "int"},
}
# Passed on to the module as they are, when set.
CONNECTION = ("service_account_token", "connect_host", "connect_token", "timeout", "retries")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        item = Item(
            args["source"], args["vault"], args["item"], args["username_field"], args["password_field"], args["owner"]
        )
        module_args = {
            "backend": item.backend,
            "vault": item.vault,
            "item": item.item,
            "fields": [item.username_field, item.password_field],
            **{name: args[name] for name in CONNECTION if args[name] not in (None, "")},
        }
        read = self._execute_module(
            module_name="homelab.mlflow.onepassword_item_info", module_args=module_args, task_vars=task_vars
        )
        fields = read.get("fields")
        if read.get("failed") or not isinstance(fields, dict):
            result.update(failed=True, changed=False, msg=read_failure(item, str(read.get("msg") or "")))
            return result
        problem = owner_problem(item, fields)
        if problem:
            result.update(failed=True, changed=False, msg=problem)
            return result
        result.update(changed=False, fields=fields, _ansible_no_log=True)
        return result
