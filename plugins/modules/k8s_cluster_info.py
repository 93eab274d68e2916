#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_cluster_info
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.2.0
short_description: Find a target's Kubernetes API server and read its version and kinds
description:
  - Finds the API server that the kubeconfig and context select, checks that it accepts connections
    within O(connect_timeout) seconds (the Kubernetes client itself has no connect timeout), and reads
    its version and every kind it serves - with aggregated discovery in two requests, or group by
    group from a server older than Kubernetes 1.30.
  - The role C(homelab.mlflow.cluster_preflight) registers the result as C(cluster_preflight_cluster_info);
    the collection's other Kubernetes actions take the kinds from it, so a run discovers once per target.
  - Every failure names the variable that fixes it (C(mlflow_kubeconfig), C(mlflow_kube_context)).
  - Read-only.
options:
  kubeconfig:
    description: As for the other actions of the group; see O(homelab.mlflow.k8s_apply#module:kubeconfig).
    type: path
  context:
    description: As for the other actions of the group; see O(homelab.mlflow.k8s_apply#module:context).
    type: str
  connect_timeout:
    description: Seconds to wait for the API server to accept a connection.
    type: int
    default: 10
  namespace:
    description: The deployment's namespace, named in RV(msg) beside the API server.
    type: str
extends_documentation_fragment:
  - homelab.mlflow.attributes
requirements:
  - kubernetes (the Kubernetes Python client) on the controller
"""

EXAMPLES = r"""
- name: Connect to the API server and read its version and APIs
  homelab.mlflow.k8s_cluster_info:
    connect_timeout: 5
  register: cluster_preflight_cluster_info
"""

RETURN = r"""
apis:
  description:
    - Every group version the server serves, then each kind with C(name) (its resource), C(namespaced),
      C(preferred), C(singular_name), C(short_names) and C(categories).
  returned: success
  type: dict
version:
  description: The server's version, under C(server.kubernetes) (C(gitVersion), C(major), C(minor), ...).
  returned: success
  type: dict
connection:
  description: The API server's address, under C(host).
  returned: success
  type: dict
server:
  description: The server address the kubeconfig selects.
  returned: when a kubeconfig is set
  type: str
context:
  description: The kubeconfig context used.
  returned: when a kubeconfig is set
  type: str
requests:
  description: The requests the task sent, by HTTP method.
  returned: success
  type: dict
msg:
  description:
    - The target in one line, such as
      C(Kubernetes v1.36.3 at https://127.0.0.1:6443 answers; target namespace mlflow.)
  returned: success
  type: str
"""
