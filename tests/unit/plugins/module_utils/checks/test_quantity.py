"""plugins/module_utils/checks/quantity.py: Kubernetes quantities, exact, with binary and decimal suffixes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import quantity


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50Gi", 50 * 1024**3),
        ("500Mi", 500 * 1024**2),
        ("100G", 100 * 10**9),
        ("1.5Ti", 3 * 1024**4 // 2),
        ("0.5Gi", 1024**3 // 2),
        ("1k", 1000),
        ("1Ei", 1024**6),
        ("100m", Fraction(1, 10)),
        ("1", 1),
        (2, 2),
        (0.5, Fraction(1, 2)),
        ("0", 0),
        ("01Gi", 1024**3),
    ],
)
def test_parse_reads_the_value(value, expected):
    assert quantity.parse(value) == expected


@pytest.mark.parametrize(
    "value", ["", "1 Gi", "50GB", "1e3", "-1Gi", "+1Gi", "Gi", "1.", ".5", "1.5.1", "lots", None, True, [], {"a": 1}]
)
def test_parse_refuses_what_is_not_a_quantity(value):
    assert quantity.parse(value) is None


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("1Gi", {}, True),
        ("0", {}, False),
        ("0Gi", {}, False),
        ("0.0", {}, False),
        ("0", {"positive": False}, True),
        ("100m", {}, True),
        ("100m", {"milli": False}, False),
        ("0.001", {}, True),
    ],
)
def test_is_quantity_follows_positive_and_milli(value, kwargs, expected):
    assert quantity.is_quantity(value, **kwargs) is expected


@pytest.mark.parametrize(("value", "expected"), [("20Gi", True), ("0Gi", False), ("500m", False), ("20GB", False)])
def test_a_size_is_positive_without_milli(value, expected):
    assert quantity.is_size(value) is expected


def test_to_bytes_rounds_up_and_compares_across_suffixes():
    assert quantity.to_bytes("1.5") == 2
    assert quantity.to_bytes("1Gi") > quantity.to_bytes("1G")
    assert quantity.to_bytes("1024Mi") == quantity.to_bytes("1Gi")


def test_to_bytes_refuses_what_is_not_a_quantity():
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity.to_bytes("20GB")
