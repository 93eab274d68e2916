# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: quantity_bytes
author: homelab.mlflow maintainers
version_added: 0.1.0
short_description: The number of bytes a Kubernetes quantity is
description:
  - Reads a Kubernetes quantity such as V(50Gi), V(500Mi), V(100G) or V(1.5Ti) - a decimal number with an
    optional binary (Ki, Mi, Gi, Ti, Pi, Ei) or decimal (k, M, G, T, P, E, m) suffix - and returns it in whole
    bytes, rounded up as Kubernetes does, so that two sizes compare exactly whatever their suffixes.
  - The exponent form (V(1e9)) is not read. Test a value first with P(homelab.mlflow.quantity#test).
  - The rules are in the module_utils C(checks.quantity), with unit tests.
positional: _input
options:
  _input:
    description: The quantity, as text (or a number).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse to shrink a claim
  ansible.builtin.assert:
    that:
      - wanted | homelab.mlflow.quantity_bytes >= live | homelab.mlflow.quantity_bytes
  vars:
    wanted: 50Gi
    live: 53687091200
"""

RETURN = r"""
_value:
  description: The size in bytes.
  type: int
  sample: 53687091200
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import to_bytes


def quantity_bytes(value) -> int:
    try:
        return to_bytes(value)
    except ValueError as err:
        raise AnsibleFilterError(f"quantity_bytes: {err}") from None


class FilterModule:
    """Filters of homelab.mlflow for Kubernetes quantities."""

    def filters(self):
        return {"quantity_bytes": quantity_bytes}
