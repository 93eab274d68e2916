"""plugins/filter/host_cidr.py: the CIDR of one address."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mlflow.plugins.filter.host_cidr import FilterModule, host_cidr


@pytest.mark.parametrize(
    ("address", "expected"), [("198.51.100.7", "198.51.100.7/32"), ("fd00:0:0::10", "fd00::10/128")]
)
def test_host_cidr(address, expected):
    assert host_cidr(address) == expected


@pytest.mark.parametrize("address", ["10.0.0.0/8", "host.example.com", ""])
def test_not_an_address_is_an_error(address):
    with pytest.raises(AnsibleFilterError, match="host_cidr"):
        host_cidr(address)


def test_the_filter_module_offers_it():
    assert FilterModule().filters() == {"host_cidr": host_cidr}
