# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timing
type: aggregate
short_description: Where a benchmarked run's time goes
description:
  - Enabled only by bench/run.py. Writes to the JSON file named by BENCH_TIMING_FILE, at the end of
    the run, the seconds from the process start (BENCH_STARTED, a Unix time) to the first task
    (Ansible's start, which loads the inventory, the playbook and the plugins), the seconds of each
    task, summed by action, the tasks that ran or were skipped per host, the requests the
    collection's Kubernetes actions report, and the seconds their waits took (per task the longest
    wait of any host, as the hosts run a task in parallel).
options: {}
"""

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._first_task: float | None = None
        self._task_started: float | None = None
        self._task_action = ""
        self._by_action: dict[str, float] = {}
        self._waited = 0.0
        self._task_waited = 0.0
        self._requests: dict[str, int] = {}
        self._tasks: dict[str, int] = {}

    def _close_task(self) -> None:
        if self._task_started is not None:
            spent = time.time() - self._task_started
            self._by_action[self._task_action] = self._by_action.get(self._task_action, 0.0) + spent
        # The targets run a task in parallel: its wall time holds the longest of their waits, not their sum.
        self._waited += self._task_waited
        self._task_waited = 0.0
        self._task_started = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        now = time.time()
        if self._first_task is None:
            self._first_task = now
        self._task_started = now
        self._task_action = task.action

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _count(self, result) -> None:
        host = result._host.get_name()
        self._tasks[host] = self._tasks.get(host, 0) + 1
        outcome = result._result
        self._task_waited = max(self._task_waited, float(outcome.get("waited_seconds") or 0))
        for method, count in (outcome.get("requests") or {}).items():
            self._requests[method] = self._requests.get(method, 0) + int(count)

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_skipped(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        path = os.environ.get("BENCH_TIMING_FILE")
        if not path:
            return
        started = float(os.environ.get("BENCH_STARTED") or 0) or None
        timing = {
            "start_seconds": round(self._first_task - started, 2) if started and self._first_task else None,
            "task_seconds_by_action": {k: round(v, 2) for k, v in sorted(self._by_action.items(), key=lambda i: -i[1])},
            "wait_seconds": round(self._waited, 2),
            "engine_requests": self._requests,
            "tasks_per_host": self._tasks,
        }
        with open(path, "w", encoding="utf-8") as out:
            json.dump(timing, out, indent=1)
