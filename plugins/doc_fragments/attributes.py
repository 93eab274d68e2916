# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The attributes of the collection's modules and actions, documented once.

The descriptions are ansible.builtin.action_common_attributes' own, with the support the collection's modules
share, so that a module names homelab.mlflow.attributes in extends_documentation_fragment (and, for an action that
runs on the controller alone, homelab.mlflow.attributes.controller after it) instead of Ansible's fragments and a
block of attributes. A module states only what differs from these (for
example the details of check_mode, or diff_mode's support); its own keys override the fragment's.
"""

from __future__ import annotations


class ModuleDocFragment:
    # Every module and action of the collection: it reads or writes an API, on any platform, with no diff
    # unless it says otherwise.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target, if not
      supported the action will be skipped.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode
    support: none
  platform:
    description: Target OS/families that can be operated against
    support: N/A
    platforms: all
"""

    # An action that does all of its work on the controller (plugins/plugin_utils/controller_action.py): no
    # connection to the inventory host, no module, no become, no async. Named after homelab.mlflow.attributes
    # (ansible-test wants each section a literal, so this one cannot include the other).
    CONTROLLER = r"""
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on
      the controller
    support: full
  async:
    description: Supports being used with the C(async) keyword
    support: none
  become:
    description: Is usable alongside become keywords
    support: none
  bypass_host_loop:
    description:
      - Forces a 'global' task that does not execute per host, this bypasses per host templating and serial,
        throttle and other loop considerations
      - Conditionals will work as if C(run_once) is being used, variables used will be from the first available host
      - This action will not work normally outside of lockstep strategies
    support: none
  connection:
    description: Uses the target's configured connection information to execute code on it
    support: none
  delegation:
    description: Can be used in conjunction with delegate_to and related keywords
    support: none
"""
