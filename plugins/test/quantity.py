# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: quantity
author: homelab.mlflow maintainers
version_added: 0.1.0
short_description: Is the value a Kubernetes quantity
description:
  - True for a Kubernetes quantity as the roles accept it - a decimal number with an optional binary (Ki, Mi,
    Gi, Ti, Pi, Ei) or decimal (k, M, G, T, P, E, m) suffix, such as V(50Gi), V(100m) or V(1.5) - and above
    zero unless O(positive=false). Numbers count as their text; the exponent form (V(1e9)) does not.
  - The rules are in the module_utils C(checks.quantity), with unit tests.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  positive:
    description: Only quantities above zero.
    type: bool
    default: true
  milli:
    description: Allow the suffix V(m) (thousandths, for CPU); V(false) for sizes.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Compare sizes only when both can be read
  ansible.builtin.debug:
    msg: "{{ live is homelab.mlflow.quantity(positive=false, milli=false) }}"
  vars:
    live: 20Gi
"""

RETURN = r"""
_value:
  description: Whether the value is such a quantity.
  type: bool
"""

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import is_quantity


def quantity(value, positive=True, milli=True) -> bool:
    return is_quantity(value, positive=positive, milli=milli)


class TestModule:
    """Tests of homelab.mlflow for Kubernetes quantities."""

    def tests(self):
        return {"quantity": quantity}
