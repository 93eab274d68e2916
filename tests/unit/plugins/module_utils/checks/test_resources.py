"""plugins/module_utils/checks/resources.py: requests and limits of quantities, with a memory limit."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import resources


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}, True),
        ({"limits": {"cpu": 1, "memory": "1Gi"}}, True),
        ({"requests": None, "limits": {"memory": "1Gi"}}, True),
        ({"limits": {"cpu": "1"}}, False),
        ({"limits": {"memory": "1 GB"}}, False),
        ({"limits": {"memory": "0Mi"}}, False),
        ({"limit": {"memory": "1Gi"}}, False),
        ({"limits": "1Gi"}, False),
        ("1Gi", False),
    ],
)
def test_is_bounded(value, expected):
    assert resources.is_bounded(value) is expected


def test_zero_is_a_quantity_unless_positive():
    assert resources.are_quantities({"limits": {"memory": "0"}}, positive=False)
    assert not resources.are_quantities({"limits": {"memory": "0"}})
