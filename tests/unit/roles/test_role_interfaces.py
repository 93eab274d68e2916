"""Every role's interface is complete: defaults and argument_specs agree. Its documentation is generated from
argument_specs (make docs; tests/unit/tools/docs/test_generate_reference.py proves the pages current)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES = sorted(path.parent.parent.name for path in (REPO / "roles").glob("*/meta/argument_specs.yml"))


def argument_specs(role: str) -> dict:
    return yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def defaults(role: str) -> dict:
    path = REPO / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_an_option_with_the_same_default(role):
    options = argument_specs(role)["main"]["options"]

    for name, value in defaults(role).items():
        assert name in options, f"{role}: {name} has a default but no argument_specs entry"
        if value is not None and "{{" not in str(value):
            assert options[name].get("default") == value, f"{role}: {name} defaults differ"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_has_a_type_and_a_description(role):
    for entry_point, spec in argument_specs(role).items():
        for name, option in spec.get("options", {}).items():
            assert option.get("type"), f"{role} {entry_point}: {name} has no type"
            assert option.get("description"), f"{role} {entry_point}: {name} has no description"


@pytest.mark.parametrize("role", ROLES)
def test_only_main_is_an_entry_point(role):
    """homelab.mlflow.role_values checks every role's values against entry point `main`, once per run: a
    further entry point would make Ansible validate the same variables again in a task of its own."""
    assert list(argument_specs(role)) == ["main"]
