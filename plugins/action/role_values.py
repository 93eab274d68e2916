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
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.roles import READS_ENVIRONMENT, RULES


class TemplatedVariables(Mapping):
    """The host's variables, each templated on first read (and only then)."""

    def __init__(self, templar, task_vars: Mapping):
        self._templar = templar
        self._task_vars = task_vars
        self._templated: dict = {}

    def __getitem__(self, name: str):
        if name not in self._templated:
            if name not in self._task_vars:
                raise KeyError(name)
            self._templated[name] = self._templar.template(self._task_vars[name])
        return self._templated[name]

    def __contains__(self, name) -> bool:
        return name in self._task_vars

    def __iter__(self):
        return iter(self._task_vars)

    def __len__(self) -> int:
        return len(self._task_vars)


def failure_message(role: str, problems: list) -> str:
    """One line per problem; with several, a line that counts them first."""
    lines = [problem.message for problem in problems]
    if len(lines) == 1:
        return lines[0]
    return "\n".join([f"homelab.mlflow.{role}: {len(lines)} values cannot be used:", *lines])


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(
            argument_spec={"role": {"type": "str", "required": True, "choices": sorted(RULES)}}
        )
        role = args["role"]
        values = TemplatedVariables(self._templar, task_vars or {})
        try:
            if role in READS_ENVIRONMENT:
                problems = RULES[role](values, environ=os.environ)
            else:
                problems = RULES[role](values)
        except KeyError as missing:
            raise AnsibleActionFail(
                f"homelab.mlflow.{role} reads {missing.args[0]}, which is not set: run the role's tasks (its defaults "
                "set it), or set it."
            ) from None
        # The variables alone: the messages are in msg, once.
        result.update(changed=False, variables=list(dict.fromkeys(problem.variable for problem in problems)))
        if problems:
            result.update(failed=True, msg=failure_message(role, problems))
        return result
