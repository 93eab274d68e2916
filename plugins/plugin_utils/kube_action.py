# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the actions that talk to the target's Kubernetes API server (group homelab.mlflow.kubernetes).

A module of its own so that only these actions import the Kubernetes client.
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import Resources
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import connect, open_kube
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction


class KubeAction(ControllerAction):
    """A controller action whose options include the engine's connection (kubeconfig, context, apis)."""

    def open_cluster(self, args: dict, task_vars: dict) -> Kube:
        """A client of the target's API server, from the options kubeconfig and context or their variables; its
        requests name the task's action in their User-Agent."""
        return open_kube(args, task_vars, self._templar.template, self._task.action)

    def connect_cluster(self, args: dict, task_vars: dict) -> tuple[Kube, Resources]:
        """open_cluster, and the kinds the server serves: the option apis, else the run's discovery, else
        discovered now."""
        return connect(args, task_vars, self._templar.template, self._task.action)
