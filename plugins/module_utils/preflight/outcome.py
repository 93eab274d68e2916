# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a role's preflight finds: every problem (the variable to fix, and what is allowed), and the facts
its later tasks read."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem


@dataclass
class Outcome:
    problems: list[Problem] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def add(self, variable: str, message: str) -> None:
        self.problems.append(Problem(variable, message))


def failure_message(role: str, problems: list[Problem]) -> str:
    """One line per problem; with several, a line that counts them first."""
    lines = [problem.message for problem in problems]
    if len(lines) == 1:
        return lines[0]
    return "\n".join([f"homelab.mlflow.{role}: {len(lines)} problems found before anything is written:", *lines])


def cluster_info_missing(role: str) -> Problem:
    """homelab.mlflow.cluster_preflight has not run in this play: the cluster's kinds are unknown."""
    return Problem(
        "cluster_preflight_cluster_info",
        f"homelab.mlflow.{role} reads the cluster's API list from homelab.mlflow.cluster_preflight "
        "(cluster_preflight_cluster_info is not set): run that role first in the same play (playbooks/site.yml "
        "does).",
    )
