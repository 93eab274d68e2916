"""plugins/test/quantity.py: Kubernetes quantities, positive unless asked, milli unless a size."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.test.quantity import TestModule, quantity


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("20Gi", {}, True),
        ("0", {}, False),
        ("0", {"positive": False}, True),
        ("500m", {}, True),
        ("500m", {"milli": False}, False),
        ("20GB", {}, False),
        (-1, {"positive": False}, False),
    ],
)
def test_quantity(value, kwargs, expected):
    assert quantity(value, **kwargs) is expected


def test_the_test_module_offers_it():
    assert TestModule().tests() == {"quantity": quantity}
