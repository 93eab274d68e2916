# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Applies a role's object set to the target's API server, from the controller (the engine's apply).

Every target is an API server reached from the controller, so the action talks to it itself: no
module process, the Kubernetes client imported once per run. See plugins/modules/k8s_apply.py.
"""

from __future__ import annotations

import os
import time

import yaml
from ansible.errors import AnsibleActionFail
from ansible.template import trust_as_template

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.apply import ApplyError, Prune, apply_set
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.ignore import (
    LeftToOthers,
    RuleError,
    parse_managers,
    parse_rules,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import FIELD_MANAGER, Ref
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.ready import FAILED, READY, wait_for
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC, connect, shown
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction, plain

ARGUMENT_SPEC = dict(
    CONNECTION_SPEC,
    templates={"type": "list", "elements": "str", "default": []},
    definitions={"type": "list", "elements": "raw", "default": []},
    absent={"type": "list", "elements": "dict", "default": []},
    known={"type": "list", "elements": "dict", "default": []},
    namespace={"type": "str"},
    field_manager={"type": "str", "default": FIELD_MANAGER},
    wait={"type": "list", "elements": "dict", "default": []},
    wait_timeout={"type": "int", "default": 300},
    msg={"type": "str"},
    ignore={"type": "list", "elements": "raw", "default": []},
    prune={
        "type": "dict",
        "options": {
            "labels": {"type": "dict", "required": True},
            # Each {api_version, kind}; further keys are ignored.
            "kinds": {"type": "list", "elements": "dict", "required": True},
        },
    },
)


# Inventory variables every apply honours: fields left to the cluster (docs/drift.md).
INVENTORY_VARIABLES = ("homelab_mlflow_ignore_rules", "homelab_mlflow_field_managers")


def _documents(text: str | None, source: str) -> list[dict]:
    if text is None:  # a template that renders to nothing
        return []
    try:
        return [doc for doc in yaml.safe_load_all(str(text)) if doc]
    except yaml.YAMLError as error:
        raise AnsibleActionFail(f"{source} did not render to YAML: {error}") from None


class ActionModule(ControllerAction):
    def _render(self, templates: list[str], task_vars: dict) -> list[dict]:
        documents = []
        for name in templates:
            path = self._find_needle("templates", name)
            text = trust_as_template(self._loader.get_text_file_contents(path))
            # The task's variables as they are: the template lookup deep-copies all of them (hostvars
            # included) for every template, which costs more than rendering it.
            templar = self._templar.copy_with_new_env(available_variables=task_vars, searchpath=[os.path.dirname(path)])
            documents.extend(_documents(templar.template(text, escape_backslashes=False), name))
        return documents

    def _declared(self, args: dict, task_vars: dict) -> list[dict]:
        declared = self._render(args["templates"], task_vars)
        for item in args["definitions"]:
            declared.extend(_documents(item, "definitions") if isinstance(item, str) else [item] if item else [])
        # Plain data from here on: Ansible's tagged strings and mappings stay out of the engine.
        return plain(declared)

    def _left_to_others(self, args: dict, task_vars: dict) -> tuple[LeftToOthers, list]:
        """The inventory's ignore rules and other field managers, and the task's own rules (a role's: the
        autoscaler's replicas), validated before any request; and the inventory's rules alone."""
        inventory = {name: plain(self._templar.template(task_vars.get(name))) for name in INVENTORY_VARIABLES}
        try:
            rules = parse_rules(inventory["homelab_mlflow_ignore_rules"])
            task_rules = parse_rules(plain(args["ignore"]), "ignore")
            managers = parse_managers(inventory["homelab_mlflow_field_managers"])
        except RuleError as error:
            raise AnsibleActionFail(str(error)) from None
        role = self._task._role.get_name() if self._task._role else None
        return LeftToOthers(tuple(rules + task_rules), tuple(managers), role), rules

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        check_mode = bool(self._task.check_mode)
        others, inventory_rules = self._left_to_others(args, task_vars)
        result["ignore_rules"] = [rule.to_json() for rule in inventory_rules]
        declared = self._declared(args, task_vars)
        if not (declared or args["absent"] or args["prune"]):
            # Nothing to apply: the rules are checked, and the cluster is not contacted.
            result.update(changed=False, objects=[], resources=[], requests=0)
            return result
        try:
            kube, resources = connect(args, task_vars, self._templar.template, self._task.action)
            prune = Prune(dict(args["prune"]["labels"]), list(args["prune"]["kinds"])) if args["prune"] else None
            outcomes = apply_set(
                kube,
                resources,
                declared,
                args["absent"],
                args["namespace"],
                check_mode,
                args["field_manager"],
                prune,
                known=plain(args["known"]),
                others=others,
            )
        except ApplyError as error:
            done = error.outcomes
            result.update(
                failed=True,
                msg=str(error),
                error={
                    "object": error.ref.to_json(),
                    "status": error.status,
                    "reason": error.reason,
                    "message": error.server_message,
                    "details": error.details,
                },
                objects=[o.to_json() for o in done],
                changed=any(o.changed for o in done),
            )
            return result
        except (KubeError, ValueError) as error:
            raise AnsibleActionFail(str(error)) from None

        changed = [o for o in outcomes if o.changed]
        result.update(
            changed=bool(changed),
            objects=[o.to_json() for o in outcomes],
            resources=[shown(o.live) for o in outcomes if o.live is not None],
        )
        if self._task.diff and changed:
            result["diff"] = [o.diff() for o in changed]
        if args["wait"] and not check_mode:
            self._wait(result, args, outcomes, kube, resources)
        result["requests"] = kube.requests
        return result

    def _wait(self, result: dict, args: dict, outcomes: list, kube, resources) -> None:
        by_kind_name = {(o.ref.kind, o.ref.name): o for o in outcomes}
        wanted = []
        for item in args["wait"]:
            outcome = by_kind_name.get((item.get("kind"), item.get("name")))
            if outcome is None:
                raise AnsibleActionFail(
                    f"wait names {item.get('kind')} {item.get('name')}, which is not in the applied set"
                )
            wanted.append((outcome.ref, item.get("condition", "exists")))
        known = {o.ref: o.live for o in outcomes if o.live is not None}
        started = time.monotonic()
        states = wait_for(kube, resources, wanted, args["wait_timeout"], known)
        result["waited_seconds"] = round(time.monotonic() - started, 2)
        result["waited"] = [
            dict(s["ref"].to_json(), condition=s["check"], state=s["state"], reason=s["reason"]) for s in states
        ]
        result["resources"] = [shown(s["object"]) for s in states if s["object"] is not None] + [
            r for r in result["resources"] if Ref.of(r) not in {s["ref"] for s in states}
        ]
        not_ready = [s for s in states if s["state"] != READY]
        if not_ready:
            verb = (
                "failed"
                if any(s["state"] == FAILED for s in not_ready)
                else f"was not ready within {args['wait_timeout']} s"
            )
            what = "; ".join(f"{s['ref'].label}: {s['reason']}" for s in not_ready)
            said = f"{args['msg']} " if args["msg"] else ""
            result.update(failed=True, msg=f"{said}An applied object {verb}: {what}.")
