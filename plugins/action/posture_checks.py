# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks a deployment namespace's security posture against the target's API server, from the controller.

Reads what the asked checks need (objects already read in the run cost nothing), asks the API
server what only it can say (would it admit this pod, may this account do that: dry runs and
access reviews, nothing written), and fails once with every problem. The rules are in
module_utils/posture.py. See plugins/modules/posture_checks.py.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.homelab.mlflow.plugins.module_utils import posture
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import ABSENT, differences, holds, is_noise
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import Ref
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC, shown
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import plain
from ansible_collections.homelab.mlflow.plugins.plugin_utils.kube_action import KubeAction

OBJECT_SPEC = {
    "api_version": {"type": "str"},
    "kind": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
}
ARGUMENT_SPEC = dict(
    CONNECTION_SPEC,
    namespace={"type": "str", "required": True},
    pod_security_level={"type": "str"},
    refuses_privileged_pods={"type": "bool", "default": False},
    default_service_account_without_token={"type": "bool", "default": False},
    limits={"type": "list", "elements": "str", "default": [], "choices": ["memory", "cpu"]},
    pinned_images={"type": "bool", "default": False},
    empty_dir_size_limits={"type": "bool", "default": False},
    default_deny={"type": "dict", "options": OBJECT_SPEC},
    as_declared={"type": "list", "elements": "dict", "default": []},
    admits_pods_of={"type": "list", "elements": "dict", "default": [], "options": OBJECT_SPEC},
    access={
        "type": "dict",
        "options": {
            "user": {"type": "str", "required": True},
            "groups": {"type": "list", "elements": "str", "default": []},
            "expect": {"type": "list", "elements": "dict", "required": True},
            "hint": {"type": "str", "default": ""},
        },
    },
    known={"type": "list", "elements": "dict", "default": []},
    variables={"type": "dict", "default": {}},
    msg={"type": "str"},
    fail={"type": "bool", "default": True},
)
PRIVILEGED_PROBE = "homelab-mlflow-podsecurity-probe"


class Reader:
    """Objects of the namespace: from `known` when there, else one request each (and one LIST per kind)."""

    def __init__(self, kube, resources, namespace: str, known: list[dict]):
        self.kube, self.resources, self.namespace = kube, resources, namespace
        self.known = {Ref.of(obj): obj for obj in known}
        self.read: dict[Ref, dict | None] = {}

    def ref(self, kind: str, name: str, api_version: str | None = None) -> Ref:
        api_version = api_version or self.resources.api_version_of(kind)
        namespaced = self.resources.get(api_version, kind).namespaced
        return Ref(api_version, kind, self.namespace if namespaced else None, name)

    def get(self, ref: Ref) -> dict | None:
        if ref not in self.read:
            if ref in self.known:
                self.read[ref] = self.known[ref]
            else:
                self.read[ref] = self.kube.get(
                    self.resources.get(ref.api_version, ref.kind).path(ref.namespace, ref.name)
                )
        return self.read[ref]

    def workloads(self) -> list[dict]:
        found = []
        for api_version, kind in posture.WORKLOAD_KINDS:
            if self.resources.serves(api_version, kind):
                items = self.kube.list(self.resources.get(api_version, kind).path(self.namespace))
                found.extend(dict(item, apiVersion=api_version, kind=kind) for item in items)
        return found

    def dry_run_refusal(self, pod: dict) -> str | None:
        """None when the API server would admit the pod; otherwise what it said. Nothing is created."""
        path = self.resources.get("v1", "Pod").path(self.namespace)
        try:
            self.kube.request("POST", path, body=pod, content_type="application/json", dry_run="All")
        except KubeError as error:
            if error.status in (0, 401, 404, 500, 503):
                raise
            return str(error)
        return None

    def allowed(self, user: str, groups: list[str], attributes: dict) -> bool:
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "LocalSubjectAccessReview",
            "metadata": {"namespace": self.namespace},
            "spec": {"user": user, "groups": groups, "resourceAttributes": dict(attributes, namespace=self.namespace)},
        }
        path = self.resources.get("authorization.k8s.io/v1", "LocalSubjectAccessReview").path(self.namespace)
        answer = self.kube.request("POST", path, body=review, content_type="application/json")
        return bool((answer.get("status") or {}).get("allowed"))


def _not_as_declared(label: str, live: dict | None, declared: dict) -> str | None:
    if live is None:
        return f"{label} is missing."
    if holds(live, declared):
        return None
    fields = [
        f"{item.path} is {json.dumps(item.found) if item.found is not ABSENT else 'not set'}, "
        f"not {json.dumps(item.expected)}"
        for item in differences(live, declared)
        if item.expected is not ABSENT and not is_noise(item.path)
    ]
    return f"{label} is not as declared: {'; '.join(fields) or 'its fields differ'}."


class ActionModule(KubeAction):
    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        try:
            kube, resources = self.connect_cluster(args, task_vars)
            reader = Reader(kube, resources, args["namespace"], plain(args["known"]))
            problems = [problem for problem in self._problems(reader, args) if problem]
        except (KubeError, ValueError) as error:
            raise AnsibleActionFail(str(error)) from None
        result.update(
            changed=False,
            problems=problems,
            resources=[shown(obj) for obj in reader.read.values() if obj is not None],
            requests=kube.requests,
        )
        if problems and args["fail"]:
            result.update(failed=True, msg=" ".join(([args["msg"]] if args["msg"] else []) + problems))
        return result

    def _problems(self, reader: Reader, args: dict):
        namespace, variables = args["namespace"], args["variables"]
        if args["pod_security_level"]:
            obj = reader.get(Ref("v1", "Namespace", None, namespace))
            yield posture.pod_security_problem(namespace, obj, args["pod_security_level"], variables)
        if args["refuses_privileged_pods"]:
            refusal = reader.dry_run_refusal(posture.privileged_probe(namespace, PRIVILEGED_PROBE))
            yield posture.privileged_admitted_problem(namespace, refusal)
        if args["default_service_account_without_token"]:
            account = reader.get(Ref("v1", "ServiceAccount", namespace, "default"))
            yield posture.default_service_account_problem(namespace, account, variables)
        if args["limits"] or args["pinned_images"] or args["empty_dir_size_limits"]:
            workloads = reader.workloads()
            found = posture.containers(workloads)
            if args["limits"]:
                yield posture.limits_problem(namespace, found, args["limits"], variables)
            if args["pinned_images"]:
                yield posture.floating_images_problem(namespace, found)
            if args["empty_dir_size_limits"]:
                yield posture.empty_dir_problem(namespace, workloads, variables)
        if args["default_deny"]:
            deny = args["default_deny"]
            kind = posture.default_deny_kind(deny["kind"], reader.resources.serves)
            policy = reader.get(reader.ref(kind, deny["name"], deny["api_version"]))
            yield posture.default_deny_problem(namespace, kind, deny["name"], policy, variables)
        for declared in plain(args["as_declared"]):
            ref = Ref.of(declared, namespace)
            yield _not_as_declared(ref.label, reader.get(reader.ref(ref.kind, ref.name, ref.api_version)), declared)
        for item in args["admits_pods_of"]:
            ref = reader.ref(item["kind"], item["name"], item["api_version"])
            workload = reader.get(ref)
            refusal = None
            if workload is not None:
                refusal = reader.dry_run_refusal(posture.pod_of(workload, namespace, f"{item['name']}-admission-probe"))
            yield posture.refused_pod_problem(namespace, workload, f"{item['kind']} {item['name']}", refusal)
        if args["access"]:
            access = args["access"]
            wrong = [
                posture.access_problem(
                    namespace, access["user"], boolean(item.get("allowed"), strict=False), allowed, attributes
                )
                for item in access["expect"]
                for attributes in [item.get("attributes") or {}]
                for allowed in [reader.allowed(access["user"], access["groups"], attributes)]
            ]
            wrong = [problem for problem in wrong if problem]
            if wrong:
                yield " ".join(wrong + ([access["hint"]] if access["hint"] else []))
