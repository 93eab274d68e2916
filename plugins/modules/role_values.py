#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: role_values
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Check the values of a role of homelab.mlflow before the cluster is contacted
description:
  - Checks what C(meta/argument_specs.yml) cannot say about the variables of one role of the collection -
    names Kubernetes and PostgreSQL accept, Kubernetes quantities, CIDRs and ports, cron schedules, image
    references, and how the values fit together - and fails once, with one line per value that cannot be used,
    each naming the variable and what is allowed.
  - Each role's C(tasks/validate.yml) runs it; C(playbooks/site.yml) and C(playbooks/drift.yml) run every
    role's validate before the cluster is contacted.
  - The role's variables are read from the host's variables and templated when a rule reads them, so a value
    that comes from a lookup is only looked up when it is needed.
  - Secret values (such as C(postgres_password), C(authentik_token), the 1Password tokens) are only checked
    for being set or empty, and never shown.
  - Nothing is contacted, and the task never changes anything. The rules are in the module_utils
    C(checks), with unit tests.
options:
  role:
    description:
      - The role whose values to check, by its short name.
      - One of O(role) and O(roles) is required.
    type: str
    choices: [authentik, cluster_preflight, drift_cronjob, mlflow, namespace, networkpolicy, postgres, storage]
  roles:
    description:
      - Several roles, by their short names, of which those the run's tags select are checked (a role's tasks
        carry its name and, for its checks, V(preflight); C(cluster_preflight) is always selected). One failure
        then lists every bad value of every selected role.
      - C(playbooks/site.yml), C(playbooks/drift.yml) and C(playbooks/verify.yml) check every role this way,
        in one task, before the cluster is contacted.
    type: list
    elements: str
  arguments:
    description:
      - Also check each role's variables against the entry point C(main) of its C(meta/argument_specs.yml)
        (types, choices), with Ansible's own validator, as a role's argument validation does.
    type: bool
    default: true
extends_documentation_fragment:
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  delegation:
    details: It looks at the variables of the host the task runs for.
notes:
  - The variables a role reads from other roles (such as C(mlflow_namespace)) have defaults in the role, so it
    can run alone.
"""

EXAMPLES = r"""
- name: Check the values
  homelab.mlflow.role_values:
    role: storage

- name: Check the values of every role the run's tags select
  homelab.mlflow.role_values:
    roles: [cluster_preflight, namespace, postgres, storage, mlflow]
  tags: [always]
"""

RETURN = r"""
variables:
  description:
    - The variables whose values cannot be used, in the order the role's rules check them, each once; empty
      when every value can be used. C(msg) says what is wrong with each and what is allowed, one line each.
  returned: always
  type: list
  elements: str
  sample: [storage_artifacts_size, storage_recurring_jobs]
roles:
  description: The roles whose values were checked.
  returned: always
  type: list
  elements: str
  sample: [cluster_preflight, mlflow]
"""
