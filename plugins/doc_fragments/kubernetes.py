# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options of the collection's Kubernetes actions (group homelab.mlflow.kubernetes)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig file on the controller.
      - When not set, the value of the variable C(mlflow_kubeconfig); when that is not set either,
        C(K8S_AUTH_KUBECONFIG), C(KUBECONFIG), the pod's service account when running in a cluster,
        then C(~/.kube/config).
    type: path
  context:
    description:
      - The kubeconfig context. When not set, the variable C(mlflow_kube_context), then
        C(K8S_AUTH_CONTEXT), then the kubeconfig's current context.
    type: str
  apis:
    description:
      - The kinds the cluster serves, as M(homelab.mlflow.k8s_cluster_info) returns them in
        RV(homelab.mlflow.k8s_cluster_info#module:apis).
      - When not set, taken from the variable C(cluster_preflight_cluster_info) (registered once per run by
        the role C(homelab.mlflow.cluster_preflight)); when that is not set either, read from the cluster
        (two requests).
    type: dict
notes:
  - Runs on the controller and talks to the API server itself (no module is sent anywhere); every
    inventory host of the collection is a deployment target reached from the controller.
  - The playbooks set O(kubeconfig) and O(context) for the whole group, with the C(module_defaults)
    entry C(group/homelab.mlflow.kubernetes).
requirements:
  - kubernetes (the Kubernetes Python client) on the controller
"""
