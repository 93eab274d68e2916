"""plugins/test/dns_label.py: DNS-1123 labels, at most max_length characters."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.test.dns_label import TestModule, dns_label


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("mlflow", {}, True),
        ("a" * 63, {}, True),
        ("a" * 64, {}, False),
        ("", {}, False),
        ("a" * 53, {"max_length": 52}, False),
    ],
)
def test_dns_label(value, kwargs, expected):
    assert dns_label(value, **kwargs) is expected


def test_the_test_module_offers_it():
    assert TestModule().tests() == {"dns_label": dns_label}
