# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks the values of one role of homelab.mlflow, on the controller, before the cluster is contacted.

The role's rules (module_utils/checks/roles/) read its variables by name; each one is templated when it
is first read, so a value that comes from a lookup is only looked up when a rule needs it. The task
fails once with every problem, or changes nothing.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.arguments import argument_problems, role_options
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.roles import READS_ENVIRONMENT, RULES
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.selection import selected_roles
from ansible_collections.homelab.mlflow.plugins.module_utils.templated_variables import TemplatedVariables
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction


def failure_message(roles: list, problems: list) -> str:
    """One line per problem; with several, a line that counts them first."""
    lines = [problem.message for problem in problems]
    if len(lines) == 1:
        return lines[0]
    where = f"homelab.mlflow.{roles[0]}" if len(roles) == 1 else "homelab.mlflow"
    return "\n".join([f"{where}: {len(lines)} values cannot be used:", *lines])


class ActionModule(ControllerAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(
            tmp,
            task_vars,
            {
                "role": {"type": "str", "choices": sorted(RULES)},
                "roles": {"type": "list", "elements": "str"},
                "arguments": {"type": "bool", "default": True},
            },
            mutually_exclusive=[("role", "roles")],
            required_one_of=[("role", "roles")],
        )
        values = TemplatedVariables(self._templar, task_vars)
        if args["role"]:
            roles = [args["role"]]
        else:
            roles = selected_roles(args["roles"], task_vars.get("ansible_run_tags"), task_vars.get("ansible_skip_tags"))
        problems = []
        for role in roles:
            if args["arguments"]:
                problems.extend(argument_problems(role, role_options(role), values))
            if role in RULES:
                problems.extend(self._rule_problems(role, values))
        # The variables alone: the messages are in msg, once.
        result.update(changed=False, roles=roles, variables=list(dict.fromkeys(p.variable for p in problems)))
        if problems:
            result.update(failed=True, msg=failure_message(roles, problems))
        return result

    @staticmethod
    def _rule_problems(role: str, values) -> list:
        try:
            if role in READS_ENVIRONMENT:
                return RULES[role](values, environ=os.environ)
            return RULES[role](values)
        except KeyError as missing:
            raise AnsibleActionFail(
                f"homelab.mlflow.{role} reads {missing.args[0]}, which is not set: run the role's tasks (its defaults "
                "set it), or set it."
            ) from None
