#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: mlflow_upgrade_backup
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Back up the MLflow database with CloudNativePG before an upgrade migrates it
description:
  - Takes an on-demand CloudNativePG C(Backup) (C(postgresql.cnpg.io/v1)) of the database cluster, with the
    given method, and waits until its C(status.phase) is C(completed).
  - A completed Backup of that name is kept as it is (a second run changes nothing); one still running is
    waited for; a failed one is replaced by a new one.
  - Fails when the Backup fails or does not complete within O(timeout), naming the Backup, its phase and
    error, and how to go on; the tasks after it (the migration) then do not run.
  - In check mode nothing is written and nothing waited for; a new Backup is dry-run by the API server, and
    the diff shows it.
options:
  name:
    description: Name of the Backup.
    type: str
    required: true
  namespace:
    description: Namespace of the Backup and of the database cluster.
    type: str
    required: true
  cluster:
    description: Name of the CloudNativePG C(Cluster) to back up.
    type: str
    required: true
  release:
    description: The MLflow release the upgrade goes to, for the messages.
    type: str
    required: true
  method:
    description: The Backup's C(spec.method); the Cluster must be configured for it.
    type: str
    required: true
    choices: [volumeSnapshot, barmanObjectStore, plugin]
  plugin_configuration:
    description: The Backup's C(spec.pluginConfiguration), for O(method=plugin).
    type: dict
    default: {}
  labels:
    description: Labels of the Backup.
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for the Backup to complete.
    type: int
    default: 1800
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  diff_mode:
    support: full
seealso:
  - module: homelab.mlflow.k8s_apply
"""

EXAMPLES = r"""
- name: Back up the database before the migration
  homelab.mlflow.mlflow_upgrade_backup:
    name: mlflow-postgres-before-mlflow-3-17-2
    namespace: mlflow
    cluster: mlflow-postgres
    release: 3.17.2
    method: volumeSnapshot
    timeout: 1800
"""

RETURN = r"""
action:
  description: What was done (or would be, in check mode) - V(created), V(replaced) (a failed Backup) or V(unchanged).
  returned: always
  type: str
phase:
  description: The Backup's C(status.phase) at the end; empty in check mode for a new Backup.
  returned: always
  type: str
  sample: completed
backup:
  description: The Backup as the API server returned it last, without C(managedFields).
  returned: always
  type: dict
requests:
  description: Requests sent to the API server, by HTTP verb.
  returned: always
  type: dict
  sample: {GET: 3, PATCH: 1}
"""
