# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container resources as the roles take them: {requests: {...}, limits: {...}}, each a mapping of
resource names (cpu, memory, ...) to Kubernetes quantities."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import is_quantity

SECTIONS = ("requests", "limits")


def _section(resources, name: str) -> dict:
    # An empty or null section counts as none (Jinja's default({}, true)).
    section = resources.get(name) or {}
    return section if isinstance(section, dict) else {}


def quantities(resources) -> list:
    """Every quantity of the requests and the limits."""
    return [value for name in SECTIONS for value in _section(resources, name).values()]


def has_only_sections(resources) -> bool:
    """A mapping whose keys are requests and limits only, each a mapping (or empty)."""
    return isinstance(resources, dict) and all(
        key in SECTIONS and (not value or isinstance(value, dict)) for key, value in resources.items()
    )


def has_memory_limit(resources) -> bool:
    return isinstance(resources, dict) and "memory" in _section(resources, "limits")


def are_quantities(resources, *, positive: bool = True) -> bool:
    """Requests and limits only, each of Kubernetes quantities (above zero when `positive`)."""
    return has_only_sections(resources) and all(
        is_quantity(value, positive=positive) for value in quantities(resources)
    )


def is_bounded(resources) -> bool:
    """Requests and limits of positive quantities, with at least a memory limit."""
    return are_quantities(resources) and has_memory_limit(resources)
