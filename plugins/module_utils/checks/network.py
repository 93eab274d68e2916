# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CIDRs and ports, as a NetworkPolicy takes them (IPv4 and IPv6, by Python's ipaddress)."""

from __future__ import annotations

import ipaddress
import re

_PORT = re.compile(r"[0-9]{1,5}")
_PREFIX = re.compile(r"[0-9]{1,3}")


def network_of(value) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network a CIDR (address/prefix length) names, host bits cleared; None when it is not a CIDR."""
    # The prefix length as a number: ipaddress would also take a netmask (10.0.0.0/255.0.0.0).
    if not isinstance(value, str) or not _PREFIX.fullmatch(value.rpartition("/")[2]):
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def is_cidr(value) -> bool:
    """An IPv4 or IPv6 address with a prefix length, such as 192.0.2.0/24 or fd00::10/128."""
    return network_of(value) is not None


def has_host_bits(value) -> bool:
    """A CIDR whose address has bits set beyond its prefix length (192.0.2.10/24), which the API server refuses."""
    network = network_of(value)
    return network is not None and network.network_address != ipaddress.ip_address(value.rpartition("/")[0])


def host_cidr(address: str) -> str:
    """The CIDR of one address: /32 for IPv4, /128 for IPv6."""
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def is_port(value) -> bool:
    """A port number from 1 to 65535, as a number or its digits."""
    if isinstance(value, bool):
        return False
    text = str(value) if isinstance(value, (int, str)) else ""
    return _PORT.fullmatch(text) is not None and 1 <= int(text) <= 65535
