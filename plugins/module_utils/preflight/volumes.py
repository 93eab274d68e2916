# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether an existing volume can take a new size: it never shrinks, and it grows only on a StorageClass
that allows expansion."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import is_quantity, to_bytes
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import as_bool


def comparable(live_size) -> bool:
    """Sizes compare in bytes; a live size in another notation than the roles write is left to the API."""
    return is_quantity(live_size, positive=False, milli=False)


def shrinks(wanted_size, live_size) -> bool:
    return comparable(live_size) and to_bytes(wanted_size) < to_bytes(live_size)


def grows(wanted_size, live_size) -> bool:
    return comparable(live_size) and to_bytes(wanted_size) > to_bytes(live_size)


def allows_expansion(storage_class: dict | None) -> bool:
    return as_bool((storage_class or {}).get("allowVolumeExpansion", False))
