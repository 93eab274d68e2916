# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_capture
type: aggregate
short_description: Save the objects the roles apply, as rendered, for the benchmark's floor
description:
  - Enabled only by bench/run.py. For every kubernetes.core.k8s task that applies (state present,
    apply true), saves the definitions the module was given, per inventory host, to the JSON file
    named by BENCH_CAPTURE_FILE at the end of the run.
  - Results of no_log tasks are hidden before any callback sees them, so their objects (Secrets) are
    not saved; bench/run.py reads those back from the cluster instead.
options: {}
"""

import json  # noqa: E402
import os  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402

K8S_ACTIONS = frozenset({"kubernetes.core.k8s", "k8s"})


def _plain(value):
    """Plain JSON types (the results may hold Ansible's tagged str/dict subclasses)."""
    return json.loads(json.dumps(value, default=str))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_capture"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._objects: dict[str, dict[str, dict]] = {}

    def _collect(self, host: str, result: dict) -> None:
        args = (result.get("invocation") or {}).get("module_args") or {}
        if args.get("state", "present") != "present" or not args.get("apply"):
            return
        definitions = args.get("definition") or []
        if isinstance(definitions, dict):
            definitions = [definitions]
        for definition in definitions:
            if not isinstance(definition, dict) or "kind" not in definition:
                continue
            metadata = definition.get("metadata") or {}
            key = "/".join(
                [
                    definition.get("apiVersion", ""),
                    definition["kind"],
                    metadata.get("namespace", ""),
                    metadata.get("name", ""),
                ]
            )
            self._objects.setdefault(host, {})[key] = _plain(definition)

    def v2_runner_on_ok(self, result):
        if result._task.action not in K8S_ACTIONS:
            return
        host = result._host.get_name()
        outcome = result._result
        for item in outcome.get("results") or [outcome]:
            if isinstance(item, dict):
                self._collect(host, item)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_CAPTURE_FILE")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as out:
            json.dump({host: list(objects.values()) for host, objects in self._objects.items()}, out, indent=1)
