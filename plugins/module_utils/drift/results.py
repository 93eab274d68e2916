# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Task results read as drift: the engine's per-object, per-field result (homelab.mlflow.k8s_apply), the
diffs of other modules (kubernetes.core.k8s, homelab.mlflow.authentik_blueprint), and the API server's
refusals (HTTP 422) of failed tasks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.blueprint_yaml import text_document
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.model import FieldDrift, ObjectDrift
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import (
    ABSENT,
    differences,
    is_noise,
    redact_secret_fields,
)

APPLY_FAILED = re.compile(r"^Failed to (apply|create|patch|replace|update) object: (?P<body>.*)$", re.DOTALL)


def object_identity(obj: Any) -> dict | None:
    if not isinstance(obj, dict) or not obj.get("kind"):
        return None
    metadata = obj.get("metadata") or {}
    identity = {"api_version": obj.get("apiVersion", ""), "kind": obj["kind"], "name": metadata.get("name", "")}
    if metadata.get("namespace"):
        identity["namespace"] = metadata["namespace"]
    return identity


# --- task results ------------------------------------------------------------------------------


def _leaves(result: dict) -> list[dict]:
    """The per-object results inside a task result: loop items, and the documents of a k8s task."""
    if isinstance(result.get("results"), list):
        return [leaf for item in result["results"] if isinstance(item, dict) for leaf in _leaves(item)]
    inner = result.get("result")
    if isinstance(inner, dict) and isinstance(inner.get("results"), list):
        return [item for item in inner["results"] if isinstance(item, dict)]
    return [result]


def _hidden(result: dict) -> bool:
    return bool(result.get("_ansible_no_log")) or "censored" in result


def _object_of(leaf: dict, diff: Any) -> dict | None:
    for candidate in (
        leaf.get("result"),
        diff.get("after") if isinstance(diff, dict) else None,
        diff.get("before") if isinstance(diff, dict) else None,
        leaf.get("item"),
    ):
        identity = object_identity(candidate)
        if identity:
            return identity
    args = (leaf.get("invocation") or {}).get("module_args") or {}
    if args.get("kind") and args.get("name"):
        identity = {"api_version": args.get("api_version") or "", "kind": args["kind"], "name": args["name"]}
        if args.get("namespace"):
            identity["namespace"] = args["namespace"]
        return identity
    return None


def drift_from_result(result: dict, role: str, task: str, task_args: dict | None = None) -> list[ObjectDrift]:
    """What one changed task result says differs: an ObjectDrift per object (or per task)."""
    found: list[ObjectDrift] = []
    if _hidden(result):
        if result.get("changed"):
            found.append(_withheld(role, task, task_args))
        return found
    for leaf in _leaves(result):
        if not leaf.get("changed") or leaf.get("skipped"):
            continue
        if _hidden(leaf):
            found.append(_withheld(role, task, task_args))
            continue
        if isinstance(leaf.get("objects"), list):
            found.extend(_drift_from_objects(leaf["objects"], role, task))
            continue
        found.extend(_drift_from_leaf(leaf, role, task))
    return found


# What the engine's apply (homelab.mlflow.k8s_apply) did to an object, as drift.
ENGINE_CHANGES = {"created": "missing", "deleted": "unwanted", "updated": "modified", "replaced": "modified"}
ENGINE_MESSAGES = {"missing": "missing", "unwanted": "present, but the role does not want it"}


def _drift_from_objects(objects: list, role: str, task: str) -> list[ObjectDrift]:
    """The engine's per-object, per-field result, read as it is."""
    found = []
    for item in objects:
        change = ENGINE_CHANGES.get(item.get("action")) if isinstance(item, dict) else None
        if change is None:
            continue
        obj = {key: item[key] for key in ("api_version", "kind", "name", "namespace") if item.get(key)}
        if change in ENGINE_MESSAGES:
            found.append(ObjectDrift(role, task, change, obj, message=ENGINE_MESSAGES[change]))
            continue
        fields = [FieldDrift.from_json(f) for f in item.get("fields") or [] if isinstance(f, dict)]
        if fields:  # none: only server-side bookkeeping moved, which is not drift
            found.append(ObjectDrift(role, task, "modified", obj, fields))
    return found


def _withheld(role: str, task: str, task_args: dict | None) -> ObjectDrift:
    args = task_args or {}
    template = args.get("template")
    templates = args.get("templates") if isinstance(args.get("templates"), list) else [template]
    named = [t for t in templates if isinstance(t, str) and "{{" not in t]
    source = f" (template {', '.join(named)})" if named else ""
    return ObjectDrift(role, task, "withheld", message=f"the task handles secret values{source}")


def _drift_from_leaf(leaf: dict, role: str, task: str) -> list[ObjectDrift]:
    diffs = leaf.get("diff")
    if isinstance(diffs, dict) or diffs is None:
        diffs = [diffs or {}]
    found = []
    for diff in diffs:
        obj = _object_of(leaf, diff)
        header = (diff.get("after_header") or diff.get("before_header")) if isinstance(diff, dict) else None
        if obj is None and header:
            obj = {"name": str(header)}
        if not isinstance(diff, dict):
            diff = {}
        before, after = diff.get("before", ABSENT), diff.get("after", ABSENT)
        if isinstance(before, str) and isinstance(after, str):
            before, after = text_document(before), text_document(after)
        if leaf.get("method") == "delete" or (after in ({}, ABSENT, None) and before not in ({}, ABSENT, None)):
            found.append(ObjectDrift(role, task, "unwanted", obj, message="present, but the role does not want it"))
            continue
        if (before in ({}, ABSENT, None) and after not in ({}, ABSENT, None)) or leaf.get("method") == "create":
            found.append(ObjectDrift(role, task, "missing", obj, message="missing"))
            continue
        if before is ABSENT and after is ABSENT:
            message = leaf.get("msg") if isinstance(leaf.get("msg"), str) else ""
            change = "modified" if obj else "other"
            found.append(ObjectDrift(role, task, change, obj, message=message or "changed (no diff available)"))
            continue
        fields = [f for f in differences(before, after) if not is_noise(f.path)]
        if not fields:
            # Only server-side bookkeeping moved (status, resourceVersion): not drift.
            continue
        if (obj or {}).get("kind") == "Secret":
            fields = redact_secret_fields(fields)
        found.append(ObjectDrift(role, task, "modified", obj, fields))
    return found


def refusal_from_failure(result: dict, role: str, task: str) -> list[ObjectDrift]:
    """Objects whose desired state the API server refused (HTTP 422), from a failed task result."""
    refused = []
    for leaf in _leaves(result):
        if not leaf.get("failed") and leaf is not result:
            continue
        if isinstance(leaf.get("error"), dict):
            refused.extend(_refusal_from_engine(leaf["error"], role, task))
            continue
        match = APPLY_FAILED.match(str(leaf.get("msg", "")))
        if not match:
            continue
        try:
            status = json.loads(match.group("body"))
        except ValueError:
            continue
        if not isinstance(status, dict) or status.get("code") != 422:
            continue
        details = status.get("details") or {}
        kind, name = details.get("kind", ""), details.get("name", "")
        obj = object_identity(leaf.get("item")) or _definition_of(leaf, kind, name)
        if obj is None:
            obj = {"api_version": details.get("group", ""), "kind": kind, "name": name}
            if _module_args(leaf).get("namespace"):
                obj["namespace"] = str(_module_args(leaf)["namespace"])
        fields = [
            FieldDrift(cause.get("field") or "(object)", message=cause.get("message") or cause.get("reason") or "")
            for cause in details.get("causes") or []
        ]
        refused.append(
            ObjectDrift(
                role,
                task,
                "refused",
                obj,
                fields,
                message=f"the API server refuses the desired state: {status.get('message', '')}",
            )
        )
    return refused


def _refusal_from_engine(error: dict, role: str, task: str) -> list[ObjectDrift]:
    """An object the engine's apply was refused (HTTP 422), with the fields the server named."""
    if error.get("status") != 422 or not isinstance(error.get("object"), dict):
        return []
    fields = [
        FieldDrift(cause.get("field") or "(object)", message=cause.get("message") or cause.get("reason") or "")
        for cause in (error.get("details") or {}).get("causes") or []
        if isinstance(cause, dict)
    ]
    message = f"the API server refuses the desired state: {error.get('message', '')}"
    return [ObjectDrift(role, task, "refused", dict(error["object"]), fields, message=message)]


def _module_args(leaf: dict) -> dict:
    return (leaf.get("invocation") or {}).get("module_args") or {}


def _definition_of(leaf: dict, kind: str, name: str) -> dict | None:
    """The identity of a refused object, from the definitions the task passed to the module."""
    definitions = _module_args(leaf).get("resource_definition")
    for definition in definitions if isinstance(definitions, list) else [definitions]:
        identity = object_identity(definition)
        if identity and identity["kind"] == kind and identity["name"] == name:
            if "namespace" not in identity and _module_args(leaf).get("namespace"):
                identity["namespace"] = str(_module_args(leaf)["namespace"])
            return identity
    return None


@dataclass
class LeftAlone:
    """What one task result says the apply left to others: differences ignored, rules that matched an object,
    and the inventory's rules (None when the task says nothing of them)."""

    fields: list[tuple[dict, FieldDrift]] = field(default_factory=list)
    rules_matched: list[str] = field(default_factory=list)
    rules: list[dict] | None = None


def left_alone_from_result(result: dict) -> LeftAlone:
    """The engine's (homelab.mlflow.k8s_apply) record of fields it left to ignore rules and other managers."""
    found = LeftAlone()
    if _hidden(result):
        return found
    for leaf in _leaves(result):
        if isinstance(leaf.get("ignore_rules"), list):
            found.rules = [rule for rule in leaf["ignore_rules"] if isinstance(rule, dict)]
        for item in leaf.get("objects") or []:
            if not isinstance(item, dict):
                continue
            obj = {key: item[key] for key in ("api_version", "kind", "name", "namespace") if item.get(key)}
            found.fields += [(obj, FieldDrift.from_json(f)) for f in item.get("ignored") or [] if isinstance(f, dict)]
            found.rules_matched += [str(rule) for rule in item.get("rules_matched") or []]
    return found
