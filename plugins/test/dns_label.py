# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: dns_label
author: homelab.mlflow maintainers
version_added: 0.1.0
short_description: Is the value a DNS-1123 label (a namespace's name)
description:
  - True for a DNS-1123 label - lower-case letters, digits and V(-), starting and ending with a letter or digit,
    at most O(max_length) characters - as Kubernetes wants for a namespace's name and many others.
  - The rules are in the module_utils C(checks.names), with unit tests.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  max_length:
    description: The most characters allowed (lower where Kubernetes derives longer names from it).
    type: int
    default: 63
"""

EXAMPLES = r"""
- name: Check a CronJob's name
  ansible.builtin.assert:
    that:
      - cronjob_name is homelab.mlflow.dns_label(max_length=52)
  vars:
    cronjob_name: mlflow-drift
"""

RETURN = r"""
_value:
  description: Whether the value is such a label.
  type: bool
"""

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import is_dns_label


def dns_label(value, max_length=63) -> bool:
    return is_dns_label(value, max_length=max_length)


class TestModule:
    """Tests of homelab.mlflow for Kubernetes names."""

    def tests(self):
        return {"dns_label": dns_label}
