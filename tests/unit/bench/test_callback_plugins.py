"""bench/callback_plugins: Ansible reads every callback's DOCUMENTATION when a run starts, so a bad one stops
every benchmarked run before its first task."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

CALLBACKS = sorted((Path(__file__).resolve().parents[3] / "bench" / "callback_plugins").glob("*.py"))


def documentation(path):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path.name} has no DOCUMENTATION")


@pytest.mark.parametrize("path", CALLBACKS, ids=lambda path: path.stem)
def test_documentation_is_yaml_naming_the_callback(path):
    assert documentation(path)["name"] == path.stem
