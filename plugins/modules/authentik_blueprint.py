#!/usr/bin/python

# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_blueprint
short_description: Manage an Authentik blueprint instance and apply it
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Ensures that a blueprint instance (a C(BlueprintInstance) of Authentik's API) with the given
    content, context and enabled state exists, has Authentik apply it and waits until Authentik
    reports how the apply ended; or removes the instance.
  - Authentik applies blueprints in a background task. The module follows that task and fails
    when the apply ends in any status but C(successful), with the lines Authentik logged for the
    task in the message and in RV(log).
  - Reports a change only when the instance is created, deleted or its content, context or
    enabled state change, or when Authentik had not applied its current content successfully
    (a failed or never finished apply) and this run applied it. A second run with the same
    options reports no change and does not apply again (see O(apply)).
  - The content is stored as YAML in a fixed layout (keys in the order given, block style), so
    the same blueprint compares equal however it was passed.
options:
  name:
    description:
      - Name of the blueprint instance; it identifies the instance in Authentik.
    type: str
    required: true
  content:
    description:
      - The blueprint, as YAML text or as a dictionary (with C(version), C(metadata) and C(entries)).
      - Blueprints that use Authentik's YAML tags (V(!Find), V(!KeyOf), V(!Context), V(!Format), ...)
        must be given as text, for example with P(ansible.builtin.file#lookup) or
        P(ansible.builtin.template#lookup); the tags are kept as written.
      - Authentik validates the content when it is stored, with the context the instance had
        before (none for a new instance); give every V(!Context) key a default in the
        blueprint's own C(context) section.
      - Required when O(state=present).
    type: raw
  context:
    description:
      - Values for the blueprint's V(!Context) tags; they override the defaults in the blueprint's
        own C(context) section.
      - Shown in the diff. Set C(no_log) on the task when the context holds secrets.
    type: dict
    default: {}
  enabled:
    description:
      - Whether Authentik applies the blueprint. A disabled blueprint is stored but never applied.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the instance and applies it, V(absent) deletes it.
      - Deleting an instance leaves the objects it created in Authentik. To remove them, first
        apply a version of the blueprint whose entries have the C(state) V(absent).
    type: str
    choices: [present, absent]
    default: present
  apply:
    description:
      - V(on_change) applies the blueprint when the instance was created or changed, or when
        Authentik has not applied its current content successfully yet.
      - V(always) also applies an unchanged blueprint, which restores objects changed by hand
        in Authentik. Such an apply alone is not reported as a change.
    type: str
    choices: [on_change, always]
    default: on_change
  wait:
    description:
      - Whether to wait for Authentik to finish applying the blueprint and fail when the apply fails.
      - Without waiting, the module returns as soon as Authentik has queued the apply.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the apply to finish before failing.
    type: float
    default: 120
  wait_sleep:
    description:
      - Seconds between two checks of the apply's progress.
    type: float
    default: 1
extends_documentation_fragment:
  - homelab.mlflow.authentik
  - homelab.mlflow.attributes
attributes:
  check_mode:
    details: Reads the instance and reports what would change; writes nothing and applies nothing.
  diff_mode:
    support: full
    details: Shows name, enabled, context and content before and after, as YAML.
notes:
  - Runs on the controller, as an action plugin - Authentik is reached from where ansible-playbook runs, whatever host
    the task targets.
  - The instance is identified by O(name). Authentik also lets an instance read its blueprint from
    a file (C(path)); an instance managed by this module holds its content itself, and the module
    clears C(path) of an existing instance of that name.
  - Needs a token whose user may view, add, change and delete blueprint instances. To report
    Authentik's log lines for a failed apply, it must also be allowed to view tasks; without that
    permission a failed apply is still detected, but its log is not shown.
seealso:
  - name: Authentik blueprints
    description: What a blueprint holds and how Authentik applies it.
    link: https://docs.goauthentik.io/customize/blueprints/
"""

EXAMPLES = r"""
- name: Protect MLflow with an Authentik proxy provider and application
  homelab.mlflow.authentik_blueprint:
    host: https://authentik.example.com
    token: "{{ authentik_token }}"
    name: mlflow
    content: "{{ lookup('ansible.builtin.template', 'mlflow-blueprint.yaml.j2') }}"
    context:
      external_host: https://mlflow.example.com

# host and token from AUTHENTIK_HOST and AUTHENTIK_TOKEN, exported before running ansible-playbook
- name: A blueprint given as a dictionary (no Authentik YAML tags needed)
  homelab.mlflow.authentik_blueprint:
    name: mlflow-group
    content:
      version: 1
      metadata:
        name: mlflow-group
      entries:
        - model: authentik_core.group
          identifiers:
            name: mlflow-users
          attrs:
            name: mlflow-users

- name: Connection options once for every Authentik module of the collection
  module_defaults:
    group/homelab.mlflow.authentik:
      host: https://authentik.example.com
      token: "{{ authentik_token }}"
      ca_path: /etc/ssl/certs/homelab-ca.pem
  block:
    - name: Re-apply the blueprint even if unchanged, restoring objects edited by hand
      homelab.mlflow.authentik_blueprint:
        name: mlflow
        content: "{{ lookup('ansible.builtin.file', 'mlflow-blueprint.yaml') }}"
        apply: always

    - name: Remove a blueprint instance
      homelab.mlflow.authentik_blueprint:
        name: old-blueprint
        state: absent
"""

RETURN = r"""
blueprint:
  description:
    - The blueprint instance after the run; in check mode, as it was before the run.
    - With O(state=absent), the instance that was (or would be) removed.
    - Empty when there was no instance to report.
  returned: always
  type: dict
  contains:
    pk:
      description: The instance's UUID.
      type: str
      sample: 5f1c2a52-3c1e-4b8e-9d57-0c8f9f1b2e6a
    name:
      description: The instance's name.
      type: str
      sample: mlflow
    status:
      description:
        - How Authentik's last apply ended, C(successful), C(warning), C(error), C(orphaned), or
          C(unknown) before the first apply has ended.
      type: str
      sample: successful
    enabled:
      description: Whether Authentik applies the blueprint.
      type: bool
      sample: true
    last_applied:
      description: When Authentik last saved the instance (an apply or an update), ISO 8601.
      type: str
      sample: "2026-05-04T10:11:12.131415+00:00"
    last_applied_hash:
      description: SHA-512 of the content Authentik last applied successfully.
      type: str
      sample: 3bd0f0...
applied:
  description: Whether the run had Authentik apply the blueprint (in check mode, whether it would).
  returned: always
  type: bool
  sample: true
log:
  description:
    - The lines Authentik logged for the apply task, each the log level, a colon and the message.
    - Empty when nothing was applied, nothing was logged or the token may not view tasks.
  returned: always
  type: list
  elements: str
  sample:
    - "warning: Entry invalid: Serializer errors {'mode': ['\"sideways\" is not a valid choice.']}"
    - "error: Blueprint validation failed"
"""
