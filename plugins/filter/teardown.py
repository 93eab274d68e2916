# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of playbooks/teardown.yml: the kinds the roles apply, and what to delete and keep."""

from __future__ import annotations

DOCUMENTATION = r"""
name: teardown_plan
short_description: Split a deployment's live objects into those to delete and those to keep
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Of objects labelled C(app.kubernetes.io/managed-by=homelab.mlflow) and applied by the field manager
    C(homelab.mlflow), those without an owner are deleted; the data (PersistentVolumeClaim, CloudNativePG
    Cluster and ScheduledBackup, OnePasswordItem, and the Secrets a Cluster reads or named in O(kept_secrets))
    are kept unless O(delete_data).
  - The same file has two more filters for playbooks/teardown.yml, C(teardown_kinds) (the kinds, as
    C(api_version) and C(kind), that templates render literally and the cluster serves, from the templates'
    texts and the C(apis) of M(kubernetes.core.k8s_cluster_info)) and C(recurring_job_names) (the Longhorn
    RecurringJobs an artifacts claim is labelled with plus the configured ones, from the claims, the prefix
    and C(storage_recurring_jobs)).
  - The rules are in the module_utils C(teardown), with unit tests.
options:
  _input:
    description: The live objects.
    type: list
    elements: dict
    required: true
  namespace:
    description: Only objects in this namespace.
    type: str
  names:
    description: Only objects of these names.
    type: list
    elements: str
  delete_data:
    description: Delete the data too.
    type: bool
    default: false
  kept_secrets:
    description: Further Secrets that are data.
    type: list
    elements: str
"""

RETURN = r"""
_value:
  description: C(delete) and C(keep) (object references, in deletion order) and their names.
  type: dict
"""

from ansible_collections.homelab.mlflow.plugins.module_utils.teardown import (
    plan,
    recurring_job_names,
    served_kinds,
    template_kinds,
)


def teardown_plan(objects, namespace=None, names=None, delete_data=False, kept_secrets=()):
    return plan(objects, namespace=namespace, names=names, delete_data=delete_data, kept_secrets=kept_secrets)


def teardown_kinds(texts, apis, namespaced=True):
    """The kinds the templates `texts` render that the cluster (`apis` of k8s_cluster_info) serves."""
    return served_kinds(template_kinds(texts), apis, namespaced=namespaced)


class FilterModule:
    def filters(self):
        return {
            "teardown_plan": teardown_plan,
            "teardown_kinds": teardown_kinds,
            "recurring_job_names": recurring_job_names,
        }
