# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a BlueprintInstance's fields say: its status, whether it is enabled, and what a module returns of it."""

from __future__ import annotations

# BlueprintInstanceStatusEnum: `unknown` until the first apply ends; the rest are final.
STATUS_SUCCESSFUL = "successful"
BLUEPRINT_FINAL_STATUSES = frozenset(("successful", "warning", "error", "orphaned"))


def instance_status(instance):
    """The instance's status as text (`successful`, `error`, ...)."""
    status = getattr(instance, "status", None)
    return getattr(status, "value", status)


def instance_enabled(instance):
    """Whether the instance is enabled: the API leaves `enabled` out when unset, and Authentik's default is enabled."""
    return True if instance.enabled is None else bool(instance.enabled)


def blueprint_summary(instance):
    """The fields of a BlueprintInstance the module returns (no content, no context: it may hold secrets)."""
    if instance is None:
        return {}
    return {
        "pk": str(instance.pk),
        "name": instance.name,
        "status": instance_status(instance),
        "enabled": instance_enabled(instance),
        "last_applied": instance.last_applied.isoformat() if instance.last_applied else None,
        "last_applied_hash": instance.last_applied_hash,
    }
