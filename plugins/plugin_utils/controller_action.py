# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the collection's action plugins."""

from __future__ import annotations

import json
from typing import Any

from ansible.plugins.action import ActionBase


def plain(value: Any) -> Any:
    """The value as plain JSON data: Ansible's tagged strings and mappings stay out of the code that
    compares, hashes or dumps it."""
    return json.loads(json.dumps(value))


class ControllerAction(ActionBase):
    """An action that does all of its work on the controller: every target of the collection is an API
    (a Kubernetes API server, Authentik, MLflow) reached from there. No connection to the inventory host,
    no module, no files transferred; check mode is supported unless an action says otherwise."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def begin(self, tmp, task_vars: dict | None, argument_spec: dict, **rules) -> tuple[dict, dict, dict]:
        """What every run starts with: Ansible's result so far, the task's variables ({} when there are none)
        and the task's arguments, checked against argument_spec and the rules of AnsibleModule
        (mutually_exclusive, required_if, ...), failing the task on a bad one before anything is read."""
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec, **rules)
        return result, task_vars, args
