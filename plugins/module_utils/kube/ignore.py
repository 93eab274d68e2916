# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fields the apply leaves to others: those of ignore rules (objects and JSON pointers) and those other field
managers own (an autoscaler's spec.replicas, a `kubectl edit` accepted on purpose).

Such a field is neither corrected nor reported as drift. Where it differs from what the role declares, it is
left out of what is applied, so that server-side apply does not take it back; where the collection's own field
manager still owns it (the declared value changed, or a rule is new), the value the cluster holds is applied
instead, since leaving out a field one owns would make the API server remove it. What was left alone is
counted, per rule, so that the report can say how many differences were ignored and which rules matched
nothing.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import (
    ABSENT,
    FieldChange,
    holds,
    redact_secret_fields,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.managed_fields import owned_fields, owns
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import FIELD_MANAGER
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.pointers import PointerError, locate, parse_pointer

# The kinds the collection's roles apply: a rule for another kind could never match.
KINDS = (
    "CiliumNetworkPolicy",
    "Cluster",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "CronJob",
    "Deployment",
    "HTTPRoute",
    "HorizontalPodAutoscaler",
    "Job",
    "Namespace",
    "NetworkPolicy",
    "OnePasswordItem",
    "PersistentVolumeClaim",
    "PodDisruptionBudget",
    "RecurringJob",
    "Role",
    "RoleBinding",
    "ScheduledBackup",
    "Secret",
    "Service",
    "ServiceAccount",
    "ServiceMonitor",
)
ROLES = (
    "authentik",
    "cluster_preflight",
    "drift_cronjob",
    "mlflow",
    "namespace",
    "networkpolicy",
    "postgres",
    "posture",
    "storage",
)
RULE_KEYS = ("description", "kind", "name", "labels", "role", "json_pointers")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


class RuleError(ValueError):
    """An ignore rule or field manager setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class IgnoreRule:
    """Objects (a kind, optionally a name, labels and the role applying them) and the fields of theirs to ignore."""

    rule_id: str
    kind: str
    pointers: tuple[tuple[str, tuple[str, ...]], ...]  # (as written, tokens)
    name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    role: str | None = None

    def selects(self, obj: dict, role: str | None) -> bool:
        metadata = obj.get("metadata") or {}
        labels = metadata.get("labels") or {}
        return (
            obj.get("kind") == self.kind
            and (self.name is None or metadata.get("name") == self.name)
            and all(labels.get(key) == value for key, value in self.labels)
            and (self.role is None or short_role(role) == self.role)
        )

    def to_json(self) -> dict:
        pointers = [text for text, _tokens in self.pointers]
        data: dict[str, Any] = {"rule": self.rule_id, "kind": self.kind, "json_pointers": pointers}
        if self.name is not None:
            data["name"] = self.name
        if self.labels:
            data["labels"] = dict(self.labels)
        if self.role is not None:
            data["role"] = self.role
        return data


def short_role(role: str | None) -> str:
    return (role or "").rsplit(".", 1)[-1]


def _rule(raw: Any, rule_id: str) -> IgnoreRule:
    if not isinstance(raw, dict):
        raise RuleError(f"{rule_id}: a rule is a mapping with kind and json_pointers, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(RULE_KEYS))
    if unknown:
        raise RuleError(f"{rule_id}: unknown keys {', '.join(unknown)}; a rule has {', '.join(RULE_KEYS)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise RuleError(f"{rule_id}: kind {kind!r} is none the roles apply; one of {', '.join(KINDS)}")
    for key in ("name", "role", "description"):
        if raw.get(key) is not None and (not isinstance(raw[key], str) or not raw[key]):
            raise RuleError(f"{rule_id}: {key} is a non-empty string")
    if raw.get("role") is not None and short_role(raw["role"]) not in ROLES:
        raise RuleError(f"{rule_id}: role {raw['role']!r} is none of the collection's: {', '.join(ROLES)}")
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and LABEL_KEY.match(k) and isinstance(v, str) for k, v in labels.items()
    ):
        raise RuleError(f"{rule_id}: labels maps label keys to string values (the objects carry every one of them)")
    pointers = raw.get("json_pointers")
    if not isinstance(pointers, list) or not pointers:
        raise RuleError(f"{rule_id}: json_pointers is a list of at least one JSON pointer (RFC 6901)")
    parsed = []
    for text in pointers:
        try:
            tokens = parse_pointer(text)
        except PointerError as error:
            raise RuleError(f"{rule_id}: {error}") from None
        if tokens[0] in ("apiVersion", "kind") or tokens[:2] in (["metadata", "name"], ["metadata", "namespace"]):
            raise RuleError(f"{rule_id}: {text} names the object itself, which cannot be ignored")
        parsed.append((text, tuple(tokens)))
    return IgnoreRule(
        rule_id,
        kind,
        tuple(parsed),
        raw.get("name"),
        tuple(sorted(labels.items())),
        short_role(raw["role"]) if raw.get("role") else None,
    )


def parse_rules(raw: Any, variable: str = "homelab_mlflow_ignore_rules") -> list[IgnoreRule]:
    """The rules of a variable, validated; each is named by its description or its place in the list."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise RuleError(f"{variable} is a list of rules, not {type(raw).__name__}")
    rules = []
    for index, item in enumerate(raw):
        where = f"{variable}[{index}]"
        described = item.get("description") if isinstance(item, dict) else None
        rules.append(_rule(item, f"{where} ({described})" if isinstance(described, str) and described else where))
    return rules


def parse_managers(raw: Any, variable: str = "homelab_mlflow_field_managers") -> list[str]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or not all(isinstance(name, str) and name for name in raw):
        raise RuleError(f"{variable} is a list of field manager names (as in the objects' managedFields)")
    if FIELD_MANAGER in raw:
        raise RuleError(f"{variable} names {FIELD_MANAGER}, the collection's own field manager: its fields are applied")
    return list(dict.fromkeys(raw))


@dataclass
class Ignored:
    """What ignore rules and other managers' fields left alone in one object."""

    fields: list[FieldChange] = field(default_factory=list)
    rules_matched: list[str] = field(default_factory=list)


def _leave_alone(declared: dict, live: dict | None, tokens: list, field_manager: str) -> FieldChange | None:
    """Leave one field to the cluster; the difference, when there was one."""
    place = locate(declared, tokens)
    if place is None:
        return None
    container, slot, path = place
    expected = container[slot]
    found_place = locate(live, tokens) if live is not None else None
    found = found_place[0][found_place[1]] if found_place else ABSENT
    if found is not ABSENT and holds(found, expected):
        return None  # no difference: applied as declared
    if found is not ABSENT and owns(live, field_manager, tokens):
        container[slot] = copy.deepcopy(found)  # left out, the API server would remove the field
    else:
        del container[slot]
    return FieldChange(path, expected=expected, found=found)


def leave_to_others(
    declared: dict,
    live: dict | None,
    rules: list[IgnoreRule],
    role: str | None = None,
    managers: list[str] | None = None,
    field_manager: str = FIELD_MANAGER,
) -> tuple[dict, Ignored]:
    """The object to apply, without what rules ignore and other managers own; and what was left alone."""
    ignored = Ignored()
    selected = [rule for rule in rules if rule.selects(declared, role)]
    owners = [(manager, owned_fields(live, manager)) for manager in managers or []] if live is not None else []
    if not selected and not any(fields for _manager, fields in owners):
        return declared, ignored
    adjusted = copy.deepcopy(declared)
    for rule in selected:
        matched = False
        for text, tokens in rule.pointers:
            matched = matched or locate(adjusted, list(tokens)) is not None or locate(live, list(tokens)) is not None
            # An object that does not exist yet is made as declared: there is nothing of others' to leave.
            change = _leave_alone(adjusted, live, list(tokens), field_manager) if live is not None else None
            if change is not None:
                change.ignored_by = f"{rule.rule_id}: {text}"
                ignored.fields.append(change)
        if matched:
            ignored.rules_matched.append(rule.rule_id)
    for manager, locations in owners:
        for tokens in locations:
            change = _leave_alone(adjusted, live, tokens, field_manager)
            if change is not None:
                change.ignored_by = f"field manager {manager}"
                ignored.fields.append(change)
    if declared.get("kind") == "Secret":
        redact_secret_fields(ignored.fields)
    return adjusted, ignored


@dataclass(frozen=True)
class LeftToOthers:
    """What one task's apply leaves to others: the rules, the other field managers, the role applying."""

    rules: tuple[IgnoreRule, ...] = ()
    managers: tuple[str, ...] = ()
    role: str | None = None

    def apply_to(self, declared: dict, live: dict | None, field_manager: str = FIELD_MANAGER) -> tuple[dict, Ignored]:
        return leave_to_others(declared, live, list(self.rules), self.role, list(self.managers), field_manager)
