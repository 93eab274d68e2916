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
    prints the Markdown summary; and C(drift-metrics.prom), the result as Prometheus metrics.
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
  history_file:
    description:
      - The JSON file that keeps, between runs, when each drifted field was first seen and in how many
        consecutive runs; the report says so per field, and lists once the drift of the last run that is gone.
      - When empty, C(drift-history.json) in O(report_dir). C(bin/homelab-mlflow-drift) keeps it in a ConfigMap
        instead when asked to (the in-cluster CronJob does).
    type: str
    default: ""
    env:
      - name: HOMELAB_MLFLOW_DRIFT_HISTORY_FILE
    ini:
      - section: callback_drift_report
        key: history_file
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

import json
import os
import tempfile

from ansible import context
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.callback import CallbackBase

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.history import apply_history, load_history
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.markdown import HEADLINES, render_markdown
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.metrics import prometheus_text
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.report import DriftReport


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
            tags = set(context.CLIARGS.get("tags") or ()) - {"all"}
            every_role = not tags and not context.CLIARGS.get("skip_tags")
            self._report = DriftReport(
                mode=mode, run_id=self.get_option("run_id"), playbook=self._playbook, every_role=every_role
            )

    @staticmethod
    def _where(result) -> tuple[str, str, str]:
        task = result._task
        role = task._role.get_name() if task._role else ""
        name = getattr(result, "task_name", "") or task.get_name()
        if role and name.startswith(f"{role} : "):
            name = name[len(role) + 3 :]
        return result._host.get_name(), role, str(name)

    def v2_runner_on_ok(self, result):
        if not (self._active and self._report):
            return
        host, role, task = self._where(result)
        args = result._task.args if isinstance(result._task.args, dict) else {}
        self._report.add_ok(host, result._result, role, task, args)

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
        history_file = os.path.expanduser(
            self.get_option("history_file") or os.path.join(directory, "drift-history.json")
        )
        data = report.to_json()
        try:
            os.makedirs(directory, exist_ok=True)
            history = apply_history(data, load_history(_read(history_file)))
            markdown = render_markdown(data)
            text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
            _write(os.path.join(directory, "drift-report.json"), text)
            _write(os.path.join(directory, "drift-report.md"), markdown)
            _write(history_file, json.dumps(history, indent=1, sort_keys=True) + "\n")
            # For node-exporter's textfile collector or a Pushgateway (bin/homelab-mlflow-drift passes it on).
            _write(os.path.join(directory, "drift-metrics.prom"), prometheus_text(data))
        except OSError as err:
            markdown = render_markdown(data)
            self._display.error(f"homelab.mlflow.drift_report could not write the report to {directory}: {err}")
        if self.get_option("print_summary"):
            self._display.display(markdown)
        headline = HEADLINES.get(data["status"], data["status"])
        self._display.display(
            f"Drift report ({report.mode}): {headline}, exit code {data['exit_code']}; "
            f"{os.path.join(directory, 'drift-report.md')} and drift-report.json"
        )


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except FileNotFoundError:
        return None


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
