# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report (its JSON form) as Markdown: per target and role, each object and field with the value
expected and found; a credential rotation as one change. Secret values are never in the JSON to begin with."""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.history import WHOLE_OBJECT
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.model import CREDENTIAL_ROTATION
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import ABSENT

CELL_LIMIT = 160

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


def _seen_text(seen: dict | None) -> str:
    if not seen:
        return ""
    runs = seen.get("runs", 1)
    return f"{seen.get('first_seen')}, {runs} run{'s' if runs != 1 else ''}"


def _resolved_lines(target: dict) -> list[str]:
    """Drift of the last run that is gone, each listed once."""
    resolved = target.get("resolved") or []
    if not resolved:
        return []
    lines = ["", "### Resolved since the last run", ""]
    for entry in resolved:
        what = "" if entry["path"] == WHOLE_OBJECT else f" {_code(entry['path'])}"
        lines.append(
            f"- {entry['object']}{what}: first seen {entry['first_seen']}, last seen {entry['last_seen']} "
            f"({entry['runs']} run{'s' if entry['runs'] != 1 else ''})"
        )
    return lines


def _rule_target(rule: dict) -> str:
    what = [rule.get("kind", "")]
    if rule.get("name"):
        what.append(rule["name"])
    if rule.get("labels"):
        what.append("labels " + ",".join(f"{key}={value}" for key, value in sorted(rule["labels"].items())))
    if rule.get("role"):
        what.append(f"role {rule['role']}")
    return " ".join(what)


def _left_alone_lines(target: dict) -> list[str]:
    """Differences ignore rules and other field managers left to the cluster; rules that matched nothing."""
    lines = []
    ignored = target.get("ignored") or []
    if ignored:
        lines += [
            "",
            f"### Ignored: {len(ignored)} difference{'s' if len(ignored) != 1 else ''}",
            "",
            "Left as the cluster holds them, neither corrected nor drift.",
            "",
            "| object | field | expected | found | ignored by |",
            "|---|---|---|---|---|",
        ]
        for item in ignored:
            expected, found = _cells(item)
            by = item.get("ignored_by", "").replace("|", "\\|")
            what = _object_label(item.get("object"))
            lines.append(f"| {what} | {_code(item['path'])} | {expected} | {found} | {by} |")
    stale = target.get("stale_rules") or []
    if stale:
        lines += ["", "### Ignore rules that matched nothing", ""]
    for rule in stale:
        pointers = ", ".join(_code(pointer) for pointer in rule.get("json_pointers", []))
        lines.append(f"- {rule.get('rule')}: {_rule_target(rule)}, {pointers}: remove the rule or correct it")
    return lines


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
        + f"; errors: {summary['errors']}"
        + (f"; ignored differences: {summary['ignored_differences']}" if summary.get("ignored_differences") else "")
        + (f"; stale ignore rules: {summary['stale_rules']}" if summary.get("stale_rules") else ""),
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
                seen = item.get("seen")
                whole = f" ({_seen_text(seen[WHOLE_OBJECT])})" if seen and WHOLE_OBJECT in seen else ""
                lines.append(f"- **{_object_label(item['object'], item['task'])}**: {change}{whole}")
                if item["message"] and item["change"] not in ("missing", "unwanted"):
                    lines.append(f"  - {item['message']}")
                if item["change"] == "refused":
                    lines += [f"  - {_code(entry['path'])}: {entry.get('message', '')}" for entry in item["fields"]]
                elif item["fields"]:
                    header = "  | field | expected | found |" + (" first seen |" if seen else "")
                    lines += ["", header, "  |---|---|---|" + ("---|" if seen else "")]
                    for entry in item["fields"]:
                        expected, found = _cells(entry)
                        history = f" {_seen_text(seen.get(entry['path']))} |" if seen else ""
                        lines.append(f"  | {_code(entry['path'])} | {expected} | {found} |{history}")
                    lines.append("")
        if target["errors"]:
            lines += ["### Errors", ""]
            for error in target["errors"]:
                lines.append(f"- {_short_role(error['role'])}, task {error['task']}: {error['message']}")
        lines += _left_alone_lines(target)
        lines += _resolved_lines(target)
        if target["stopped_at"]:
            lines += [
                "",
                f"The run stopped for this target at role {_short_role(target['stopped_at']['role'])}, task "
                f"{target['stopped_at']['task']}: what comes after it was not checked.",
            ]
    return "\n".join(lines).rstrip() + "\n"
