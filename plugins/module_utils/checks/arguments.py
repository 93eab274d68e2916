# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role's variables against its meta/argument_specs.yml, as Ansible validates a role's arguments.

The roles' value checks run for every role of a play in one task (site.yml, drift.yml), so the types and
choices that argument_specs declare are checked there too, with Ansible's own validator.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem

try:
    import yaml
except ImportError:  # pragma: no cover - Ansible itself needs PyYAML
    yaml = None

# The collection's roles, beside plugins/.
ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles")


def role_options(role: str, entry_point: str = "main", roles: str = ROLES) -> dict:
    """The options of a role's entry point in its meta/argument_specs.yml ({} when it has none)."""
    path = os.path.join(roles, role, "meta", "argument_specs.yml")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as stream:
        specs = yaml.safe_load(stream) or {}
    return ((specs.get("argument_specs") or {}).get(entry_point) or {}).get("options") or {}


def argument_problems(role: str, options: dict, values: Mapping) -> list[Problem]:
    """Each variable of the role that argument_specs refuses (type, choices, required), as a Problem."""
    provided = {name: values[name] for name in options if name in values}
    result = ArgumentSpecValidator(options).validate(provided)
    problems = []
    for error in result.error_messages:
        named = [name for name in options if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", error)]
        variable = max(named, key=len) if named else role
        problems.append(Problem(variable, f"homelab.mlflow.{role}: {error}"))
    return problems
