# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One drift run's report: the task results it collects per target, its status and exit code, as JSON."""

from __future__ import annotations

import datetime
import uuid

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.markdown import render_markdown
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.model import (
    CREDENTIAL_ROTATION,
    ObjectDrift,
    TargetReport,
    credential_rotation,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.results import (
    drift_from_result,
    left_alone_from_result,
    refusal_from_failure,
)

REPORT_FORMAT = 1
EXIT_IN_SYNC = 0
EXIT_FAILED = 2
EXIT_DRIFT = 3


class DriftReport:
    """Everything a drift run found, per target; rendered as JSON and Markdown."""

    def __init__(self, mode: str = "detect", run_id: str = "", playbook: str = "", every_role: bool = True):
        self.mode = mode
        self.run_id = run_id or uuid.uuid4().hex
        self.playbook = playbook
        # False when --tags or --skip-tags left roles out: their objects were not checked.
        self.every_role = every_role
        self.started = _now()
        self.finished: str | None = None
        self.targets: dict[str, TargetReport] = {}

    def target(self, host: str) -> TargetReport:
        return self.targets.setdefault(host, TargetReport(host))

    def add_ok(self, host: str, result: dict, role: str, task: str, task_args: dict | None = None) -> None:
        """A task that succeeded: what it left to others, and what it changed (or would change)."""
        left = left_alone_from_result(result)
        target = self.target(host)
        target.ignored += [{"role": role, "task": task, "object": obj, **item.to_json()} for obj, item in left.fields]
        target.rules_matched.update(left.rules_matched)
        if left.rules is not None:
            target.rules = left.rules
        if result.get("changed"):
            self.add_changed(host, result, role, task, task_args)

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
                "ignored_differences": sum(len(t.ignored) for t in self.targets.values()),
                "stale_rules": sum(len(self._stale_rules(t) or []) for t in self.targets.values()),
            },
            "targets": {
                name: {
                    "status": target.status(self.mode),
                    "drift": [item.to_json() for item in target.drift],
                    "errors": target.errors,
                    "unreachable": target.unreachable,
                    "stopped_at": target.stopped_at,
                    "ignored": target.ignored,
                    "stale_rules": self._stale_rules(target),
                }
                for name, target in sorted(self.targets.items())
            },
        }

    def _stale_rules(self, target: TargetReport) -> list[dict] | None:
        return target.stale_rules() if self.every_role else None

    def to_markdown(self) -> str:
        return render_markdown(self.to_json())


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
