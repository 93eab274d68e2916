#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_verify
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.2.0
short_description: Read Kubernetes objects and wait until each is ready
description:
  - Reads each object of O(objects) and checks its condition, again every two seconds until every
    one is ready, one has failed (waiting longer cannot help), or O(timeout) has passed.
  - An object given in O(known) (for example the C(resources) of M(homelab.mlflow.k8s_apply)) is
    checked as given first, so an object that is ready already costs no request.
  - Read-only. In check mode it reads once and does not wait.
options:
  objects:
    description: The objects and what each must be.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: The object's apiVersion; when not set, the one group that serves the kind.
        type: str
      kind:
        description: The object's kind.
        type: str
        required: true
      name:
        description: The object's name.
        type: str
        required: true
      namespace:
        description: The object's namespace, when not O(namespace).
        type: str
      condition:
        description:
          - V(exists); V(absent); V(complete) (a Job; a failed Job fails at once); V(rolled_out) (a
            Deployment whose newest template runs on every wanted replica); V(bound) (a
            PersistentVolumeClaim); V(healthy) (a CloudNativePG Cluster in a healthy state with every
            instance ready); V(ready_condition) (an object whose C(Ready) condition is true);
            V(bound_at_size) (a PersistentVolumeClaim bound with at least the storage it requests, so a
            resize is done); V(basic_auth) (a Secret of type C(kubernetes.io/basic-auth) with the keys
            C(username) and C(password), values never read into the result); V(longhorn_usable) (a
            Longhorn Volume that is not faulted).
        type: str
        default: exists
        choices:
          - exists
          - absent
          - complete
          - rolled_out
          - bound
          - healthy
          - ready_condition
          - bound_at_size
          - basic_auth
          - longhorn_usable
      optional:
        description:
          - Whether the object may not exist; then there is nothing of it to check, and it counts as
            ready at once (for example a provisioner's record of a volume that only one provisioner keeps).
        type: bool
        default: false
      values:
        description:
          - For a Secret, the values some of its keys must hold, compared decoded. The Secret is read
            even when O(known) holds it; the result names a key that differs, never a value.
        type: dict
  namespace:
    description: The namespace of namespaced objects that do not name one.
    type: str
  timeout:
    description: Seconds to wait; V(0) reads once.
    type: int
    default: 300
  known:
    description: Objects already read, checked before any request.
    type: list
    elements: dict
    default: []
  fail:
    description: Whether an object that is not ready fails the task; V(false) only reports it.
    type: bool
    default: true
  msg:
    description: A sentence put before the failure message, saying what the wait was for.
    type: str
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
seealso:
  - module: homelab.mlflow.k8s_apply
"""

EXAMPLES = r"""
- name: Wait for MLflow's rollout
  homelab.mlflow.k8s_verify:
    namespace: "{{ mlflow_namespace }}"
    objects:
      - {kind: Deployment, name: mlflow, condition: rolled_out}
    known: "{{ applied.resources }}"
    timeout: 300
    msg: MLflow did not roll out.
"""

RETURN = r"""
ready:
  description: Whether every object is ready.
  returned: always
  type: bool
objects:
  description: Each object with its C(condition), C(state) (V(ready), V(waiting) or V(failed)) and C(reason).
  returned: always
  type: list
  elements: dict
resources:
  description: The objects as last read (Secret values hidden); objects that do not exist are left out.
  returned: always
  type: list
  elements: dict
requests:
  description: The requests the task sent, by HTTP method.
  returned: always
  type: dict
waited_seconds:
  description: Seconds spent reading and waiting.
  returned: always
  type: float
"""
