"""plugins/module_utils/checks/network.py: CIDRs (IPv4 and IPv6), host bits, and ports."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import network


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.0.2.0/24", True),
        ("192.168.1.10/32", True),
        ("0.0.0.0/0", True),
        ("fd00::10/128", True),
        ("2001:db8::/32", True),
        ("10.0.0.1", False),
        ("10.0.0.0/33", False),
        ("fd00::/129", False),
        ("256.0.0.0/8", False),
        ("10.0.0.0/255.0.0.0", False),
        ("10.0.0.0/", False),
        ("fd00:::1/64", False),
        ("", False),
        (None, False),
    ],
)
def test_is_cidr(value, expected):
    assert network.is_cidr(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.96.0.1/12", True),
        ("10.96.0.0/12", False),
        ("192.0.2.10/32", False),
        ("fd00::1/64", True),
        ("fd00::/64", False),
        ("not-a-cidr", False),
    ],
)
def test_has_host_bits(value, expected):
    assert network.has_host_bits(value) is expected


def test_network_of_clears_the_host_bits():
    assert str(network.network_of("10.96.0.1/12")) == "10.96.0.0/12"


@pytest.mark.parametrize(("address", "expected"), [("198.51.100.7", "198.51.100.7/32"), ("fd00:0::10", "fd00::10/128")])
def test_host_cidr(address, expected):
    assert network.host_cidr(address) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, True),
        (443, True),
        ("6443", True),
        (65535, True),
        (0, False),
        (65536, False),
        (-1, False),
        ("x", False),
        (True, False),
        (443.0, False),
        (None, False),
    ],
)
def test_is_port(value, expected):
    assert network.is_port(value) is expected
