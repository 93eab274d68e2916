# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A drift run's result as Prometheus metrics (the text exposition format, version 0.0.4): for node-exporter's
textfile collector or a Pushgateway. Per target: drifted objects and fields per role, ignored differences,
stale ignore rules, errors; for the run: when it finished, its status and exit code."""

from __future__ import annotations

import datetime

PREFIX = "homelab_mlflow_drift"
STATUSES = ("in_sync", "drift", "corrected", "failed")


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    """Exact: a timestamp in seconds has more digits than a short float format keeps."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _sample(name: str, labels: dict, value: float) -> str:
    shown = ",".join(f'{key}="{_escape(labels[key])}"' for key in sorted(labels))
    return f"{name}{{{shown}}} {_number(value)}" if shown else f"{name} {_number(value)}"


class _Families:
    """Metric families in order, each with its HELP and TYPE once, then its samples."""

    def __init__(self) -> None:
        self._families: dict[str, tuple[str, list[str]]] = {}

    def add(self, name: str, help_text: str, labels: dict, value: float) -> None:
        full = f"{PREFIX}_{name}"
        self._families.setdefault(full, (help_text, []))[1].append(_sample(full, labels, value))

    def text(self) -> str:
        lines = []
        for name, (help_text, samples) in self._families.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples]
        return "\n".join(lines) + "\n"


def _timestamp(text: str | None) -> float:
    if not text:
        return 0.0
    return datetime.datetime.fromisoformat(text).timestamp()


def _roles(target: dict) -> dict[str, list[dict]]:
    by_role: dict[str, list[dict]] = {}
    for item in target.get("drift", []):
        by_role.setdefault(item.get("role") or "(playbook)", []).append(item)
    return by_role


def prometheus_text(report: dict) -> str:
    """The report (its JSON form) as Prometheus metrics."""
    families = _Families()
    mode = report.get("mode", "")
    for name, target in sorted(report.get("targets", {}).items()):
        base = {"target": name, "mode": mode}
        for role, items in sorted(_roles(target).items()):
            labels = dict(base, role=role.rsplit(".", 1)[-1])
            families.add("objects", "Objects that differ from what their role applies.", labels, len(items))
            fields = sum(len(item.get("fields") or []) or 1 for item in items)
            families.add("fields", "Fields that differ (an object missing or unwanted counts as one).", labels, fields)
        families.add(
            "target_objects", "Objects that differ from what their roles apply, all roles.", base, len(target["drift"])
        )
        families.add(
            "ignored_differences",
            "Differences that ignore rules and other field managers left to the cluster.",
            base,
            len(target.get("ignored") or []),
        )
        families.add(
            "stale_rules", "Ignore rules that matched no object or field.", base, len(target.get("stale_rules") or [])
        )
        families.add("errors", "Failed tasks of the run.", base, len(target.get("errors") or []))
        for status in STATUSES:
            families.add(
                "target_status", "1 for the target's status in the last run.", dict(base, status=status),
                int(target.get("status") == status),
            )  # fmt: skip
    run = {"mode": mode}
    families.add("last_run_timestamp_seconds", "When the last run finished.", run, _timestamp(report.get("finished")))
    families.add("last_run_exit_code", "0 in sync, 3 drift, 2 failed.", run, report.get("exit_code", 2))
    for status in STATUSES:
        families.add(
            "last_run_status", "1 for the status of the last run.", dict(run, status=status),
            int(report.get("status") == status),
        )  # fmt: skip
    return families.text()
