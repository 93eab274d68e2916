# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_capture
type: aggregate
short_description: Save the objects the roles apply, as rendered, for the benchmark's floor
description:
  - Enabled only by bench/run.py. For every homelab.mlflow.k8s_apply task, saves the objects it
    applied (the server's answer without status and server bookkeeping), and for every
    kubernetes.core.k8s task that applies (state present, apply true) the definitions the module was
    given, per inventory host, to the JSON file named by BENCH_CAPTURE_FILE at the end of the run.
  - Secrets come back from homelab.mlflow.k8s_apply with their values hidden, so they are not saved
    from it; bench/run.py reads them back from the cluster, as it does for no_log tasks.
  - Results of no_log tasks are hidden before any callback sees them, so their objects (Secrets) are
    not saved; bench/run.py reads those back from the cluster instead.
options: {}
"""

import json  # noqa: E402
import os  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402

K8S_ACTIONS = frozenset({"kubernetes.core.k8s", "k8s"})
ENGINE_ACTIONS = frozenset({"homelab.mlflow.k8s_apply", "k8s_apply"})
# What the server sets: left out, so that the floor applies what the roles declared.
# What the Job controller adds to a Job: applied again into another namespace it would be refused.
JOB_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name")
SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")
# Spec fields the server or a controller fills in: a Service's allocated IPs, a claim's bound volume. Applied again
# into another namespace they would be refused (an IP is allocated once) or bind a volume that is taken.
SERVER_SPEC = {"Service": ("clusterIP", "clusterIPs"), "PersistentVolumeClaim": ("volumeName",)}


def _plain(value):
    """Plain JSON types (the results may hold Ansible's tagged str/dict subclasses)."""
    return json.loads(json.dumps(value, default=str))


def _as_declared_job(job: dict) -> dict:
    """A Job without the selector and labels its controller added."""
    spec = {k: v for k, v in (job.get("spec") or {}).items() if k != "selector"}
    template = dict(spec.get("template") or {})
    template_metadata = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (template_metadata.get("labels") or {}).items() if k not in JOB_LABELS}
    template["metadata"] = dict(template_metadata, labels=labels)
    job_labels = {k: v for k, v in (job["metadata"].get("labels") or {}).items() if k not in JOB_LABELS}
    return dict(job, spec=dict(spec, template=template), metadata=dict(job["metadata"], labels=job_labels))


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
            self._save(host, definition)

    def _save(self, host: str, definition: dict) -> None:
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

    def _collect_applied(self, host: str, result: dict) -> None:
        for obj in result.get("resources") or []:
            if not isinstance(obj, dict) or "kind" not in obj or obj["kind"] == "Secret":
                continue
            metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_METADATA}
            declared = dict({k: v for k, v in obj.items() if k != "status"}, metadata=metadata)
            if obj["kind"] in SERVER_SPEC and isinstance(obj.get("spec"), dict):
                declared["spec"] = {k: v for k, v in obj["spec"].items() if k not in SERVER_SPEC[obj["kind"]]}
            if obj["kind"] == "Job":
                declared = _as_declared_job(declared)
            self._save(host, declared)

    def v2_runner_on_ok(self, result):
        if result._task.action in ENGINE_ACTIONS:
            self._collect_applied(result._host.get_name(), result._result)
            return
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
