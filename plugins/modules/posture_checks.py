#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: posture_checks
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Check the security posture of a deployment namespace
description:
  - Runs the checks that are asked for against the target's API server and fails once, with one sentence
    per problem that names the object, what it lacks and the setting that fixes it.
  - Reads only what the asked checks need - objects passed in O(known) (for example an apply's
    C(resources)) cost no request. Questions only the API server can answer are asked without writing
    anything - a pod is admitted or refused in a dry run (C(dryRun=All)), what an account may do is a
    C(LocalSubjectAccessReview).
  - Never changes anything. The rules are in the module_utils C(posture), with unit tests.
  - C(homelab.mlflow.posture) runs the namespace-wide checks, C(homelab.mlflow.namespace) and
    C(homelab.mlflow.drift_cronjob) the checks of what they apply.
options:
  namespace:
    description: The namespace to check.
    type: str
    required: true
  pod_security_level:
    description:
      - The namespace must exist, be active and enforce this PodSecurity level (label
        C(pod-security.kubernetes.io/enforce)).
    type: str
  refuses_privileged_pods:
    description:
      - The API server must refuse a privileged pod in the namespace (dry run), because PodSecurity admission
        is enforced.
    type: bool
    default: false
  default_service_account_without_token:
    description: The namespace's C(default) ServiceAccount must have C(automountServiceAccountToken) false.
    type: bool
    default: false
  limits:
    description:
      - The resources every container of the namespace's Deployments, StatefulSets, Jobs and CronJobs, and the
        CloudNativePG Clusters' instances, must have a limit of.
    type: list
    elements: str
    choices: [memory, cpu]
    default: []
  pinned_images:
    description: Every image of those workloads must have a tag other than C(latest), or a digest.
    type: bool
    default: false
  empty_dir_size_limits:
    description: Every emptyDir volume of those workloads' pods must have a C(sizeLimit).
    type: bool
    default: false
  default_deny:
    description: A network policy that must select every pod of the namespace and allow nothing, both ways.
    type: dict
    suboptions:
      api_version:
        description: Its apiVersion; found from O(default_deny.kind) when one API group serves it.
        type: str
      kind:
        description:
          - C(CiliumNetworkPolicy) or C(NetworkPolicy); V(auto) is Cilium's when the cluster serves
            C(cilium.io/v2) C(CiliumNetworkPolicy), else C(NetworkPolicy) (as homelab.mlflow.networkpolicy
            chooses it).
        type: str
        required: true
      name:
        description: Its name.
        type: str
        required: true
  as_declared:
    description:
      - Objects as declared (in the namespace unless they say otherwise) that must be there with every
        declared field.
    type: list
    elements: dict
    default: []
  admits_pods_of:
    description: Workloads whose pods the API server must admit (a pod of each one's template, in a dry run).
    type: list
    elements: dict
    default: []
    suboptions:
      api_version:
        description: Its apiVersion; found from the kind when one API group serves it.
        type: str
      kind:
        description: Deployment, StatefulSet, Job or CronJob.
        type: str
        required: true
      name:
        description: Its name.
        type: str
        required: true
  access:
    description: What an account must be allowed, and refused, in the namespace (the API server's access reviews).
    type: dict
    suboptions:
      user:
        description: The account, for example C(system:serviceaccount:mlflow:mlflow-drift).
        type: str
        required: true
      groups:
        description: Its groups.
        type: list
        elements: str
        default: []
      expect:
        description:
          - Each a dict with C(attributes), the C(resourceAttributes) of a review, and C(allowed), whether the
            API server must allow it.
        type: list
        elements: dict
        required: true
      hint:
        description: Appended to the message when an answer is not the expected one.
        type: str
        default: ""
  known:
    description: Objects already read in the run (an apply's or a verify's C(resources)); they are not read again.
    type: list
    elements: dict
    default: []
  variables:
    description:
      - The settings to cite in the messages, by check - V(pod_security_level), V(default_service_account), V(memory),
        V(cpu), V(empty_dir_size_limits), V(default_deny); an empty name cites none. The defaults are
        C(homelab.mlflow.posture)'s variables.
    type: dict
    default: {}
  msg:
    description: Put before the problems in the failure message.
    type: str
  fail:
    description: Fail when a check finds a problem; V(false) only reports them in RV(problems).
    type: bool
    default: true
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    details: The checks only read and dry-run, so they run in check mode as well.
"""

EXAMPLES = r"""
- name: Check the security posture
  homelab.mlflow.posture_checks:
    namespace: mlflow
    pod_security_level: restricted
    default_service_account_without_token: true
    limits: [memory]
    pinned_images: true
    empty_dir_size_limits: true
    default_deny: {kind: CiliumNetworkPolicy, name: mlflow-default-deny}
"""

RETURN = r"""
problems:
  description: One sentence per problem found; empty when every check passed.
  returned: always
  type: list
  elements: str
resources:
  description: The objects the checks read (or took from O(known)), Secret values hidden.
  returned: always
  type: list
  elements: dict
requests:
  description: The requests sent to the API server, by HTTP verb.
  returned: success
  type: dict
  sample: {GET: 2, POST: 1}
"""
