"""plugins/plugin_utils/controller_action.py: every action that talks to its API itself runs on the controller,
with no connection to the inventory host; those that run a module keep Ansible's own base."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import ClassVar

import pytest
from action_harness import build
from ansible.errors import AnsibleActionFail

ACTIONS = Path(__file__).resolve().parents[4] / "plugins" / "action"
PACKAGE = "ansible_collections.homelab.mlflow.plugins"
ControllerAction = importlib.import_module(f"{PACKAGE}.plugin_utils.controller_action").ControllerAction


@pytest.mark.parametrize("path", sorted(ACTIONS.glob("*.py")), ids=lambda path: path.stem)
def test_actions_without_a_module_run_on_the_controller(path):
    action = importlib.import_module(f"{PACKAGE}.action.{path.stem}").ActionModule
    runs_a_module = "_execute_module(" in path.read_text()

    assert issubclass(action, ControllerAction) is not runs_a_module
    assert action._requires_connection is runs_a_module
    assert action.TRANSFERS_FILES is False


class Echo(ControllerAction):
    """The smallest action: returns what begin() gave it."""

    SPEC: ClassVar[dict] = {"name": {"type": "str", "required": True}, "size": {"type": "int", "default": 3}}

    def run(self, tmp=None, task_vars=None):
        result, task_vars, args = self.begin(tmp, task_vars, self.SPEC, mutually_exclusive=[("name", "size")])
        return dict(result, task_vars=task_vars, args=args)


def test_begin_gives_the_result_so_far_the_variables_and_the_checked_arguments():
    ran = build(Echo, "homelab.mlflow.echo", {"name": "mlflow"}).run(task_vars=None)

    assert ran["args"] == {"name": "mlflow", "size": 3}
    assert ran["task_vars"] == {}
    assert not ran.get("failed")
    assert build(Echo, "homelab.mlflow.echo", {"name": "a"}).run(task_vars={"x": 1})["task_vars"] == {"x": 1}


@pytest.mark.parametrize(
    ("args", "named"),
    [({}, "name"), ({"name": "a", "size": "big"}, "size"), ({"name": "a", "colour": "red"}, "colour")],
    ids=["missing", "wrong type", "unknown"],
)
def test_begin_fails_on_a_bad_argument_naming_it(args, named):
    with pytest.raises(AnsibleActionFail) as failure:
        build(Echo, "homelab.mlflow.echo", args).run(task_vars={})
    assert named in str(failure.value)


def test_begin_applies_the_rules_it_is_given():
    with pytest.raises(AnsibleActionFail, match="mutually exclusive"):
        build(Echo, "homelab.mlflow.echo", {"name": "a", "size": 4}).run(task_vars={})
