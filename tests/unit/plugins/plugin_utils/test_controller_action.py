"""plugins/plugin_utils/controller_action.py: every action that talks to its API itself runs on the controller,
with no connection to the inventory host; those that run a module keep Ansible's own base."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

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
