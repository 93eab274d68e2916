"""plugins/module_utils/checks/values.py: variables read as Jinja's bool and int filters read them."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("yes", True),
        ("True", True),
        (1, True),
        ("on", True),
        (False, False),
        ("no", False),
        ("", False),
        (None, False),
        (0, False),
        ("maybe", False),
    ],
)
def test_as_bool(value, expected):
    assert values.as_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5), ("5", 5), (" 7 ", 7), ("2.9", 2), (2.9, 2), ("soon", 0), (None, 0), (-1, -1)]
)
def test_as_int(value, expected):
    assert values.as_int(value) == expected


def test_as_json_quotes_strings():
    assert values.as_json("20GB") == '"20GB"'
    assert values.as_json({"limits": {"memory": "1Gi"}}) == '{"limits": {"memory": "1Gi"}}'
