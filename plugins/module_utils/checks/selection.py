# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which roles a run covers, from its --tags and --skip-tags.

The playbooks tag each role's tasks with the role's name and the checks also with `preflight`; one task
checks the values of every role the run covers, so it selects them as Ansible's tags would.
"""

from __future__ import annotations

from collections.abc import Iterable

# Roles whose checks every run needs (their tasks are tagged always).
ALWAYS = frozenset({"cluster_preflight"})


def selected_roles(roles: Iterable[str], run_tags: Iterable[str] | None, skip_tags: Iterable[str] | None) -> list[str]:
    """The roles, in order, that the run's tags select: all of them without --tags."""
    run = set(run_tags or ["all"])
    skip = set(skip_tags or [])
    chosen = []
    for role in roles:
        tags = {role, "preflight"} | ({"always"} if role in ALWAYS else set())
        if role in ALWAYS and "always" not in skip:
            chosen.append(role)
        elif ("all" in run or run & tags) and not (skip & tags):
            chosen.append(role)
    return chosen
