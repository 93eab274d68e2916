"""The order of playbooks/tasks/stack.yml (site.yml and drift.yml): every role's values first, with
nothing but checks of values, then every read-only check against the cluster, then the writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
STACK = yaml.safe_load((REPO / "playbooks" / "tasks" / "stack.yml").read_text())
ROLES_WITH_VALIDATE = sorted(path.parent.parent.name for path in (REPO / "roles").glob("*/tasks/validate.yml"))
# Tasks that look at values only: no module runs, nothing is read from the cluster (role_values is an
# action on the controller that reads the host's variables alone).
VALUE_ONLY = {
    "ansible.builtin.assert",
    "ansible.builtin.fail",
    "ansible.builtin.set_fact",
    "homelab.mlflow.role_values",
}


def steps() -> list[tuple[str, str]]:
    """(role, tasks_from) of every import in the stack, in order; ("*", "values") for the check of every
    role's values."""
    found = []
    for task in STACK:
        if "homelab.mlflow.role_values" in task:
            found.append(("*", "values"))
            continue
        imported = task["ansible.builtin.import_role"]
        found.append((imported["name"].removeprefix("homelab.mlflow."), imported.get("tasks_from", "main")))
    return found


def checked_roles() -> set[str]:
    """The roles whose values the stack's value check covers."""
    (task,) = [task for task in STACK if "homelab.mlflow.role_values" in task]
    return set(task["homelab.mlflow.role_values"]["roles"])


def flattened(tasks: list[dict]) -> list[dict]:
    found = []
    for task in tasks:
        found.append(task)
        for key in ("block", "rescue", "always"):
            found.extend(flattened(task.get(key, [])))
    return found


def test_every_role_with_value_checks_is_validated_before_the_cluster_is_contacted():
    order = steps()
    contact = order.index(("cluster_preflight", "connect"))

    assert order.index(("*", "values")) < contact
    assert checked_roles() >= set(ROLES_WITH_VALIDATE)


def test_the_value_check_covers_every_role_of_the_stack():
    imported = {role for role, _tasks_from in steps() if role != "*"}

    assert checked_roles() == imported


def test_every_preflight_runs_before_the_first_write():
    order = steps()
    first_apply = next(i for i, (_role, tasks_from) in enumerate(order) if tasks_from == "apply")
    preflights = [i for i, (_role, tasks_from) in enumerate(order) if tasks_from == "preflight"]

    assert preflights
    assert max(preflights) < first_apply
    assert min(preflights) > order.index(("cluster_preflight", "connect"))


@pytest.mark.parametrize("role", ROLES_WITH_VALIDATE)
def test_value_checks_only_look_at_values(role):
    tasks = flattened(yaml.safe_load((REPO / "roles" / role / "tasks" / "validate.yml").read_text()))
    # A task's action is its only key with a dot (a fully qualified name); keywords have none.
    modules = {key for task in tasks for key in task if "." in key}

    assert modules <= VALUE_ONLY, f"{role}: {sorted(modules - VALUE_ONLY)}"
