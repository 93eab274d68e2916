"""plugins/test/cidr.py: IPv4 and IPv6 CIDRs, and networks without host bits."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.test.cidr import TestModule, cidr


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("192.0.2.0/24", {}, True),
        ("192.0.2.10/24", {}, True),
        ("192.0.2.10/24", {"network": True}, False),
        ("fd00::1/64", {"network": True}, False),
        ("fd00::/64", {"network": True}, True),
        ("10.0.0.1", {}, False),
    ],
)
def test_cidr(value, kwargs, expected):
    assert cidr(value, **kwargs) is expected


def test_the_test_module_offers_it():
    assert TestModule().tests() == {"cidr": cidr}
