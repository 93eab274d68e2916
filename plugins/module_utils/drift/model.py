# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a drift run found: per target, the objects that differ from what their roles apply, field by field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import FieldChange

# A pod template annotation that holds a checksum of what the pods read (the backend store's credentials): when
# it alone changed, the object rolls out because what it sums changed.
ROLLOUT_CHECKSUM = re.compile(r'^spec\.template\.metadata\.annotations\["checksum/[^"]+"\]$')
CREDENTIAL_ROTATION = "credential_rotation"

# The report's name for a field difference (the engine's).
FieldDrift = FieldChange


@dataclass
class ObjectDrift:
    """One object (or, without one, one task) that differs from what its role applies."""

    role: str
    task: str
    change: str  # modified, missing, unwanted, refused, withheld, other
    obj: dict | None = None
    fields: list[FieldDrift] = field(default_factory=list)
    message: str = ""
    corrected: bool = False
    # Correct mode tried to apply it (and the API server refused).
    attempted: bool = False
    # The change this one is part of, when several objects changed for one reason (credential_rotation).
    part_of: str | None = None

    @property
    def correctable(self) -> bool:
        return self.change != "refused"

    @property
    def state(self) -> str:
        if self.corrected:
            return "corrected"
        return "not_corrected" if self.attempted else "found"

    def to_json(self) -> dict:
        return {
            "role": self.role,
            "task": self.task,
            "object": self.obj,
            "change": self.change,
            "state": self.state,
            "correctable": self.correctable,
            "fields": [f.to_json() for f in self.fields],
            "message": self.message,
            "part_of": self.part_of,
        }


@dataclass
class TargetReport:
    name: str
    drift: list[ObjectDrift] = field(default_factory=list)
    failures: list[tuple[str, Any]] = field(default_factory=list)  # ("error", dict) or ("refused", ObjectDrift)
    errors: list[dict] = field(default_factory=list)
    unreachable: bool = False
    stopped_at: dict | None = None
    # Differences left to ignore rules and other field managers (role, task, object and the field's JSON).
    ignored: list[dict] = field(default_factory=list)
    # The inventory's ignore rules (None: no task said), and those that matched an object.
    rules: list[dict] | None = None
    rules_matched: set[str] = field(default_factory=set)

    def stale_rules(self) -> list[dict] | None:
        """The inventory's rules that matched no object or field; None when the run did not check every object."""
        if self.rules is None or self.stopped_at or self.errors or self.unreachable:
            return None
        return [rule for rule in self.rules if rule.get("rule") not in self.rules_matched]

    def status(self, mode: str) -> str:
        if self.unreachable or self.errors:
            return "failed"
        if mode == "detect":
            return "drift" if self.drift else "in_sync"
        if any(not item.correctable for item in self.drift):
            return "drift"
        return "corrected" if self.drift else "in_sync"


def _values_only_secret(item: ObjectDrift) -> bool:
    return (
        item.change == "modified"
        and (item.obj or {}).get("kind") == "Secret"
        and bool(item.fields)
        # data.password, or data["hosts.yml"] for a key that is no identifier
        and all(
            f.change == "changed" and f.path.startswith(("data.", "data[", "stringData.", "stringData["))
            for f in item.fields
        )
    )


def _checksum_rollout(item: ObjectDrift) -> bool:
    return item.change == "modified" and bool(item.fields) and all(ROLLOUT_CHECKSUM.match(f.path) for f in item.fields)


def credential_rotation(drift: list[ObjectDrift]) -> list[ObjectDrift]:
    """The objects one change of credentials explains, or none: Secrets whose values alone changed, and the
    workloads that roll out because the checksum of those values on their pod template changed.

    Without such a rollout, a Secret whose values changed is drift of its own (edited behind the collection's
    back): the value the run applies is the one its workloads already sum.
    """
    secrets = [item for item in drift if _values_only_secret(item)]
    rollouts = [item for item in drift if _checksum_rollout(item)]
    return secrets + rollouts if secrets and rollouts else []
