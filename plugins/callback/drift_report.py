# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: drift_report
type: aggregate
short_description: Report the drift a run of playbooks/drift.yml found or corrected, as JSON and Markdown
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Collects what the tasks of a drift run would change (detect mode, check mode with diff) or changed
    (correct mode), per deployment target (inventory host), role, Kubernetes object and field, with the
    value the roles expect and the value found in the cluster.
  - At the end of the run it writes C(drift-report.json) and C(drift-report.md) to O(report_dir) and
    prints the Markdown summary.
  - Secret values never reach the report. Results of C(no_log) tasks are hidden by Ansible before any
    callback sees them, and are reported only as changed. For objects of kind C(Secret), only the names
    of the keys that differ are reported, never a value.
  - An object the API server refuses to take in its desired state (HTTP 422, for example an immutable
    field that differs, or a list entry owned by another field manager that clashes with the desired
    one) is reported as drift that needs a person; it is never deleted or recreated.
  - Only plays that set the play variable C(drift_report) to true are collected, so the callback stays
    silent in other playbooks even when it is enabled for them. C(playbooks/drift.yml) sets it.
  - The report's C(exit_code) is what C(bin/homelab-mlflow-drift) exits with - V(0) in sync (nothing
    found, or everything corrected), V(3) drift found (or, in correct mode, left that cannot be
    corrected), V(2) the run failed.
requirements:
  - Enabled in the C(callbacks_enabled) setting, for example with
    C(ANSIBLE_CALLBACKS_ENABLED=homelab.mlflow.drift_report), which C(bin/homelab-mlflow-drift) sets.
options:
  report_dir:
    description:
      - Folder the JSON report and the Markdown summary are written to (created when missing). A
        relative path is taken from the directory ansible-playbook runs in.
    type: path
    default: ./drift-report
    env:
      - name: HOMELAB_MLFLOW_DRIFT_REPORT_DIR
    ini:
      - section: callback_drift_report
        key: report_dir
  run_id:
    description:
      - An identifier of the run, written into the JSON report. C(bin/homelab-mlflow-drift) sets a new
        one for every run, to recognise the report of the run it started.
      - When empty, the callback makes one up.
    type: str
    default: ""
    env:
      - name: HOMELAB_MLFLOW_DRIFT_RUN_ID
  print_summary:
    description:
      - Whether to print the Markdown summary at the end of the run.
    type: bool
    default: true
    env:
      - name: HOMELAB_MLFLOW_DRIFT_PRINT_SUMMARY
    ini:
      - section: callback_drift_report
        key: print_summary
notes:
  - Detect mode is a run in check mode (C(--check)); correct mode a run without it.
  - Fields owned by other field managers are not drift under server-side apply - they are not part of
    what the roles apply, so the API server's dry run leaves them as they are and reports no change.
    C(docs/drift.md) of the collection explains what is and is not found, the report's format, the
    exit codes and the three ways to schedule a drift run.
"""

import datetime
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml
from ansible import context
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.callback import CallbackBase

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import (
    ABSENT,
    FieldChange,
    differences,
    is_noise,
    redact_secret_fields,
)

REPORT_FORMAT = 1
EXIT_IN_SYNC = 0
EXIT_FAILED = 2
EXIT_DRIFT = 3

# A pod template annotation that holds a checksum of what the pods read (the backend store's credentials): when
# it alone changed, the object rolls out because what it sums changed.
ROLLOUT_CHECKSUM = re.compile(r'^spec\.template\.metadata\.annotations\["checksum/[^"]+"\]$')
CREDENTIAL_ROTATION = "credential_rotation"
APPLY_FAILED = re.compile(r"^Failed to (apply|create|patch|replace|update) object: (?P<body>.*)$", re.DOTALL)
CELL_LIMIT = 160


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
        and all(f.change == "changed" and f.path.startswith(("data.", "stringData.")) for f in item.fields)
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


# --- differences -------------------------------------------------------------------------------

diff_fields = differences


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


class _TaggedLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML with application tags (Authentik's !Find, !Context, ...) kept as plain values."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return f"!{suffix} {loader.construct_scalar(node)}".rstrip()
    if isinstance(node, yaml.SequenceNode):
        return {f"!{suffix}": loader.construct_sequence(node, deep=True)}
    return {f"!{suffix}": loader.construct_mapping(node, deep=True)}


_TaggedLoader.add_multi_constructor("!", _tagged)


def _text_document(text: str) -> Any:
    """A text diff side as data, when it is YAML or JSON (as homelab.mlflow.authentik_blueprint's is)."""
    if text == "":
        return ABSENT
    try:
        return yaml.load(text, Loader=_TaggedLoader)  # noqa: S506  # a SafeLoader, with tags kept as values
    except yaml.YAMLError:
        return text


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
        fields = [FieldChange.from_json(f) for f in item.get("fields") or [] if isinstance(f, dict)]
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
            before, after = _text_document(before), _text_document(after)
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
        fields = [f for f in diff_fields(before, after) if not is_noise(f.path)]
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


# --- the report --------------------------------------------------------------------------------


class DriftReport:
    """Everything a drift run found, per target; rendered as JSON and Markdown."""

    def __init__(self, mode: str = "detect", run_id: str = "", playbook: str = ""):
        self.mode = mode
        self.run_id = run_id or uuid.uuid4().hex
        self.playbook = playbook
        self.started = _now()
        self.finished: str | None = None
        self.targets: dict[str, TargetReport] = {}

    def target(self, host: str) -> TargetReport:
        return self.targets.setdefault(host, TargetReport(host))

    def add_changed(self, host: str, result: dict, role: str, task: str, task_args: dict | None = None) -> None:
        items = drift_from_result(result, role, task, task_args)
        for item in items:
            item.corrected = self.mode == "correct"
        self.target(host).drift.extend(items)

    def add_failed(self, host: str, result: dict, role: str, task: str) -> None:
        """A failed task (not ignored). Whether it was rescued is known only at the end (finish)."""
        refused = refusal_from_failure(result, role, task)
        target = self.target(host)
        if refused:
            target.failures.extend(("refused", item) for item in refused)
        else:
            message = result.get("msg") or result.get("message") or "failed"
            target.failures.append(("error", {"role": role, "task": task, "message": str(message)}))

    def add_unreachable(self, host: str, result: dict, role: str, task: str) -> None:
        target = self.target(host)
        target.unreachable = True
        target.errors.append({"role": role, "task": task, "message": f"unreachable: {result.get('msg', '')}"})

    def finish(self, failures_per_host: dict[str, int]) -> None:
        """Keep the failures that ended a target's run; those before them were rescued."""
        self.finished = _now()
        for name, target in self.targets.items():
            count = failures_per_host.get(name, 0)
            final = target.failures[-count:] if count else []
            for kind, payload in final:
                if kind == "refused":
                    payload.attempted = self.mode == "correct"
                    target.drift.append(payload)
                else:
                    target.errors.append(payload)
            if final:
                last = final[-1][1]
                if isinstance(last, ObjectDrift):
                    target.stopped_at = {"role": last.role, "task": last.task}
                else:
                    target.stopped_at = {"role": last["role"], "task": last["task"]}
            target.failures = []
            for item in credential_rotation(target.drift):
                item.part_of = CREDENTIAL_ROTATION

    def status(self) -> str:
        statuses = {t.status(self.mode) for t in self.targets.values()}
        for status in ("failed", "drift", "corrected"):
            if status in statuses:
                return status
        return "in_sync"

    def exit_code(self) -> int:
        return {"failed": EXIT_FAILED, "drift": EXIT_DRIFT}.get(self.status(), EXIT_IN_SYNC)

    def to_json(self) -> dict:
        return {
            "format": REPORT_FORMAT,
            "run_id": self.run_id,
            "mode": self.mode,
            "playbook": self.playbook,
            "started": self.started,
            "finished": self.finished,
            "status": self.status(),
            "exit_code": self.exit_code(),
            "summary": {
                "targets": len(self.targets),
                "targets_with_drift": sum(1 for t in self.targets.values() if t.drift),
                "objects": sum(len(t.drift) for t in self.targets.values()),
                "credential_rotations": sum(
                    1 for t in self.targets.values() if any(item.part_of == CREDENTIAL_ROTATION for item in t.drift)
                ),
                "errors": sum(len(t.errors) for t in self.targets.values()),
            },
            "targets": {
                name: {
                    "status": target.status(self.mode),
                    "drift": [item.to_json() for item in target.drift],
                    "errors": target.errors,
                    "unreachable": target.unreachable,
                    "stopped_at": target.stopped_at,
                }
                for name, target in sorted(self.targets.items())
            },
        }

    def to_markdown(self) -> str:
        return render_markdown(self.to_json())


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


# --- Markdown ----------------------------------------------------------------------------------

HEADLINES = {
    "in_sync": "in sync",
    "drift": "drift found",
    "corrected": "drift corrected",
    "failed": "run failed",
}
TARGET_STATUS = {
    "in_sync": "in sync",
    "drift": "drift",
    "corrected": "corrected",
    "failed": "failed",
}
CHANGES = {
    "modified": "differs",
    "missing": "missing",
    "unwanted": "present but not wanted",
    "refused": "refused by the API server: needs a person, an apply cannot correct it",
    "withheld": "differs; details withheld",
    "other": "changed",
}
CORRECTED_CHANGES = {
    "modified": "corrected",
    "missing": "missing: created",
    "unwanted": "present but not wanted: removed",
    "withheld": "corrected; details withheld",
    "other": "changed",
}


def _short_role(role: str) -> str:
    return role.rsplit(".", 1)[-1] if role else "(playbook)"


def _object_label(obj: dict | None, task: str = "") -> str:
    if not obj:
        return f"task {task}" if task else "(no object)"
    kind = obj.get("kind", "")
    name = obj.get("name", "")
    where = f"{obj['namespace']}/{name}" if obj.get("namespace") else name
    return f"{kind} {where}".strip()


def _code(text: str) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - 1] + "…"
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _value(value: Any) -> str:
    return _code(value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def _cells(item: dict) -> tuple[str, str]:
    if item.get("redacted"):
        return "(hidden)", "changed" if item.get("change") == "changed" else item.get("change", "")
    expected, found = item.get("expected", ABSENT), item.get("found", ABSENT)
    scalar_lists = isinstance(expected, list) and isinstance(found, list)
    if scalar_lists and all(not isinstance(v, (dict, list)) for v in expected + found):
        missing = [v for v in expected if v not in found]
        extra = [v for v in found if v not in expected]
        if missing or extra:
            return (
                " ".join(_value(v) for v in missing) or "(nothing more)",
                " ".join(_value(v) for v in extra) or "(nothing more)",
            )
        return _value(expected), _value(found) + " (other order)"
    return (
        "(absent)" if expected is ABSENT else _value(expected),
        "(absent)" if found is ABSENT else _value(found),
    )


def _rotation_lines(items: list[dict], mode: str) -> list[str]:
    """One credential rotation: the Secrets with new values and the rollouts they start, as one change."""
    done = "rotated" if mode == "correct" else "to rotate"
    lines = [
        f"### Credentials {done}",
        "",
        "New credentials from their source (a new password): one change, which these objects carry.",
        "",
    ]
    for item in items:
        paths = ", ".join(_code(entry["path"]) for entry in item["fields"])
        role = _short_role(item["role"])
        if (item["object"] or {}).get("kind") == "Secret":
            lines.append(f"- **{_object_label(item['object'])}** (role {role}): new values of {paths}")
        else:
            lines.append(f"- **{_object_label(item['object'])}** (role {role}): rolls out for them ({paths})")
    return [*lines, ""]


def render_markdown(report: dict) -> str:
    lines = [f"# Drift report: {HEADLINES.get(report['status'], report['status'])}", ""]
    mode = report["mode"]
    mode_text = "detect (check mode: nothing was changed)" if mode == "detect" else "correct (applied, then verified)"
    summary = report["summary"]
    lines += [
        f"- Mode: {mode_text}",
        f"- Run: {report['run_id']}, {report['started']} to {report['finished'] or '(unfinished)'}",
        f"- Targets: {summary['targets']}, with drift: {summary['targets_with_drift']}; objects: {summary['objects']}"
        + (f" (credential rotations: {summary['credential_rotations']})" if summary.get("credential_rotations") else "")
        + f"; errors: {summary['errors']}",
        f"- Exit code: {report['exit_code']} (0 in sync, 3 drift, 2 failed)",
        "",
        "Expected is what the roles apply; found is what the cluster holds. Lists of values show only the items"
        " that differ. Secret values are never shown.",
    ]
    for name, target in report["targets"].items():
        lines += ["", f"## Target {name}: {TARGET_STATUS.get(target['status'], target['status'])}", ""]
        if not target["drift"] and not target["errors"]:
            lines.append("Every object is as its role applies it.")
        rotation = [item for item in target["drift"] if item.get("part_of") == CREDENTIAL_ROTATION]
        if rotation:
            lines += _rotation_lines(rotation, mode)
        by_role: dict[str, list[dict]] = {}
        for item in target["drift"]:
            if item.get("part_of") != CREDENTIAL_ROTATION:
                by_role.setdefault(item["role"], []).append(item)
        for role, items in by_role.items():
            lines += [f"### Role {_short_role(role)}", ""]
            for item in items:
                changes = CORRECTED_CHANGES if item["state"] == "corrected" else CHANGES
                change = changes.get(item["change"], item["change"])
                lines.append(f"- **{_object_label(item['object'], item['task'])}**: {change}")
                if item["message"] and item["change"] not in ("missing", "unwanted"):
                    lines.append(f"  - {item['message']}")
                if item["change"] == "refused":
                    lines += [f"  - {_code(entry['path'])}: {entry.get('message', '')}" for entry in item["fields"]]
                elif item["fields"]:
                    lines += ["", "  | field | expected | found |", "  |---|---|---|"]
                    for entry in item["fields"]:
                        expected, found = _cells(entry)
                        lines.append(f"  | {_code(entry['path'])} | {expected} | {found} |")
                    lines.append("")
        if target["errors"]:
            lines += ["### Errors", ""]
            for error in target["errors"]:
                lines.append(f"- {_short_role(error['role'])}, task {error['task']}: {error['message']}")
        if target["stopped_at"]:
            lines += [
                "",
                f"The run stopped for this target at role {_short_role(target['stopped_at']['role'])}, task "
                f"{target['stopped_at']['task']}: what comes after it was not checked.",
            ]
    return "\n".join(lines).rstrip() + "\n"


# --- the callback ------------------------------------------------------------------------------


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "homelab.mlflow.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._report: DriftReport | None = None
        self._active = False
        self._playbook = ""

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(getattr(playbook, "_file_name", "") or "")

    def v2_playbook_on_play_start(self, play):
        play_vars = play.get_vars() or {}
        try:
            self._active = boolean(play_vars.get("drift_report", False), strict=False)
        except TypeError:
            self._active = False
        if self._active and self._report is None:
            mode = "detect" if context.CLIARGS.get("check") else "correct"
            self._report = DriftReport(mode=mode, run_id=self.get_option("run_id"), playbook=self._playbook)

    @staticmethod
    def _where(result) -> tuple[str, str, str]:
        task = result._task
        role = task._role.get_name() if task._role else ""
        name = getattr(result, "task_name", "") or task.get_name()
        if role and name.startswith(f"{role} : "):
            name = name[len(role) + 3 :]
        return result._host.get_name(), role, str(name)

    def v2_runner_on_ok(self, result):
        if not (self._active and self._report) or not result._result.get("changed"):
            return
        host, role, task = self._where(result)
        args = result._task.args if isinstance(result._task.args, dict) else {}
        self._report.add_changed(host, result._result, role, task, args)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not (self._active and self._report) or ignore_errors:
            return
        host, role, task = self._where(result)
        self._report.add_failed(host, result._result, role, task)

    def v2_runner_on_unreachable(self, result):
        if not (self._active and self._report):
            return
        host, role, task = self._where(result)
        self._report.add_unreachable(host, result._result, role, task)

    def v2_playbook_on_stats(self, stats):
        if self._report is None:
            return
        report = self._report
        for host in stats.processed:
            report.target(host)
        report.finish(dict(stats.failures))
        directory = self.get_option("report_dir")
        data = report.to_json()
        markdown = render_markdown(data)
        try:
            os.makedirs(directory, exist_ok=True)
            text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
            _write(os.path.join(directory, "drift-report.json"), text)
            _write(os.path.join(directory, "drift-report.md"), markdown)
        except OSError as err:
            self._display.error(f"homelab.mlflow.drift_report could not write the report to {directory}: {err}")
        if self.get_option("print_summary"):
            self._display.display(markdown)
        headline = HEADLINES.get(data["status"], data["status"])
        self._display.display(
            f"Drift report ({report.mode}): {headline}, exit code {data['exit_code']}; "
            f"{os.path.join(directory, 'drift-report.md')} and drift-report.json"
        )


def _write(path: str, text: str) -> None:
    """Write a file whole: a reader never sees half a report."""
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".drift-report-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # Readable like any file written here (mkstemp makes it private): the report holds no secret.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
