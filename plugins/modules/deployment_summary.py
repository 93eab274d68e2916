#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_summary
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Sum up what a run of homelab.mlflow deployed and where, and which checks ran
description:
  - Builds the lines that end C(playbooks/site.yml) and C(playbooks/verify.yml) - the namespace and
    its cluster, the network policies, the PostgreSQL cluster, the artifacts claim, MLflow's
    addresses, the single sign-on and MLflow's HTTP API - from the role variables and the results
    the roles' verify tasks registered (C(networkpolicy_verify_policies), C(postgres_verify_cluster),
    C(storage_verify_claim), C(authentik_verify_info), C(authentik_verify_login)).
  - For each check it says whether it ran, and when it did not, why - its tags were not selected,
    check mode, or the variable that turns it off (C(mlflow_verify_http), C(authentik_verify_http)) -
    so that nothing is called verified that was not.
  - Sends no request to the cluster, Authentik or MLflow, and never changes anything.
options: {}
extends_documentation_fragment:
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    details: Says that the checks did not run in check mode.
"""

EXAMPLES = r"""
- name: Sum up what is deployed and where
  homelab.mlflow.deployment_summary:
  tags: [always]
"""

RETURN = r"""
msg:
  description: The lines of the summary, shown as debug shows its message.
  returned: always
  type: list
  elements: str
  sample:
    - Namespace mlflow (PodSecurity restricted) on https://127.0.0.1:6443
    - "Network policies: not verified (tags not selected)"
    - HTTP API not checked (mlflow_verify_http is false)
"""
