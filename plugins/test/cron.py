# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cron
author: homelab.mlflow maintainers
version_added: 0.1.0
short_description: Is the value a cron schedule
description:
  - True for a cron schedule as Kubernetes CronJobs and Longhorn's RecurringJobs read it - five fields (minute
    hour day-of-month month day-of-week), each V(*) or V(?), values, ranges (V(a-b)) and steps (V(/n)),
    comma-separated, within the field's range; month and day-of-week also by name (V(JAN), V(MON)).
  - O(seconds=true) wants six fields, seconds first, as CloudNativePG reads them.
  - The rules are in the module_utils C(checks.schedule), with unit tests.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  seconds:
    description: Six fields, the seconds first.
    type: bool
    default: false
  macros:
    description: Also V(@hourly), V(@daily), V(@weekly), V(@monthly), V(@yearly) (V(@annually)) and V(@midnight).
    type: bool
    default: false
  every:
    description: Also V(@every) and a duration, such as V(@every 1h30m).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check a CronJob's schedule
  ansible.builtin.assert:
    that:
      - schedule is homelab.mlflow.cron(macros=true)
  vars:
    schedule: 7 * * * *
"""

RETURN = r"""
_value:
  description: Whether the value is such a schedule.
  type: bool
"""

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.schedule import is_cron


def cron(value, seconds=False, macros=False, every=False) -> bool:
    return is_cron(value, seconds=seconds, macros=macros, every=every)


class TestModule:
    """Tests of homelab.mlflow for schedules."""

    def tests(self):
        return {"cron": cron}
