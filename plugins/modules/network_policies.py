#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: network_policies
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Compare a namespace's network policies that carry a role's labels with the declared ones
description:
  - Reads the policies of O(kinds) in O(namespace) that carry every label of O(labels) - one LIST per kind the
    cluster serves - or takes them from O(current), and compares them with O(declared).
  - Each declared policy must be there with exactly the declared C(spec); any other policy with the labels is
    stale (it may allow more than the declaration) and is returned in RV(stale), ready for the C(absent) of
    M(homelab.mlflow.k8s_apply).
  - Fails, naming each policy and what differs, unless O(fail) is false. Never changes anything.
  - C(homelab.mlflow.networkpolicy) finds the policies to remove with it before its apply, and verifies with it.
options:
  namespace:
    description: The namespace of the policies.
    type: str
    required: true
  declared:
    description: The policies as declared (rendered).
    type: list
    elements: dict
    required: true
  labels:
    description: The labels every policy of the role carries; policies without all of them are left alone.
    type: dict
    required: true
  kinds:
    description:
      - Each V({api_version, kind}) the role may have left policies of; kinds the cluster does not serve are
        skipped.
    type: list
    elements: dict
    required: true
  current:
    description:
      - The role's policies as they are now, for example the C(resources) of the apply of the same run, which
        applied every declared policy and removed the stale ones. When given, nothing is read.
    type: list
    elements: dict
  fail:
    description: Fail when a policy is missing, differs or is stale; V(false) only reports.
    type: bool
    default: true
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    details: It only reads.
"""

EXAMPLES = r"""
- name: Find the policies of the role's that the flow model no longer has
  homelab.mlflow.network_policies:
    namespace: mlflow
    declared: "{{ lookup('ansible.builtin.template', 'networkpolicy.yaml.j2') | ansible.builtin.from_yaml_all | list }}"
    labels: {app.kubernetes.io/component: networkpolicy, app.kubernetes.io/managed-by: homelab.mlflow}
    kinds:
      - {api_version: networking.k8s.io/v1, kind: NetworkPolicy}
      - {api_version: cilium.io/v2, kind: CiliumNetworkPolicy}
    fail: false
  register: found
"""

RETURN = r"""
policies:
  description: The role's policies as found (or as given in O(current)).
  returned: always
  type: list
  elements: dict
stale:
  description: The policies with the labels that are not declared, as V({apiVersion, kind, metadata.name}).
  returned: always
  type: list
  elements: dict
problems:
  description: One sentence per policy that is missing, differs or is stale.
  returned: always
  type: list
  elements: str
requests:
  description: The requests sent to the API server, by HTTP verb (none when O(current) was given).
  returned: always
  type: dict
"""
