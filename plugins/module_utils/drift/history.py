# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drift across runs: when each drifted field was first seen, in how many consecutive runs, and which drift
of the last run is gone (resolved, listed once).

The history is a JSON document kept between runs (drift-history.json in the report folder; the in-cluster
run keeps it in a ConfigMap of its own). A target whose run did not check every object (it failed or
stopped) keeps its history as it was: what was not checked is neither seen again nor resolved.
"""

from __future__ import annotations

import json
from typing import Any

HISTORY_FORMAT = 1
# The field of an object that differs as a whole (missing, unwanted, refused without causes, withheld, other).
WHOLE_OBJECT = "(object)"


def _object_key(item: dict) -> str:
    obj = item.get("object") or {}
    if not obj:
        return f"task {item.get('role', '')}: {item.get('task', '')}"
    where = f"{obj['namespace']}/{obj.get('name', '')}" if obj.get("namespace") else obj.get("name", "")
    return f"{obj.get('kind', '')} {where}".strip()


def drifted_fields(item: dict) -> list[str]:
    """The paths an object's drift is about; the whole object when it names none."""
    return [entry["path"] for entry in item.get("fields") or []] or [WHOLE_OBJECT]


def load_history(text: str | None) -> dict:
    """A history document, or an empty one when there is none or it cannot be read (it starts anew)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict) or data.get("format") != HISTORY_FORMAT or not isinstance(data.get("targets"), dict):
        return {"format": HISTORY_FORMAT, "targets": {}}
    return data


def _checked_every_object(target: dict) -> bool:
    return not (target.get("errors") or target.get("unreachable") or target.get("stopped_at"))


def apply_history(report: dict, history: dict) -> dict:
    """Annotate the report (its JSON form, in place) with first seen and consecutive runs per drifted field
    and the drift resolved since the last run; return the history after this run."""
    now = report.get("finished") or report.get("started")
    targets = dict(history.get("targets") or {})
    for name, target in report.get("targets", {}).items():
        before: dict[str, Any] = dict(targets.get(name) or {})
        if not _checked_every_object(target):
            target["resolved"] = []
            for item in target.get("drift", []):
                item["seen"] = {path: _seen(before.get(_key(item, path)), now, True) for path in drifted_fields(item)}
            continue
        after = {}
        for item in target.get("drift", []):
            item["seen"] = {}
            for path in drifted_fields(item):
                key = _key(item, path)
                entry = _seen(before.get(key), now, False)
                after[key] = dict(entry, object=_object_key(item), path=path)
                item["seen"][path] = entry
        target["resolved"] = [
            {
                "object": entry.get("object", key),
                "path": entry.get("path", ""),
                "first_seen": entry.get("first_seen"),
                "last_seen": entry.get("last_seen"),
                "runs": entry.get("runs"),
            }
            for key, entry in sorted(before.items())
            if key not in after
        ]
        targets[name] = after
    return {"format": HISTORY_FORMAT, "targets": targets}


def _key(item: dict, path: str) -> str:
    return f"{_object_key(item)} {path}"


def _seen(previous: dict | None, now: str | None, unchecked: bool) -> dict:
    """First seen and consecutive runs of a drifted field, counting this run unless the run was cut short."""
    if not previous:
        return {"first_seen": now, "last_seen": now, "runs": 1}
    if unchecked:
        return {key: previous[key] for key in ("first_seen", "last_seen", "runs") if key in previous}
    return {"first_seen": previous.get("first_seen"), "last_seen": now, "runs": int(previous.get("runs", 0)) + 1}
