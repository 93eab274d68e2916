# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: concise
type: stdout
short_description: Ansible's default output without the unchanged tasks - what changed, what failed, and the summary
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - The default stdout callback with O(display_ok_hosts) and O(display_skipped_hosts) off by default,
    so a run prints the tasks that changed something (with their diff under C(--diff)), failures,
    warnings and the recap, instead of a line for each of its tasks.
  - Messages meant to be read are still shown, as with C(-v) - C(ansible.builtin.debug) and the summary
    that C(homelab.mlflow.deployment_summary) ends C(site.yml) with.
  - C(make demo) uses it. Select it with C(ANSIBLE_STDOUT_CALLBACK=homelab.mlflow.concise), or
    C(stdout_callback) in C(ansible.cfg).
extends_documentation_fragment:
  - default_callback
  - result_format_callback
options:
  display_ok_hosts:
    default: false
  display_skipped_hosts:
    default: false
"""

from ansible.plugins.callback.default import CallbackModule as DefaultCallback


class CallbackModule(DefaultCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "homelab.mlflow.concise"

    def v2_runner_on_ok(self, result) -> None:
        # A result that asks to be shown without -v (debug's msg, the deployment summary) is shown
        # even though unchanged results are not.
        shown = result.result.get("_ansible_verbose_always") is True and not result.result.get("changed", False)
        if not shown or self.get_option("display_ok_hosts"):
            super().v2_runner_on_ok(result)
            return
        self.set_option("display_ok_hosts", True)
        try:
            super().v2_runner_on_ok(result)
        finally:
            self.set_option("display_ok_hosts", False)
