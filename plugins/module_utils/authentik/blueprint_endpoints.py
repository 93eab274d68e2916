# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The blueprint endpoints of Authentik's API: blueprint instances and the tasks that apply them.

Authentik applies a blueprint in a background task: `POST .../apply/` only queues it. The task
(`authentik.blueprints.v1.tasks.apply_blueprint`, related to the instance) is followed through
the tasks API, which also holds the task's log lines; the instance's `status`, `last_applied`
and `last_applied_hash` (sha512 of the content) say how it ended.
"""

from __future__ import annotations

import time

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik import sdk
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_state import (
    BLUEPRINT_FINAL_STATUSES,
    STATUS_SUCCESSFUL,
    instance_status,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError

# The blueprint task and the values the tasks API knows it by.
APPLY_ACTOR = "authentik.blueprints.v1.tasks.apply_blueprint"
BLUEPRINT_APP_LABEL = "authentik_blueprints"
BLUEPRINT_MODEL = "blueprintinstance"
# TaskAggregatedStatusEnum values of a task that has ended (the others are queued or running).
TASK_FINAL_STATUSES = frozenset(("rejected", "done", "info", "warning", "error"))


class BlueprintEndpoints:
    """Blueprint instances and their apply tasks; mixed into AuthentikClient, which gives `call`,
    `managed` (ManagedApi) and `tasks` (TasksApi)."""

    def check_access(self):
        """Prove the host answers and the token may read blueprint instances (a one-item list)."""
        self.call("list blueprint instances", self.managed.managed_blueprints_list, page_size=1)

    def find_blueprint(self, name):
        """The BlueprintInstance called `name`, or None."""
        page = self.call(
            f"find blueprint instance {name!r}", self.managed.managed_blueprints_list, name=name, page_size=100
        )
        for instance in page.results:
            if instance.name == name:
                return instance
        return None

    def blueprints(self):
        """Every BlueprintInstance, all pages."""
        found, page = [], 1
        while page:
            answer = self.call(
                "list blueprint instances", self.managed.managed_blueprints_list, page=page, page_size=100
            )
            found.extend(answer.results)
            page = answer.pagination.next if answer.pagination else 0
        return found

    def get_blueprint(self, pk):
        try:
            return self.call(f"read blueprint instance {pk}", self.managed.managed_blueprints_retrieve, pk)
        except AuthentikError as err:
            if err.status == 404:
                return None
            raise

    def create_blueprint(self, name, content, context, enabled):
        request = sdk.BlueprintInstanceRequest(name=name, path="", content=content, context=context, enabled=enabled)
        what = f"create blueprint instance {name!r}"
        try:
            return self.call(what, self.managed.managed_blueprints_create, request)
        except AuthentikError as err:
            # A try that timed out may have created it after all: then the retry is refused
            # as a duplicate, and the instance is there to use.
            if err.status == 400:
                existing = self.find_blueprint(name)
                if existing is not None and existing.content == content:
                    return existing
            raise

    def update_blueprint(self, pk, name, content, context, enabled):
        # PUT with every field: Authentik refuses a partial update that leaves out content.
        request = sdk.BlueprintInstanceRequest(name=name, path="", content=content, context=context, enabled=enabled)
        return self.call(f"update blueprint instance {name!r}", self.managed.managed_blueprints_update, pk, request)

    def delete_blueprint(self, pk, name):
        try:
            self.call(f"delete blueprint instance {name!r}", self.managed.managed_blueprints_destroy, pk)
        except AuthentikError as err:
            if err.status != 404:
                raise

    def apply_blueprint(self, pk, name):
        """Queue the apply task; Authentik answers with the instance as it was before."""
        return self.call(f"apply blueprint {name!r}", self.managed.managed_blueprints_apply_create, pk)

    def blueprint_tasks(self, pk):
        """The apply tasks of a blueprint instance, newest first; None if the token may not see tasks."""
        try:
            page = self.call(
                "list the blueprint's apply tasks",
                self.tasks.tasks_tasks_list,
                actor_name=APPLY_ACTOR,
                rel_obj_content_type__app_label=BLUEPRINT_APP_LABEL,
                rel_obj_content_type__model=BLUEPRINT_MODEL,
                rel_obj_id=str(pk),
                ordering="-mtime",
                page_size=20,
            )
        except AuthentikError as err:
            if err.status == 403:
                return None
            raise
        return list(page.results)

    def apply_and_wait(self, instance, wait=True, timeout=120.0, interval=1.0):
        """Apply a blueprint instance and wait until Authentik has finished applying it.

        Returns (instance, log lines). Raises AuthentikError, with Authentik's log lines, when
        the apply ends in any status but `successful` or does not end within `timeout`.
        """
        name, pk = instance.name, instance.pk
        tasks_before = self.blueprint_tasks(pk)
        # Tasks that had ended before this apply cannot be its task; one still queued may be,
        # when Authentik folds the new request into it.
        finished_before = {t.message_id for t in tasks_before or [] if _task_status(t) in TASK_FINAL_STATUSES}
        self.apply_blueprint(pk, name)
        if not wait:
            return self.get_blueprint(pk) or instance, []

        deadline = time.monotonic() + timeout
        task = None
        while True:
            current = self.get_blueprint(pk)
            if current is None:
                raise AuthentikError(f"blueprint instance {name!r} disappeared while Authentik applied it")
            if tasks_before is not None:
                task = _newest_task(self.blueprint_tasks(pk) or [], finished_before)
                if task is not None and _task_status(task) in TASK_FINAL_STATUSES:
                    # The worker saves the instance before it marks the task done: read it again.
                    current = self.get_blueprint(pk) or current
                    break
            # The worker saves the instance (last_applied is auto_now) when it is done with it, but
            # before it has written the task's log: while the task is visible, wait for the task.
            saved = current.last_applied != instance.last_applied or (
                current.status != instance.status and current.status in BLUEPRINT_FINAL_STATUSES
            )
            if saved and task is None:
                break
            if time.monotonic() >= deadline:
                raise AuthentikError(
                    f"Authentik did not finish applying blueprint {name!r} within {timeout:g} s "
                    f"(status {instance_status(current)}, task {_task_state(task, tasks_before)}). "
                    "Is its worker running? Raise wait_timeout if it is just slow.",
                    log=_task_log(task),
                    blueprint=current,
                )
            self._sleep(interval)

        log = _task_log(task)
        if instance_status(current) != STATUS_SUCCESSFUL or (task is not None and _task_status(task) == "rejected"):
            if log:
                detail = "Authentik's log of the apply task:\n" + "\n".join(f"  {line}" for line in log)
            elif tasks_before is None:
                detail = (
                    "Authentik's log of the apply task is not readable with this token (no permission to view tasks)."
                )
            else:
                detail = "Authentik logged nothing for the apply task."
            raise AuthentikError(
                f"Authentik could not apply blueprint {name!r}: status {instance_status(current)}"
                f"{', task ' + _task_status(task) if task is not None else ''}. {detail}",
                log=log,
                blueprint=current,
            )
        return current, log


def _task_status(task):
    status = getattr(task, "aggregated_status", None)
    return getattr(status, "value", status)


def _task_state(task, tasks_before):
    if tasks_before is None:
        return "not visible to this token"
    if task is None:
        return "not started"
    return _task_status(task)


def _newest_task(tasks, finished_before):
    for task in tasks:
        if task.message_id not in finished_before:
            return task
    return None


def _task_log(task):
    if task is None:
        return []
    lines = []
    for event in task.logs or []:
        level = getattr(event.log_level, "value", event.log_level)
        lines.append(f"{level}: {event.event}")
    return lines
