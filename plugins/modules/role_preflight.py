#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: role_preflight
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Check what a role of homelab.mlflow needs from the cluster, before any role writes
description:
  - Read-only checks of one role of the collection against the target's cluster - the APIs and
    CustomResourceDefinitions its settings need, the StorageClass (present, and expandable where a volume
    grows), the nodes, changes existing objects cannot take (a volume that would shrink, another StorageClass,
    an older PostgreSQL major version), the owners of existing objects, the credentials Secret where it must be
    there - and fails once, with one line per problem, each naming the variable to fix and what is allowed.
  - Each role's C(tasks/preflight.yml) runs it; C(playbooks/site.yml) runs every role's preflight before the
    first write to the cluster.
  - The kinds the cluster serves come from the run's discovery (C(cluster_preflight_cluster_info), registered by
    P(homelab.mlflow.k8s_cluster_info#module) in the role homelab.mlflow.cluster_preflight), without a request;
    objects are read by name, a whole kind is listed only where every object of it counts (nodes, the kubernetes
    Service's endpoints). The cluster is contacted only when a check needs to read it.
  - The role's variables are templated when a check reads them, as P(homelab.mlflow.role_values#module) does.
  - Of a Secret only the type and which keys are set are looked at; no value is ever shown.
  - The task never changes anything. The checks are in the module_utils C(preflight), with unit tests.
options:
  role:
    description:
      - The role whose needs to check, by its short name.
    type: str
    required: true
    choices: [drift_cronjob, mlflow, namespace, networkpolicy, postgres, storage]
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    details: The same reads in check mode; a namespace that does not exist yet holds nothing to refuse.
  delegation:
    details: It looks at the variables of the host the task runs for, and the cluster of its kubeconfig context.
notes:
  - O(apis) is not discovered here - without it and without C(cluster_preflight_cluster_info), a role whose
    checks need the cluster's kinds fails with a message that says to run homelab.mlflow.cluster_preflight first.
"""

EXAMPLES = r"""
- name: Check what the artifact storage needs from the cluster
  homelab.mlflow.role_preflight:
    role: storage
"""

RETURN = r"""
variables:
  description:
    - The variables to fix, in the order the role's checks found them, each once; empty when every check
      passed. C(msg) says what is wrong with each and what is allowed, one line each.
  returned: always
  type: list
  elements: str
  sample: [storage_artifacts_storage_class]
requests:
  description: The requests sent to the API server, by method; empty when the checks needed none.
  returned: always
  type: dict
  sample: {GET: 2}
resources:
  description:
    - The objects the checks read by name and found, as read (without managedFields, a Secret's values hidden). The
      role's apply takes them as what is there (O(homelab.mlflow.k8s_apply#module:known)), rather than reading them
      again.
  returned: always
  type: list
  elements: dict
facts:
  description:
    - What the role's later tasks read from the registered result - C(storage_on_longhorn) of the role storage
      (whether the StorageClass is Longhorn's), and C(postgres_existing_scheduled_backup) of the role postgres (in
      C(resources) the ScheduledBackup as it is, or none).
  returned: when every check passed
  type: dict
  sample: {storage_on_longhorn: true}
"""
