# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: host_cidr
author: homelab.mlflow maintainers
version_added: 0.1.0
short_description: The CIDR of one IP address
description:
  - Returns the CIDR that holds the address alone - V(/32) added to an IPv4 address, V(/128) to an IPv6
    address (written in its compressed form) - as a NetworkPolicy's ipBlock takes it.
  - The rules are in the module_utils C(checks.network), with unit tests.
positional: _input
options:
  _input:
    description: An IPv4 or IPv6 address, without a prefix length.
    type: string
    required: true
"""

EXAMPLES = r"""
- name: Show the API server's addresses as CIDRs
  ansible.builtin.debug:
    msg: "{{ ['192.0.2.7', 'fd00::10'] | map('homelab.mlflow.host_cidr') | list }}"
    # => ["192.0.2.7/32", "fd00::10/128"]
"""

RETURN = r"""
_value:
  description: The address with the prefix length of one address.
  type: string
  sample: 192.0.2.7/32
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.network import host_cidr as _host_cidr


def host_cidr(address) -> str:
    try:
        return _host_cidr(str(address))
    except ValueError as err:
        raise AnsibleFilterError(f"host_cidr: {err}") from None


class FilterModule:
    """Filters of homelab.mlflow for network addresses."""

    def filters(self):
        return {"host_cidr": host_cidr}
