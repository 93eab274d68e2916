#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_apply
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.2.0
short_description: Apply a role's Kubernetes objects with server-side apply, in one task
description:
  - Renders the role's templates, then applies every object with server-side apply under one field
    manager (forcing conflicts), in order, and deletes the objects listed in O(absent) that exist.
  - Reads what is there with one request per kind and namespace. An object that already holds every
    declared field, and was last declared the same way (the annotation C(homelab.mlflow/declared)
    holds a digest of the declaration; a Secret's values are not part of it), is left alone without
    a further request. Any other object is applied, and the server's answer says whether it changed.
  - Reports C(changed) only when an object changed. In check mode every apply is a server-side dry
    run (C(dryRun=All)); an object whose namespace does not exist yet is reported as to be created.
  - With C(--diff), one diff per changed object, headed by its kind, namespace and name, without
    C(managedFields), status and other server bookkeeping, and with every Secret value hidden (a
    changed one shown as V((hidden, changed\))).
  - A Job that exists is left as it is (its template cannot change); a failed one is deleted and
    created again.
  - Fields left to the cluster are neither applied nor reported as changes - those of the inventory's ignore
    rules (C(homelab_mlflow_ignore_rules)) and of O(ignore), and those the field managers of
    C(homelab_mlflow_field_managers) own. Such a field is left out of what is applied where it differs
    from the declaration (so that the apply does not take it back), or, where the collection's field
    manager still owns it, applied as the cluster holds it. An object that does not exist yet is made as
    declared. C(docs/drift.md) describes the rules.
  - The rules are checked before any request; with no object to apply or remove, they are only checked and
    the cluster is not contacted (C(playbooks/drift.yml) does so before anything else).
options:
  templates:
    description:
      - Templates of the role (its C(templates/) folder), rendered with the task's variables. A
        template may hold several YAML documents; empty documents are skipped, so a template can
        leave an optional object out.
    type: list
    elements: str
    default: []
  definitions:
    description: Further objects, as mappings or YAML text, applied after those of O(templates).
    type: list
    elements: raw
    default: []
  absent:
    description:
      - Objects to delete when they exist (C(apiVersion), C(kind), C(metadata.name), optionally
        C(metadata.namespace)), such as those of an option that was switched off.
      - A kind the cluster does not serve has no objects, and is skipped.
    type: list
    elements: dict
    default: []
  prune:
    description:
      - The set's own objects - those of O(prune.kinds) in O(namespace) that carry every one of
        O(prune.labels) and that the set does not declare - are deleted, after every declared object is
        applied (so that, for example, a switch from one kind of policy to another never leaves a gap).
      - Objects without all of the labels are never touched.
    type: dict
    suboptions:
      labels:
        description: The labels every object of the set carries; at least one.
        type: dict
        required: true
      kinds:
        description:
          - The kinds to prune, each with C(api_version) and C(kind) (further keys are ignored).
          - Kinds the cluster does not serve are skipped.
        type: list
        elements: dict
        required: true
  known:
    description:
      - Objects as an earlier task of the same run read them (the C(resources) of
        M(homelab.mlflow.role_preflight)), taken as what is there instead of reading them again.
      - Secrets are always read (a result hides their values), and so is every object not among these.
    type: list
    elements: dict
    default: []
  namespace:
    description: The namespace of namespaced objects that do not name one.
    type: str
  ignore:
    description:
      - Ignore rules of the task itself, on top of the inventory's C(homelab_mlflow_ignore_rules), in the same form -
        for example the Deployment's C(spec.replicas) when an autoscaler owns it.
      - Each rule has C(kind), C(json_pointers) (RFC 6901; a list entry named by its key, C(name=mlflow)), and
        optionally C(name), C(labels), C(role) and C(description).
    type: list
    elements: raw
    default: []
  field_manager:
    description: The field manager of the server-side apply.
    type: str
    default: homelab.mlflow
  wait:
    description:
      - Objects of the set to wait for after applying (not in check mode), each with C(kind),
        C(name) and C(condition) - one of V(exists), V(complete) (a Job; a failed Job fails at once),
        V(rolled_out) (a Deployment), V(bound) (a PersistentVolumeClaim), V(healthy) (a CloudNativePG
        Cluster), V(ready_condition) (a C(Ready) condition).
    type: list
    elements: dict
    default: []
  wait_timeout:
    description: Seconds to wait for O(wait).
    type: int
    default: 300
  msg:
    description: A sentence put before the failure message of O(wait), saying what the wait was for and what to look at.
    type: str
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  diff_mode:
    support: full
seealso:
  - module: homelab.mlflow.k8s_verify
  - module: homelab.mlflow.k8s_cluster_info
"""

EXAMPLES = r"""
- name: Apply MLflow's objects
  homelab.mlflow.k8s_apply:
    namespace: "{{ mlflow_namespace }}"
    templates: [serviceaccount.yaml.j2, service.yaml.j2, deployment.yaml.j2]
    absent:
      - {apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: mlflow}}
  register: applied

- name: Run the schema migration to completion
  homelab.mlflow.k8s_apply:
    namespace: "{{ mlflow_namespace }}"
    templates: [db-upgrade-job.yaml.j2]
    wait:
      - {kind: Job, name: mlflow-db-upgrade-3-7-0, condition: complete}
    wait_timeout: 600
"""

RETURN = r"""
objects:
  description: What was done (or, in check mode, would be done) to each object, in order.
  returned: always
  type: list
  elements: dict
  contains:
    api_version: {description: The object's apiVersion., type: str, returned: always}
    kind: {description: Its kind., type: str, returned: always}
    namespace: {description: Its namespace (not for cluster-scoped kinds)., type: str, returned: when namespaced}
    name: {description: Its name., type: str, returned: always}
    action:
      description: V(created), V(updated), V(replaced), V(unchanged), V(deleted) or V(absent).
      type: str
      returned: always
    changed: {description: Whether the object changed., type: bool, returned: always}
    fields:
      description:
        - The fields that changed, each with C(path), C(change) (V(missing), V(unexpected) or
          V(changed)), C(expected) and C(found) - for a Secret only C(redacted), never a value.
      type: list
      elements: dict
      returned: always
    note: {description: Why an object was treated specially., type: str, returned: when there is one}
    ignored:
      description:
        - The differences left to the cluster, as C(fields) with C(ignored_by) (the rule and pointer, or
          the field manager).
      type: list
      elements: dict
      returned: when there are some
    rules_matched:
      description: The ignore rules that selected the object and named one of its fields.
      type: list
      elements: str
      returned: when there are some
ignore_rules:
  description: The inventory's ignore rules (C(homelab_mlflow_ignore_rules)), validated, each named by C(rule).
  returned: always
  type: list
  elements: dict
resources:
  description: The objects as the server returned them (status included, Secret values hidden).
  returned: success
  type: list
  elements: dict
waited:
  description: The state of each object of O(wait) (C(state) V(ready), V(waiting) or V(failed), C(reason)).
  returned: when O(wait) is set and not in check mode
  type: list
  elements: dict
waited_seconds:
  description: Seconds spent waiting for O(wait).
  returned: when O(wait) is set and not in check mode
  type: float
error:
  description: The object the server refused, its HTTP status, reason, message and details.
  returned: failure
  type: dict
requests:
  description: The requests the task sent, by HTTP method.
  returned: success
  type: dict
"""
