# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cidr
author: homelab.mlflow maintainers
version_added: 0.1.0
short_description: Is the value a CIDR (IPv4 or IPv6)
description:
  - True for an IPv4 or IPv6 address with a prefix length, such as V(192.0.2.0/24) or V(fd00::10/128).
  - With O(network=true), only when no address bits are set beyond the prefix length (V(192.0.2.10/24) is not
    a network), which the Kubernetes API server refuses in a NetworkPolicy.
  - The rules are in the module_utils C(checks.network), with unit tests.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  network:
    description: Only CIDRs that name a network (no host bits set).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check the API server's addresses
  ansible.builtin.assert:
    that:
      - api_server_cidrs | reject('homelab.mlflow.cidr', network=true) | list | length == 0
  vars:
    api_server_cidrs: [192.168.1.10/32, fd00::10/128]
"""

RETURN = r"""
_value:
  description: Whether the value is such a CIDR.
  type: bool
"""

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.network import has_host_bits, is_cidr


def cidr(value, network=False) -> bool:
    return is_cidr(value) and not (network and has_host_bits(value))


class TestModule:
    """Tests of homelab.mlflow for network addresses."""

    def tests(self):
        return {"cidr": cidr}
